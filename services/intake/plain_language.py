"""What a resident reads when following up a case: its state and a timeline in plain words, with
nobody's name or phone number (only the level that holds the case). Standard library only."""
from __future__ import annotations

LEVEL_NAMES = {
    "unit": "单元管家", "building": "楼栋长", "grid": "网格员", "compound": "物业", "branch": "小区党支部",
    "community": "社区", "street": "街道", "district": "区指挥中心", "department": "职能部门",
}
STATE_TEXT = {
    "reported": "已受理，正在分派", "assigned": "已分派，等待处理人签收", "acknowledged": "处理人已签收",
    "in_progress": "正在处理", "returned": "正在重新分派", "reopened": "正在返工处理",
    "waiting_for_resident": "需要您的配合，请回复处理人",
    "resolved": "已处理完毕，等待核查", "verified": "处理结果已核查", "closed": "已办结",
    "withdrawn": "您已撤回", "rejected": "不予受理", "merged": "已与同一问题的其他反映合并处理",
}
EVENT_TEXT = {
    "CaseReported": "收到您的反映", "CaseAssigned": "交由{level}处理", "CaseEscalated": "上报至{level}处理",
    "CaseAcknowledged": "{level}已签收", "CaseStarted": "{level}开始处理", "ProgressNoted": "{level}更新了处理进展",
    "PartyMembersCalled": "{level}召集党员到场（吹哨报到）", "ArrivedOnSite": "{level}已到达现场",
    "ExtensionRequested": "{level}申请延期", "ExtensionDecided": "延期申请已审批",
    "CaseAwaitingResident": "{level}需要您的配合", "CaseResumed": "继续处理",
    "CaseReturned": "重新分派中", "CaseReclassified": "问题类别已更正", "CaseResolved": "{level}已处理完毕",
    "CaseVerified": "处理结果已核查", "CaseClosed": "已办结", "FeedbackGiven": "收到您的评价",
    "CaseReopened": "重新处理（返工）", "CaseWithdrawn": "您已撤回反映", "CaseRejected": "不予受理",
    "CaseMerged": "与同一问题的其他反映合并处理", "DuplicateMerged": "与同一问题的其他反映合并处理",
}


def state_text(case: dict, unknown: str = "处理中") -> str:
    """The state in plain words; a merged case names the case its reporter can follow instead."""
    text = STATE_TEXT.get(case.get("state", "reported"), unknown)
    return f"{text}（请查看案件{case['merged_into']}）" if case.get("state") == "merged" and case.get("merged_into") \
        else text


def follow_up(case: dict) -> dict:
    timeline = [{"time": entry["time"],
                 "text": EVENT_TEXT.get(entry["type"], "处理中").format(
                     level=LEVEL_NAMES.get(entry.get("level", ""), "处理人"))}
                for entry in case["timeline"]]
    return {"case_id": case["_id"], "state": case["state"],
            "state_text": state_text(case), "merged_into": case.get("merged_into"), "timeline": timeline,
            "can_give_feedback": case["state"] in ("resolved", "verified", "closed")
                                 and case["feedback_given"] < case["feedback_round"],
            # what the handler needs from the resident (their own words to the resident), while the case waits
            "awaiting_you": ({"reason": case["awaiting"]["reason"], "since": case["awaiting"]["since"]}
                             if case["state"] == "waiting_for_resident" and case.get("awaiting") else None)}
