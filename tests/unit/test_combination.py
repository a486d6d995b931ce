"""How the lexicon's evidence and the model's reading make one verdict (combination.py), with readings made
by hand so each rule is seen on its own."""
import pytest

from services.router.bootstrap import load_classifier, load_model
from services.router.combination import Blend
from services.router.ngram_model import Reading
from services.router.normalise import to_simplified

CATEGORIES = ("sanitation", "facility", "utility", "safety", "security", "dispute", "special", "service",
              "construction", "parking", "property", "greenery", "civility", "info", "other")
BLEND = Blend(model_weight=2.0, emergency_threshold=0.5, veto_below=0.9, says_nothing_below=0.5)


@pytest.fixture(scope="module")
def classifier():
    return load_classifier().with_model(load_model(), BLEND)


def reading(believes: dict[str, float] | None = None, emergency: float = 0.01) -> Reading:
    """A model that spreads what ``believes`` leaves over the other categories evenly."""
    believes = believes or {}
    rest = (1 - sum(believes.values())) / (len(CATEGORIES) - len(believes))
    return Reading({c: believes.get(c, rest) for c in CATEGORIES}, emergency, {})


def decide(classifier, text, said, hint=None):
    return classifier.decide(classifier.evidence(to_simplified(text), hint), said)


def test_the_model_decides_where_the_lexicon_knows_no_word(classifier):
    verdict = decide(classifier, "对门那家每天半夜拖椅子", reading({"dispute": 0.9}))
    assert verdict.category == "dispute"
    assert verdict.explanation["method"] == "lexicon-v3+ngram-model"
    assert verdict.explanation["model"]["probability"] == 0.9


def test_a_strong_lexicon_match_outweighs_a_hesitant_model(classifier):
    verdict = decide(classifier, "楼道灯坏了好几天了", reading({"property": 0.4, "facility": 0.2}))
    assert verdict.category == "facility"


def test_a_sure_model_outweighs_one_weak_word(classifier):
    lexicon = decide(classifier, "对门那家老是半夜唱歌", None)
    verdict = decide(classifier, "对门那家老是半夜唱歌", reading({"dispute": 0.97}))
    assert verdict.category == "dispute" and lexicon.explanation["scores"]


def test_the_model_alone_can_call_an_emergency(classifier):
    verdict = decide(classifier, "厨房里嘶嘶的响闻着有点臭鸡蛋味", reading({"safety": 0.8}, emergency=0.7))
    assert verdict.tier == "emergency" and verdict.explanation["model"]["emergency_by_model"] is True
    calm = decide(classifier, "厨房里嘶嘶的响闻着有点臭鸡蛋味", reading({"safety": 0.8}, emergency=0.3))
    assert calm.tier != "emergency"


def test_a_dismissed_danger_vetoes_an_unsure_model_emergency(classifier):
    text = "楼道里堆满了东西，万一起火人都跑不出去"
    vetoed = decide(classifier, text, reading({"safety": 0.8}, emergency=0.7))
    assert vetoed.tier != "emergency" and vetoed.explanation["dismissed_emergency_terms"]
    sure = decide(classifier, text, reading({"safety": 0.8}, emergency=0.95))
    assert sure.tier == "emergency"


def test_a_standing_danger_stands_unless_the_model_all_but_rules_it_out(classifier):
    text = "地下室着火了，有浓烟冒出来"
    unsure = decide(classifier, text, reading({"safety": 0.5}, emergency=0.15))
    assert (unsure.category, unsure.tier) == ("safety", "emergency")
    assert unsure.explanation["model"]["emergency_by_model"] is False
    assert unsure.explanation["model"]["emergency_ruled_out_by_model"] is False
    ruled_out = decide(classifier, text, reading({"safety": 0.5}, emergency=0.02))
    assert (ruled_out.category, ruled_out.tier) != ("safety", "emergency")
    assert ruled_out.category == "safety" and ruled_out.explanation["emergency_terms"]
    assert ruled_out.explanation["model"]["emergency_ruled_out_by_model"] is True


