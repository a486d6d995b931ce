"""Message texts from templates, per event type (and tier), Chinese by default, English available.
Residents' names and phone numbers are masked unless the recipient's role needs them. Standard library only."""
from __future__ import annotations

CATEGORY_LABELS = {
    "sanitation": "环境卫生", "facility": "公共设施", "utility": "水电气暖", "safety": "安全隐患",
    "security": "社会治安", "dispute": "矛盾纠纷", "special": "特殊群体", "service": "公共服务代办",
    "construction": "违章建设", "parking": "停车交通", "property": "物业服务", "greenery": "绿化",
    "civility": "文明创建", "info": "信息采集", "other": "其他",
}
TIER_LABELS = {"general": "一般性", "coordination": "协调性", "concentrated": "集中突出", "emergency": "突发性"}
DEADLINE_LABELS = {"acknowledge": "受理", "resolve": "办结"}
LEVEL_LABELS = {"unit": "单元", "building": "楼栋", "grid": "网格", "compound": "小区", "branch": "小区党支部",
                "community": "社区", "street": "街道", "district": "区指挥中心", "department": "职能部门"}
LANGUAGES = ("zh", "en")

# kind -> language -> (subject, text); placeholders are filled from the facts of the event
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "CaseAssigned": {
        "zh": ("新案件{case_id}", "{urgent}【网格通】{name}您好，新案件{case_id}（{category}，{tier}）已派给您：{summary}"
                                 "{reporter} 请及时受理。详情：{link}"),
        "en": ("New case {case_id}", "{urgent}[griddesk] {name}, case {case_id} ({category}, {tier}) is assigned "
                                     "to you: {summary}{reporter} Please acknowledge. Details: {link}"),
    },
    "CaseInformed": {
        "zh": ("案件{case_id}知会", "【网格通】{name}您好，案件{case_id}请您知悉：{reason}。详情：{link}"),
        "en": ("For your information: {case_id}", "[griddesk] {name}, for your information, case {case_id}: "
                                                  "{reason}. Details: {link}"),
    },
    "CaseEscalated": {
        "zh": ("案件{case_id}已升级", "【网格通】{name}您好，案件{case_id}已由{from_level}升级至{to_level}：{reason}。"
                                   "详情：{link}"),
        "en": ("Case {case_id} escalated", "[griddesk] {name}, case {case_id} moved from {from_level} to "
                                           "{to_level}: {reason}. Details: {link}"),
    },
    "SlaWarning": {
        "zh": ("案件{case_id}即将超时", "【网格通】{name}您好，案件{case_id}的{deadline}时限{due}即将到期，请尽快处理。"
                                     "详情：{link}"),
        "en": ("Case {case_id} is nearly due", "[griddesk] {name}, the {deadline} deadline of case {case_id} "
                                               "({due}) is near. Details: {link}"),
    },
    "SlaBreached": {
        "zh": ("案件{case_id}已超时", "【网格通】【督办】{name}您好，案件{case_id}的{deadline}时限{due}已过，"
                                   "请立即处理。详情：{link}"),
        "en": ("Case {case_id} is overdue", "[griddesk] {name}, the {deadline} deadline of case {case_id} "
                                            "({due}) has passed. Details: {link}"),
    },
    "DeliberationRequested": {
        "zh": ("议事提醒：{compound_name}", "【网格通】{name}您好，{compound_name}有{count}位居民反映同类问题（{case_id}等），"
                                       "请召集居民议事园协商：{reason}。详情：{link}"),
        "en": ("Deliberation forum: {compound_name}", "[griddesk] {name}, {count} cases from {compound_name} "
                                                      "(incl. {case_id}) call for the residents' deliberation "
                                                      "forum: {reason}. Details: {link}"),
    },
    "CaseClosed": {
        "zh": ("您反映的问题已办结", "【网格通】您反映的问题（{case_id}）已办结，感谢您的支持。"),
        "en": ("Your report is closed", "[griddesk] Your report {case_id} has been dealt with and closed. Thank you."),
    },
    "DailyDigest": {
        "zh": ("{org_name}每日案件汇总", "【网格通】{name}您好，{org_name}{date}案件汇总：新增{new}件，超时未办{overdue}件，"
                                     "当日超时{breached}件，办结{resolved}件。"),
        "en": ("Daily digest for {org_name}", "[griddesk] {name}, {org_name} on {date}: {new} new, {overdue} "
                                              "overdue, {breached} breached today, {resolved} resolved."),
    },
    "WeeklyDigest": {
        "zh": ("{org_name}每周案件汇总", "【网格通】{name}您好，{org_name}本周（截至{date}）案件汇总：新增{new}件，超时未办"
                                     "{overdue}件，本周超时{breached}件，办结{resolved}件。"),
        "en": ("Weekly digest for {org_name}", "[griddesk] {name}, {org_name}, week to {date}: {new} new, "
                                               "{overdue} overdue, {breached} breached, {resolved} resolved."),
    },
    "MeetingReminder": {
        "zh": ("四位一体联席会议提醒", "【网格通】{name}您好，本季度（{quarter}）的“四位一体”联席会议（社区警务室、"
                                  "业主委员会、物业服务企业）请于季度内召开并登记。"),
        "en": ("Four-in-one joint meeting", "[griddesk] {name}, please hold this quarter's ({quarter}) four-in-one "
                                            "joint meeting with the police office, owners' committee and property company."),
    },
    "VisitReminder": {
        "zh": ("入户走访提醒", "【网格通】{name}您好，{month}月入户走访已开始，请按要求完成本月走访天数并记录民情日记。"),
        "en": ("Monthly visits", "[griddesk] {name}, month {month} has begun: please complete this month's "
                                 "door-to-door visit days and keep the visit diary."),
    },
}
URGENT_MARK = {"zh": "【紧急】", "en": "[URGENT] "}
REPEAT_MARK = {"zh": "【第{n}次通知，请立即确认】", "en": "[notice {n}, acknowledge now] "}  # n counts the first send
REPORTER_LINE = {"zh": " 反映人：{name} {phone}。", "en": " Reported by {name} {phone}."}
QUIET_DIGEST = {"zh": ("夜间消息汇总（{n}条）", "【网格通】以下{n}条消息在免打扰时段内送达：\n{items}"),
                "en": ("{n} messages held overnight", "[griddesk] {n} messages arrived during quiet hours:\n{items}")}


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(kind: str, language: str, facts: dict) -> tuple[str, str]:
    """(subject, text) of a message of ``kind`` in ``language`` (Chinese when unknown)."""
    subject, text = TEMPLATES[kind].get(language) or TEMPLATES[kind]["zh"]
    values = _Lenient(facts)
    if language == "zh":
        values["category"] = CATEGORY_LABELS.get(facts.get("category", ""), facts.get("category", ""))
        values["tier"] = TIER_LABELS.get(facts.get("tier", ""), facts.get("tier", ""))
        values["deadline"] = DEADLINE_LABELS.get(facts.get("deadline", ""), facts.get("deadline", ""))
        for key in ("from_level", "to_level"):
            values[key] = LEVEL_LABELS.get(facts.get(key, ""), facts.get(key, ""))
    return subject.format_map(values), text.format_map(values)


