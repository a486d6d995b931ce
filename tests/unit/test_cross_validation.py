"""Leave one author out (``griddesk classify --cross-validate``), on a small share of the corpus."""
import pytest

from services.router.bootstrap import load_classifier
from services.router.normalise import to_simplified

training = pytest.importorskip("services.router.training", reason="cross-validation needs scikit-learn (.[test])")
from services.router import cross_validation  # noqa: E402 - only once scikit-learn is known to be there


@pytest.fixture(scope="module")
def held():
    classifier = load_classifier(model_path="none")
    rows = training.training_rows()[::8]
    return cross_validation.held_out_readings(rows, classifier, lambda text: classifier.fold(to_simplified(text)),
                                              keep=2000)


def test_every_report_is_judged_by_a_model_that_never_saw_its_author(held):
    authors = {item.row["author"] for item in held}
    assert authors == {"team", "hotline", "wechat", "visits", "traditional", "independent", "independent2",
                       "commercial", "voice", "patrol", "fringe", "groupchat", "observers"}
    for item in held:
        assert item.row["author"] not in item.classifier.model.training["by_author"]


def test_the_report_gives_each_method_per_author(held):
    text = cross_validation.report(held)
    for word in ("lexicon", "model", "combined", "team", "hotline", "wechat", "visits", "traditional", "all",
                 "manual triage"):
        assert word in text
    scores = cross_validation.scores_by_author(held, "combined")
    assert scores["all"].total == len(held) and 0 < scores["all"].category_accuracy <= 1
