import pytest

from services.router.classification import classify
from services.router.normalise import to_simplified


@pytest.mark.parametrize("text, category, tier", [
    ("3号楼楼道灯坏了好几天了", "facility", "general"),
    ("小区垃圾好几天没人清运，臭死了", "sanitation", "general"),
    ("楼上装修噪音太大，天天扰民", "dispute", "coordination"),
    ("地下室着火了，有浓烟冒出来", "safety", "emergency"),
    ("電梯困人了，有人被困在電梯裡", "facility", "emergency"),
    ("家里停水两天了", "utility", "coordination"),
    ("今天天气不错", "other", "general"),
])
def test_keywords_decide_category_and_tier(text, category, tier):
    verdict = classify(to_simplified(text))
    assert (verdict.category, verdict.tier) == (category, tier)
    assert 0 <= verdict.confidence <= 1


def test_the_hint_is_weighed_not_trusted():
    assert classify("楼道灯坏了", hint="parking").category == "facility"
    assert classify("有点问题", hint="parking").category == "parking"


def test_the_explanation_names_what_matched():
    verdict = classify("楼道灯坏了", hint="facility")
    assert "楼道灯" in verdict.explanation["matched"]
    assert verdict.explanation["hint_agreed"] is True