def test_a_danger_no_one_says_figuratively_stands_whatever_the_model_says(classifier):
    verdict = decide(classifier, "我爸突然抽搐，口吐白沫，没呼吸了", reading({"special": 0.8}, emergency=0.001))
    assert (verdict.category, verdict.tier) == ("special", "emergency")
    assert verdict.explanation["model"]["emergency_ruled_out_by_model"] is False
    with_fire = decide(classifier, "着火了，有人割腕了", reading({"safety": 0.5}, emergency=0.001))
    assert with_fire.tier == "emergency"  # one danger that is never figurative is enough


def test_a_cry_for_help_about_a_lost_cat_is_ruled_out_by_a_calm_model(classifier):
    verdict = decide(classifier, "救命啊 我家猫跑丢了 有人看到吗", reading({"other": 0.8}, emergency=0.01))
    assert verdict.tier != "emergency" and verdict.explanation["model"]["emergency_ruled_out_by_model"] is True


def test_the_hint_is_weighed_not_trusted(classifier):
    bare = decide(classifier, "有点问题", reading(), hint="parking")
    assert bare.category == "parking" and bare.confidence < 0.35  # a bare hint is a guess: manual triage
    wrong = decide(classifier, "楼道灯坏了", reading({"facility": 0.8}), hint="parking")
    assert wrong.category == "facility" and wrong.explanation["hint_agreed"] is False


def test_a_text_that_says_nothing_to_either_goes_to_triage(classifier):
    verdict = decide(classifier, "在吗", reading({"other": 0.3}))
    assert verdict.category == "other" and verdict.confidence < 0.35


def test_confidence_is_the_share_of_the_blended_scores():
    assert Blend().confidence({"a": 0.0, "b": 0.0}, "a") == pytest.approx(0.5)
    assert Blend(temperature=1.0).confidence({"a": 3.0, "b": 0.0}, "a") > 0.9
    assert Blend(temperature=6.0).confidence({"a": 3.0, "b": 0.0}, "a") < 0.7  # a cooler reading of the same gap


def test_the_explanation_names_the_model_and_its_ngrams(classifier):
    verdict = classifier.classify(to_simplified("電梯困人了，有人被困在電梯裡"))
    model = verdict.explanation["model"]
    assert model["version"] == classifier.model.version and verdict.explanation["lexicon_version"]
    assert model["ngrams"] and all(isinstance(g["ngram"], str) and g["weight"] > 0 for g in model["ngrams"])
    assert verdict.tier == "emergency" and model["emergency_ngrams"]


def test_the_explanation_holds_no_nested_arrays(classifier):
    """A document store may refuse an array inside an array (FerretDB does): the tracker stores this."""
    def nested(value, in_list=False):
        if isinstance(value, list):
            return in_list or any(nested(v, True) for v in value)
        if isinstance(value, dict):
            return any(nested(v) for v in value.values())
        return False

    verdict = classifier.classify(to_simplified("電梯困人了，有人被困在電梯裡"))
    assert verdict.explanation["model"]["emergency_ngrams"] and not nested(verdict.explanation)


def test_the_model_decides_whether_a_calm_report_needs_another_party(classifier):
    text = "楼道灯坏了"
    alone = Reading(reading({"facility": 0.9}).probabilities, 0.01, {}, coordination=0.2)
    others = Reading(reading({"facility": 0.9}).probabilities, 0.01, {}, coordination=0.8)
    assert decide(classifier, text, alone).tier == "general"
    needs = decide(classifier, text, others)
    assert needs.tier == "coordination" and needs.explanation["model"]["coordination_probability"] == 0.8
    emergency = Reading(reading({"safety": 0.9}).probabilities, 0.9, {}, coordination=0.1)
    assert decide(classifier, "厨房里嘶嘶的响闻着有点臭鸡蛋味", emergency).tier == "emergency"