def urgent_mark(language: str) -> str:
    return URGENT_MARK.get(language, URGENT_MARK["zh"])


def repeat_mark(language: str, n: int) -> str:
    return REPEAT_MARK.get(language, REPEAT_MARK["zh"]).format(n=n)


def reporter_line(language: str, reporter: dict | None, *, unmasked: bool) -> str:
    if not reporter or not (reporter.get("name") or reporter.get("phone")):
        return ""
    name, phone = reporter.get("name", ""), reporter.get("phone", "")
    if not unmasked:
        name, phone = mask_name(name), mask_phone(phone)
    return REPORTER_LINE.get(language, REPORTER_LINE["zh"]).format(name=name, phone=phone)


def quiet_digest(language: str, texts: list[str]) -> tuple[str, str]:
    subject, text = QUIET_DIGEST.get(language) or QUIET_DIGEST["zh"]
    items = "\n".join(f"{i}. {t}" for i, t in enumerate(texts, start=1))
    return subject.format(n=len(texts)), text.format(n=len(texts), items=items)


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the surname stays so a handler can address the resident politely."""
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else name


def mask_phone(phone: str) -> str:
    """13800001111 → 138****1111."""
    digits = phone.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "*" * len(digits)


def assignment_message(case_id: str, assigned: dict, link: str) -> str:
    """The foundation's inbox text for an assignment (kept for callers of the first version)."""
    facts = {"case_id": case_id, "name": assigned["assignee"]["name"], "category": assigned["category"],
             "tier": assigned["tier"], "summary": assigned.get("summary", ""), "link": link,
             "urgent": urgent_mark("zh") if assigned["tier"] == "emergency" else ""}
    return render("CaseAssigned", "zh", facts)[1]
