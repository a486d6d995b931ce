import json
from pathlib import Path

import pytest

from services.router.bootstrap import load_classifier
from services.router.evaluation import evaluate
from services.router.normalise import to_simplified

DATA = Path(__file__).resolve().parents[2] / "services" / "router" / "data"


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def classify(classifier, text, hint=None):
    return classifier.classify(to_simplified(text), hint)


@pytest.mark.parametrize("text, category, tier", [
    ("3号楼楼道灯坏了好几天了", "facility", "general"),
    ("小区垃圾好几天没人清运，臭死了", "sanitation", "general"),
    ("楼上装修噪音太大，天天扰民", "dispute", "coordination"),
    ("地下室着火了，有浓烟冒出来", "safety", "emergency"),
    ("電梯困人了，有人被困在電梯裡", "facility", "emergency"),
    ("樓下垃圾房著火了", "safety", "emergency"),
    ("家里停水两天了", "utility", "coordination"),
    ("垃圾堆了一周，跟物业说了好几次都不管", "sanitation", "coordination"),
    ("今天天气不错", "other", "general"),
])
def test_words_decide_category_and_tier(classifier, text, category, tier):
    verdict = classify(classifier, text)
    assert (verdict.category, verdict.tier) == (category, tier)
    assert 0 <= verdict.confidence <= 1


@pytest.mark.parametrize("text", ["没有着火，只是楼道里有焦糊味", "上次着火以后还是有人在楼道充电",
                                  "消防演练的时候发现灭火器是空的", "天然气一直打不着火", "老人前几天晕倒过"])
def test_negated_past_and_hypothetical_dangers_are_not_emergencies(classifier, text):
    verdict = classify(classifier, text)
    assert verdict.tier != "emergency"


def test_a_dismissed_emergency_word_is_explained(classifier):
    verdict = classify(classifier, "楼道里堆满了东西，万一起火人都跑不出去")
    assert verdict.explanation["dismissed_emergency_terms"][0]["because"].startswith("not now")
    assert verdict.category == "safety"


def test_the_hint_is_weighed_not_trusted(classifier):
    assert classify(classifier, "楼道灯坏了", hint="parking").category == "facility"
    vague = classify(classifier, "有点问题", hint="parking")
    assert vague.category == "parking" and vague.confidence < 0.35  # a bare hint is a guess: triage


def test_the_explanation_names_what_matched(classifier):
    verdict = classify(classifier, "楼道灯坏了", hint="facility")
    assert "楼道灯" in verdict.explanation["matched"]
    assert verdict.explanation["hint_agreed"] is True


def test_typos_are_folded(classifier):
    assert classify(classifier, "拉圾好几天没人收了").category == "sanitation"
    assert classify(classifier, "楼上燥音太大").category == "dispute"


@pytest.mark.parametrize("text, cue", [
    ("楼上往下滴水还冒火星", "火星+冒"),  # a hazard and a sign that it is happening now
    ("樓道裡有一股很沖的燃氣味，越來越濃", "燃气+味"),
    ("老人好几天没出门了，电话也打不通", "好几天没出门+打不通"),  # a person at risk, said indirectly
    ("电梯卡在两层中间，里面有个老太太", "电梯+"),
])
def test_danger_is_recognised_by_composition(classifier, text, cue):
    verdict = classify(classifier, text)
    assert verdict.tier == "emergency"
    assert any(term.startswith(cue) for term in verdict.explanation["emergency_terms"])


@pytest.mark.parametrize("text", [
    "楼道里到处是烟头",  # a hazard's character in a harmless word
    "有人在楼道里烧纸，烟很大",  # a harmless source explains the smoke
    "电梯停电了，我们住18楼，老人下不来",  # nobody is inside the lift
    "电视里说别的小区电动车起火了，我们楼也有人在家里充",  # reported from elsewhere
    "井盖丢了一个，晚上看不见容易掉下去",  # feared, not happening
])
def test_a_hazard_without_danger_now_is_not_an_emergency(classifier, text):
    assert classify(classifier, text).tier != "emergency"


