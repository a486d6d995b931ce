"""Open311 GeoReport v2: the service catalogue, how a case reads as a service request (with no personal
data), and the XML form of every answer. Standard library only; docs/open311.md documents the mapping."""
from __future__ import annotations

import re
from xml.etree import ElementTree

from services.intake.plain_language import LEVEL_NAMES, state_text

# category code -> (service_name, group, keywords, description)
SERVICES = {
    "sanitation": ("环境卫生", "环境", "垃圾,异味,蚊虫,保洁", "rubbish, smells, pests"),
    "facility": ("公共设施", "设施", "路灯,楼道灯,门禁,电梯,健身器材", "lights, doors, access control, elevators"),
    "utility": ("水电气暖", "设施", "停水,停电,燃气,供暖", "water, power, gas supply, heating"),
    "safety": ("安全隐患", "安全", "消防通道,电动车充电,燃气泄漏,高空坠物,井盖", "fire passages, e-bikes, gas, covers"),
    "security": ("社会治安", "安全", "盗窃,打架,诈骗,可疑人员", "theft, fights, fraud, suspicious people"),
    "dispute": ("矛盾纠纷", "邻里", "噪音,漏水,邻里纠纷", "noise, leaks between flats, neighbours"),
    "special": ("特殊群体", "民生", "独居老人,残疾人,困难家庭", "elderly living alone, disabled, hardship"),
    "service": ("公共服务代办", "民生", "证明,养老金,补贴", "certificates, pensions, subsidies"),
    "construction": ("违章建设", "城管", "违建,占绿", "illegal structures, occupied green space"),
    "parking": ("停车交通", "城管", "停车,占道", "parking and traffic"),
    "property": ("物业服务", "物业", "物业费,业委会", "property company, fees, owners' committee"),
    "greenery": ("绿化", "环境", "树木,草坪", "trees and lawns"),
    "civility": ("文明创建", "环境", "小广告,遛狗,不文明行为", "posters, dog fouling, uncivil behaviour"),
    "info": ("信息采集", "民生", "户籍,出租登记", "household and rental registration"),
    "other": ("其他", "其他", "其他", "anything else"),
}
# Extra questions some categories ask (Open311 "attributes"); answers are added to the description.
FLOOR = {"variable": True, "code": "floor", "datatype": "number", "required": False, "order": 1,
         "datatype_description": "楼层（数字）", "description": "在几楼？", "values": []}
IN_DANGER = {"variable": True, "code": "in_danger", "datatype": "singlevaluelist", "required": True, "order": 1,
             "datatype_description": "yes 或 no", "description": "现在是否有人身危险？",
             "values": [{"key": "yes", "name": "是，有危险"}, {"key": "no", "name": "否"}]}
ATTRIBUTES = {"facility": [FLOOR], "utility": [FLOOR], "dispute": [FLOOR], "safety": [IN_DANGER]}
CLOSED_STATES = ("resolved", "verified", "closed", "withdrawn", "rejected", "merged")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(\+?\d[\d -]{5,}\d)(?!\d)")


def service_list() -> list[dict]:
    return [{"service_code": code, "service_name": name, "description": description,
             "metadata": code in ATTRIBUTES, "type": "realtime", "keywords": keywords, "group": group}
            for code, (name, group, keywords, description) in SERVICES.items()]


def service_definition(code: str) -> dict:
    return {"service_code": code, "attributes": ATTRIBUTES.get(code, [])}


def attribute_lines(code: str, answers: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Plain lines for the description, and errors by attribute code."""
    lines, errors = [], {}
    for attribute in ATTRIBUTES.get(code, []):
        value = answers.get(attribute["code"], "").strip()
        if not value:
            if attribute["required"]:
                errors[attribute["code"]] = "required"
            continue
        if attribute["datatype"] == "number" and not re.fullmatch(r"-?\d{1,3}", value):
            errors[attribute["code"]] = "must be a whole number"
        elif attribute["values"] and value not in {v["key"] for v in attribute["values"]}:
            errors[attribute["code"]] = f"must be one of {', '.join(v['key'] for v in attribute['values'])}"
        elif attribute["code"] == "floor":
            lines.append(f"（{value}楼）")
        elif attribute["code"] == "in_danger" and value == "yes":
            lines.append("（现场有人身危险，紧急）")
    return lines, errors


def mask_phones(text: str) -> str:
    def masked(match: re.Match) -> str:
        digits = match.group(1)
        return digits[:3] + "*" * (len(digits) - 5) + digits[-2:] if len(digits) >= 7 else digits
    return _PHONE_IN_TEXT.sub(masked, text)


def service_request(report: dict, case: dict | None, building: dict | None, owner_unit: dict | None) -> dict:
    """A case as the spec's service request: no reporter, no place finer than the building."""
    data = report["event"]["data"]
    state = (case or {}).get("state", "reported")
    category = (case or {}).get("category") or data.get("category_hint") or "other"
    owner = (case or {}).get("owner") or {}
    agency = LEVEL_NAMES.get(owner.get("level", ""), "")
    if agency and owner_unit:
        name = owner_unit["name"]
        agency = name if name.endswith(agency) else f"{name}{agency}"
    timeline = (case or {}).get("timeline") or []
    return {
        "service_request_id": report["_id"],
        "status": "closed" if state in CLOSED_STATES else "open",
        "status_notes": state_text(case or {}, unknown=""),
        "service_name": SERVICES.get(category, SERVICES["other"])[0],
        "service_code": category,
        "description": mask_phones(data["text"]),
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": data["reported_at"],
        "updated_datetime": timeline[-1]["time"] if timeline else data["reported_at"],
        "expected_datetime": (case or {}).get("resolve_due") or "",
        "address": (building or {}).get("address") or (building or {}).get("name", ""),
        "address_id": (building or {}).get("code", ""),
        "zipcode": "",
        "lat": None,
        "long": None,
        "media_url": report.get("media_url", ""),
    }


# --- XML -----------------------------------------------------------------------------------------

def to_xml(root: str, item: str, rows: list[dict] | dict) -> bytes:
    """The spec's XML: ``root`` holding one ``item`` element per row (or one object when rows is a dict)."""
    top = ElementTree.Element(root)
    if isinstance(rows, dict):
        _fill(top, rows)
    else:
        for row in rows:
            _fill(ElementTree.SubElement(top, item), row)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(top, encoding="unicode").encode()


_LIST_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _fill(element: ElementTree.Element, row: dict) -> None:
    for key, value in row.items():
        child = ElementTree.SubElement(element, key)
        if isinstance(value, list):
            for entry in value:
                if isinstance(entry, dict):
                    _fill(ElementTree.SubElement(child, _LIST_ITEMS.get(key, "item")), entry)
                else:
                    ElementTree.SubElement(child, _LIST_ITEMS.get(key, "item")).text = str(entry)
        elif isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)
