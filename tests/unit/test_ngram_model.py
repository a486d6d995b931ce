"""The trained model: the router's pure-Python inference agrees with scikit-learn, training is
deterministic and the committed model is what ``griddesk classify --train`` makes, and a bad file stops
the start with a clear message."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.router.bootstrap import load_classifier, load_model
from services.router.ngram_model import ModelFileError, NgramModel, _sigmoid, _softmax, char_ngrams
from services.router.normalise import to_simplified

DATA = Path(__file__).resolve().parents[2] / "services" / "router" / "data"
SAMPLES = ["楼道灯坏了好几天了", "樓道裡有一股很沖的燃氣味，越來越濃", "垃及桶满了没人清", "测试", "在吗",
           "3号楼门口那段路早晚高峰堵得走不动", "对门老人有点糊涂，刚才一个人出去了现在找不着"]


@pytest.fixture(scope="module")
def lexicon_only():
    return load_classifier(model_path="none")


def fold(classifier, text):
    return classifier.fold(to_simplified(text))


def test_features_are_character_runs_with_digits_read_as_one():
    assert char_ngrams("3号楼") == ["0", "号", "楼", "0号", "号楼", "0号楼"]
    assert char_ngrams("5号楼") == char_ngrams("3号楼")
    assert char_ngrams("٣²楼") == char_ngrams("00楼")  # any character that isdigit, not only 0-9
    assert char_ngrams("") == [] and char_ngrams("楼") == ["楼"]


def test_a_reading_adds_the_contributions_one_by_one_in_the_features_order():
    """The logits are summed column by column in C (``sum`` of a ``map``); they must be the very floats
    of the plain loop, n-gram by n-gram (a ``sum`` that compensated, as Python 3.12's does, would not be)."""
    model = load_model()
    texts = [json.loads(line)["text"] for line in (DATA / "evaluation.jsonl").read_text(encoding="utf-8").splitlines()]
    for text in [*SAMPLES, *texts[:200], "", "？"]:
        reading = model.read(text)
        logits, danger, other = list(model.intercepts), model.emergency_intercept, model.coordination_intercept
        for gram, value in reading.features.items():
            _, weights, to_danger, to_other = model._features[gram]
            logits = [logit + value * weight for logit, weight in zip(logits, weights)]
            danger, other = danger + value * to_danger, other + value * to_other
        assert list(reading.probabilities.values()) == _softmax(logits)
        assert (reading.emergency, reading.coordination) == (_sigmoid(danger), _sigmoid(other))


def test_the_committed_model_loads_and_reads_every_category():
    model = load_model()
    reading = model.read("楼道灯坏了")
    assert len(model.classes) == 15 and abs(sum(reading.probabilities.values()) - 1) < 1e-9
    assert max(reading.probabilities, key=reading.probabilities.get) == "facility"
    assert 0 <= reading.emergency <= 1 and 0 <= reading.coordination <= 1
    assert model.training["reports"] > 2000 and model.training["by_author"]["independent2"] == 200


def test_no_model_means_the_lexicon_alone(lexicon_only):
    assert lexicon_only.model is None
    assert lexicon_only.classify("楼道灯坏了").explanation["method"] == "lexicon-v3"


@pytest.mark.parametrize("spec, message", [
    ({"format": 99}, "format"),
    ({"format": 1, "version": "x", "classes": ["a", "b"], "sublinear_tf": True, "intercepts": [0.0],
      "emergency_intercept": 0.0, "features": []}, "1 intercepts for 2 classes"),
    ({"format": 1, "version": "x", "classes": ["a"], "sublinear_tf": True, "intercepts": [0.0],
      "emergency_intercept": 0.0, "features": [["楼", 1.0, [1.0, 2.0], 0.0]]}, "feature row"),
    ({"format": 1, "classes": []}, "missing version"),
    ({"format": 2, "version": "x", "classes": ["a"], "sublinear_tf": True, "intercepts": [0.0],
      "emergency_intercept": 0.0, "features": []}, "missing coordination_intercept"),
    ({"format": 2, "version": "x", "classes": ["a"], "sublinear_tf": True, "intercepts": [0.0],
      "emergency_intercept": 0.0, "coordination_intercept": 0.0, "features": [["楼", 1.0, [1.0], 0.0]]},
     "coordination weight"),
])
def test_a_bad_model_is_refused_with_the_reason(spec, message):
    with pytest.raises(ModelFileError, match=message):
        NgramModel(spec)


def test_a_model_of_format_1_has_no_tier_part_and_the_lexicon_decides_the_tier(lexicon_only):
    old = NgramModel({"format": 1, "version": "x", "classes": ["facility", "other"], "sublinear_tf": True,
                      "intercepts": [0.0, 0.0], "emergency_intercept": -3.0,
                      "features": [["灯", 1.0, [2.0, -2.0], 0.0]]})
    reading = old.read("楼道灯坏了")
    assert reading.coordination is None and reading.probabilities["facility"] > 0.5
    verdict = lexicon_only.with_model(old).classify("楼道灯坏了，跟物业说了好几次")
    assert verdict.tier == lexicon_only.classify("楼道灯坏了，跟物业说了好几次").tier == "coordination"
    assert "coordination_probability" not in verdict.explanation["model"]


def test_a_bad_model_file_stops_the_router_at_start(tmp_path, monkeypatch):
    from services.router.bootstrap import build
    from services.router.settings import RouterSettings

    bad = tmp_path / "model.json"
    bad.write_text("{not json", encoding="utf-8")
    settings = RouterSettings.from_env({"GRIDDESK_ROUTER_MODEL_FILE": str(bad)})
    assert settings.model_file == str(bad)
    with pytest.raises(ModelFileError, match="model.json"):
        build(settings)
    with pytest.raises(ModelFileError, match="No such file"):
        load_model(str(tmp_path / "absent.json"))


# ---------------------------------------------------------------- training (needs scikit-learn)
def _small_training(lexicon_only):
    training = pytest.importorskip("services.router.training", reason="training needs scikit-learn (.[test])")
    rows = training.training_rows()[::6]  # every sixth report of every author: quick, still every category
    return training, rows, training.fit_rows(rows, lambda text: fold(lexicon_only, text), keep=3000)


def test_pure_python_inference_equals_scikit_learn(lexicon_only):
    training, rows, fitted = _small_training(lexicon_only)
    model = NgramModel(json.loads(json.dumps(training.export(fitted, rows))))  # through JSON, as the router reads it
    texts = [fold(lexicon_only, t) for t in SAMPLES + [r["text"] for r in rows[:40]]]
    matrix = fitted.vectorizer.transform(texts)
    categories = fitted.category.predict_proba(matrix)
    emergencies = fitted.emergency.predict_proba(matrix)[:, 1]
    coordination = fitted.coordination.predict_proba(matrix)[:, 1]
    for i, text in enumerate(texts):
        reading = model.read(text)
        for j, name in enumerate(fitted.category.classes_):
            assert reading.probabilities[name] == pytest.approx(categories[i, j], abs=1e-9)
        assert reading.emergency == pytest.approx(emergencies[i], abs=1e-9)
        assert reading.coordination == pytest.approx(coordination[i], abs=1e-9)


def test_training_is_deterministic(lexicon_only):
    training, rows, fitted = _small_training(lexicon_only)
    again = training.fit_rows(rows, lambda text: fold(lexicon_only, text), keep=3000)
    assert training.dumps(training.export(fitted, rows)) == training.dumps(training.export(again, rows))


def test_the_committed_model_is_what_train_makes(tmp_path):
    pytest.importorskip("sklearn", reason="training needs scikit-learn (.[test])")
    from services.cli import main

    out = tmp_path / "model.json"
    result = CliRunner().invoke(main, ["classify", "--train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == (DATA / "model.json").read_text(encoding="utf-8")


def test_the_model_file_stays_small():
    assert (DATA / "model.json").stat().st_size < 3.2 * 1024 * 1024
