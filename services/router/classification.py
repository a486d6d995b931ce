"""A first classifier: weighted keywords per category and an emergency lexicon, over text already
normalised to Simplified Chinese. Pure; the router issue replaces the matching with a stronger model
behind the same ``classify`` signature."""
from __future__ import annotations

from dataclasses import dataclass, field

KEYWORDS: dict[str, tuple[str, ...]] = {
    "sanitation": ("垃圾", "臭", "异味", "蟑螂", "老鼠", "苍蝇", "蚊子", "清运", "脏", "粪便", "垃圾桶", "污水"),
    "facility": ("路灯", "灯不亮", "灯坏", "楼道灯", "门禁", "单元门", "电梯", "健身器材", "座椅", "信报箱",
                 "扶手", "声控灯", "对讲"),
    "utility": ("停水", "没水", "水压", "停电", "没电", "燃气", "暖气", "供暖", "不热", "水管", "自来水",
                "电表", "热力", "天然气"),
    "safety": ("消防通道", "堆物", "飞线", "充电", "电动车", "电瓶车", "高空抛物", "井盖", "脱落", "灭火器",
               "电线老化", "隐患", "煤气味"),
    "security": ("偷", "被盗", "盗窃", "打架", "斗殴", "诈骗", "可疑", "陌生人", "撬锁", "抢劫", "小偷"),
    "dispute": ("噪音", "吵", "扰民", "楼上漏水", "邻居", "纠纷", "装修", "吵架", "矛盾"),
    "special": ("独居老人", "残疾", "困难家庭", "低保", "孤寡", "没人照顾", "空巢", "行动不便"),
    "service": ("证明", "养老金", "补贴", "代办", "社保", "医保", "居住证", "办理", "手续"),
    "construction": ("违建", "私搭乱建", "搭建", "占用绿地", "违章", "加盖", "圈地", "违法建设"),
    "parking": ("停车", "车位", "占道", "乱停", "僵尸车", "堵车", "挡路", "堵住"),
    "property": ("物业", "物业费", "业委会", "业主委员会", "保安"),
    "greenery": ("绿化", "树木", "修剪", "草坪", "树枝", "枯树", "花坛"),
    "civility": ("小广告", "遛狗", "狗屎", "狗粪", "不文明", "乱贴", "乱涂乱画", "随地吐痰", "拴绳"),
    "info": ("登记", "租户", "出租", "户籍", "人口信息", "租房"),
}
EMERGENCY = ("着火", "起火", "火灾", "冒烟", "燃气泄漏", "煤气泄漏", "被困", "困在电梯", "晕倒", "昏迷",
             "触电", "坍塌", "塌了", "爆炸", "溺水", "持刀", "流血", "救命", "跳楼")
COORDINATION_CATEGORIES = frozenset(
    {"utility", "security", "dispute", "property", "construction", "parking", "special", "service", "info",
     "safety"})
HINT_WEIGHT = 1.5


@dataclass(frozen=True)
class Classification:
    category: str
    tier: str
    confidence: float
    explanation: dict = field(default_factory=dict)


def classify(text: str, hint: str | None = None) -> Classification:
    scores: dict[str, float] = {}
    matched: dict[str, list[str]] = {}
    for category, words in KEYWORDS.items():
        hits = [w for w in words if w in text]
        if hits:
            scores[category] = sum(len(w) for w in hits)
            matched[category] = hits
    if hint in KEYWORDS:
        scores[hint] = scores.get(hint, 0) + HINT_WEIGHT
    emergency_hits = [w for w in EMERGENCY if w in text]
    if not scores:
        category, confidence = "other", 0.2
    else:
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        category, best = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        confidence = round(min(0.99, best / (best + runner_up + 1.0) + 0.2), 2)
    if emergency_hits:
        tier = "emergency"
        if category == "other":
            category = "safety"
        confidence = max(confidence, 0.9)
    elif category in COORDINATION_CATEGORIES:
        tier = "coordination"
    else:
        tier = "general"
    explanation = {"matched": matched.get(category, []), "emergency_terms": emergency_hits,
                   "hint": hint, "hint_agreed": hint == category if hint else None,
                   "scores": {k: round(v, 2) for k, v in sorted(scores.items(), key=lambda i: -i[1])[:3]},
                   "method": "keywords-v1"}
    return Classification(category, tier, confidence, explanation)
