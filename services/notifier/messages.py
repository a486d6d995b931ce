"""Message texts, Chinese by default. Standard library only."""
from __future__ import annotations

CATEGORY_LABELS = {
    "sanitation": "环境卫生", "facility": "公共设施", "utility": "水电气暖", "safety": "安全隐患",
    "security": "社会治安", "dispute": "矛盾纠纷", "special": "特殊群体", "service": "公共服务代办",
    "construction": "违章建设", "parking": "停车交通", "property": "物业服务", "greenery": "绿化",
    "civility": "文明创建", "info": "信息采集", "other": "其他",
}
TIER_LABELS = {"general": "一般性", "coordination": "协调性", "concentrated": "集中突出", "emergency": "突发性"}


def assignment_message(case_id: str, assigned: dict, link: str) -> str:
    urgent = "【紧急】" if assigned["tier"] == "emergency" else ""
    return (f"{urgent}【网格通】{assigned['assignee']['name']}您好，新案件{case_id}"
            f"（{CATEGORY_LABELS.get(assigned['category'], assigned['category'])}，"
            f"{TIER_LABELS.get(assigned['tier'], assigned['tier'])}）已派给您：{assigned.get('summary', '')}"
            f" 请及时受理。详情：{link}")
