"""The notifier's pure rules: backoff, quiet hours, routing lookups, templates and masking, signatures."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from services.notifier import messages
from services.notifier.channels.dingtalk_robot import dingtalk_sign
from services.notifier.channels.signed_webhook import webhook_signature
from services.notifier.domain import QuietHours, RetryPolicy, parse_chain, parse_stamp, stamp
from services.notifier.routing import Routing

SHANGHAI = ZoneInfo("Asia/Shanghai")
STEWARD = {"id": "U1/unit_steward", "name": "李娜", "role": "unit_steward", "org_code": "U1", "level": "unit"}
SECRETARY = {"id": "C1/community_secretary", "name": "王芳", "role": "community_secretary", "org_code": "C1",
             "level": "community"}
WATER = {"id": "water/department", "name": "自来水公司", "role": "water_company", "org_code": "water",
         "level": "department"}


def test_backoff_doubles_up_to_its_cap_and_jitters_within_bounds():
    policy = RetryPolicy(attempts=6, base_s=10, max_s=60, jitter=0.5)
    assert [policy.delay_s(n, 0.5) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert policy.delay_s(1, 0.0) == 5 and policy.delay_s(1, 0.999) == pytest.approx(14.99)


def test_quiet_hours_wrap_past_midnight_and_end_at_their_end():
    quiet = QuietHours.parse("22:00-07:00")
    late = datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI)
    assert quiet.contains(late) and quiet.contains(late.replace(hour=6, minute=59))
    assert not quiet.contains(late.replace(hour=7)) and not quiet.contains(late.replace(hour=21, minute=59))
    assert quiet.ends_after(late) == datetime(2026, 12, 1, 7, 0, tzinfo=SHANGHAI)
    assert QuietHours.parse(None) is None
    with pytest.raises(ValueError):
        QuietHours.parse("late")


def test_stamps_sort_as_times_do():
    early = datetime(2026, 11, 30, 1, 2, 3, tzinfo=timezone.utc)
    later = datetime(2026, 11, 30, 1, 2, 3, 500, tzinfo=timezone.utc)
    assert stamp(early) < stamp(later) and parse_stamp(stamp(later)) == later


def test_routing_picks_the_most_specific_rule_and_parses_chains():
    routing = Routing.from_mapping({"channels": {"CaseAssigned": {"unit_steward": ["sms>email", "inbox"]},
                                                 "*": {"department": ["webhook"]}}})
    assert parse_chain("sms > email>inbox") == ["sms", "email", "inbox"]
    assert routing.chains_for("CaseAssigned", STEWARD) == [["sms", "email"], ["inbox"]]
    assert routing.chains_for("CaseInformed", STEWARD) == [["inbox"], ["sms", "email"]]  # the default
    assert routing.chains_for("CaseAssigned", WATER) == [["webhook"]]  # matched by its level
    assert routing.chains_for("SlaBreached", SECRETARY)[1] == ["wecom", "dingtalk", "sms", "email"]
    assert routing.quiet_hours_for(STEWARD) == QuietHours.parse("22:00-07:00")
    assert routing.quiet_hours_for(WATER) is None


def test_a_bad_routing_file_fails_at_start(tmp_path):
    with pytest.raises(ValueError):
        Routing.from_mapping({"chanels": {}})
    with pytest.raises(ValueError):
        Routing.from_mapping({"quiet_hours": {"*": "all night"}})
    path = tmp_path / "routing.yaml"
    path.write_text("language: en\nunmasked_roles: [community_secretary]\n", encoding="utf-8")
    routing = Routing.load(str(path))
    assert routing.language == "en" and routing.unmasked_for(SECRETARY) and not routing.unmasked_for(STEWARD)


def test_templates_in_chinese_and_english_with_the_case_essentials():
    facts = {"case_id": "GD-1", "name": "李娜", "category": "facility", "tier": "emergency", "summary": "灯坏了",
             "link": "http://t/api/v1/cases/GD-1", "urgent": messages.urgent_mark("zh"), "reporter": ""}
    subject, text = messages.render("CaseAssigned", "zh", facts)
    assert subject == "新案件GD-1" and text.startswith("【紧急】") and "公共设施" in text and "突发性" in text
    assert "http://t/api/v1/cases/GD-1" in text
    _, english = messages.render("CaseAssigned", "en", {**facts, "urgent": messages.urgent_mark("en")})
    assert english.startswith("[URGENT]") and "facility" in english and "emergency" in english


def test_residents_are_masked_unless_the_role_needs_them():
    reporter = {"name": "张三丰", "phone": "13800001111"}
    assert messages.reporter_line("zh", reporter, unmasked=False) == " 反映人：张** 138****1111。"
    assert "张三丰 13800001111" in messages.reporter_line("zh", reporter, unmasked=True)
    assert messages.reporter_line("zh", {"name": "", "phone": ""}, unmasked=False) == ""
    assert messages.mask_phone("123") == "***"


def test_signatures_match_the_published_algorithms():
    # DingTalk: base64(HMAC-SHA256(secret, "timestamp\nsecret")), URL-encoded
    assert dingtalk_sign("SEC123", 1700000000000) == "lkcPI1uoxBY1gUnCnnPH1Kkru0Hqjo7rFpA3haIVhEQ%3D"
    assert webhook_signature("s", "1700000000", b"{}") == (
        "sha256=e9232c9945da8456c2dea6b39da7786c07b00bca7a64d5dd1283674713a7b72a")