def test_a_cry_for_help_is_weighed_against_the_category(classifier):
    help_ = classify(classifier, "楼下有人一直在喊救命")
    assert help_.tier == "emergency" and help_.explanation["alarms"] == ["救命"]
    figure_of_speech = classify(classifier, "救命啊，物业费又涨了")
    assert (figure_of_speech.category, figure_of_speech.tier) == ("property", "coordination")


def test_a_party_turned_to_is_not_the_topic(classifier):
    verdict = classify(classifier, "楼道灯坏了，跟物业说了好几次")
    assert (verdict.category, verdict.tier) == ("facility", "coordination")


def test_homophones_typed_on_a_pinyin_keyboard_are_read_as_the_word(classifier):
    verdict = classify(classifier, "垃及桶满了没人清")
    assert verdict.category == "sanitation"
    assert verdict.explanation["sound_alikes"] == [{"typed": "垃及桶", "read_as": "垃圾桶"}]
    assert classify(classifier, "社区可以帮忙代缴一下医保吗").explanation["sound_alikes"] == []  # 可以 is no 可疑


def test_resemblance_decides_when_no_word_is_known(classifier):
    verdict = classify(classifier, "小区门口那段路早晚高峰堵得走不动")
    assert verdict.explanation["matched"] == [] and verdict.category == "parking"
    assert verdict.explanation["similar"]["parking"] > 0


def test_a_traditional_emergency_is_explained_like_its_simplified_twin(classifier):
    twin = classify(classifier, "楼道里有一股很冲的燃气味，越来越浓")
    assert classify(classifier, "樓道裡有一股很沖的燃氣味，越來越濃") == twin


def _rows(name):
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["evaluation.jsonl", "held_out.jsonl", "unseen.jsonl", "fresh.jsonl",
                                  "corpus/independent.jsonl", "corpus/independent2.jsonl", "independent3.jsonl",
                                  "independent4.jsonl"])
def test_the_labelled_sets_hold_their_figures(classifier, name):
    """Floors that catch regressions. The four team sets are now part of the model's training data (all four
    measure 100% category and recall), so they only show that the model learned them; the honest figure for
    unseen writers is the grouped cross-validation (docs/classifier.md), the two independent sets'
    figures measured once before they joined the corpus, and independent3.jsonl and independent4.jsonl, never
    trained on (floors at their figures: 93.5% / 100% / 4.5% and 89.0% / 100% / 3.8%, same page)."""
    rows = _rows(name)
    scores = evaluate(rows, lambda text, hint: classify(classifier, text, hint))
    floors = {"evaluation.jsonl": (0.98, 1.0, 0.05), "held_out.jsonl": (0.98, 1.0, 0.05),
              "unseen.jsonl": (0.98, 1.0, 0.05), "fresh.jsonl": (0.98, 1.0, 0.05),
              "corpus/independent.jsonl": (0.98, 1.0, 0.05), "corpus/independent2.jsonl": (0.98, 1.0, 0.05),
              "independent3.jsonl": (0.93, 1.0, 0.05), "independent4.jsonl": (0.89, 1.0, 0.04)}
    category, recall, false_emergencies = floors[name]
    assert scores.category_accuracy >= category and scores.emergency_recall >= recall
    assert scores.false_emergency_rate <= false_emergencies
    if name.startswith("independent"):  # the tier model's figures on reports it never saw: 89.5% and 88.0%
        assert scores.tier_accuracy >= 0.87


def test_the_sets_cover_every_category_and_both_scripts():
    categories = set()
    for name, size, emergencies in [("evaluation.jsonl", 400, 40), ("unseen.jsonl", 200, 30)]:
        rows = _rows(name)
        categories |= {r["category"] for r in rows}
        traditional = [r for r in rows if to_simplified(r["text"]) != r["text"].lower()]
        assert len(rows) >= size and sum(r["tier"] == "emergency" for r in rows) >= emergencies
        assert len(traditional) >= len(rows) // 5
    assert len(categories) == 15
