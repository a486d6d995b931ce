"""Learning the n-gram model (``griddesk classify --train``) from every labelled report the team owns:
the sets in services/router/data (author "team") and the corpus in services/router/data/corpus (one file
per author; the two independent sets joined it once their held-out figures were recorded, docs/classifier.md).
The only module that
imports scikit-learn: it is needed to train and to test training, never at run time (ngram_model.py reads
the exported JSON with the standard library). Deterministic: the same rows give the same bytes."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from services.router.ngram_model import FORMAT, char_ngrams

DATA = Path(__file__).resolve().parent / "data"
TEAM_SETS = ("evaluation.jsonl", "held_out.jsonl", "unseen.jsonl", "fresh.jsonl")
VERSION = "char-ngram-lr-1"
MIN_DF = 2  # an n-gram seen in one report only is that report's, not the language's
KEEP_FEATURES = 12000  # the n-grams that weigh most (on any class or on danger): keeps model.json under ~3 MB
CATEGORY_C = 10.0  # inverse regularisation, chosen by the grouped cross-validation (docs/classifier.md)
EMERGENCY_C = 10.0
COORDINATION_C = 10.0
DECIMALS = 6  # weights are rounded, so the file does not depend on the last bits of the arithmetic


@dataclass(frozen=True)
class Fitted:
    """The fitted scikit-learn parts, with the rounded weights the exported file carries."""
    vectorizer: TfidfVectorizer
    category: LogisticRegression
    emergency: LogisticRegression
    coordination: LogisticRegression  # of the reports that are no emergency: needs another party (vs general)


def training_rows(data: Path = DATA) -> list[dict]:
    """Every labelled report the model learns from, each with its ``author`` (the cross-validation's group)."""
    rows = [{**row, "author": "team"} for name in TEAM_SETS for row in _read(data / name)]
    for path in sorted((data / "corpus").glob("*.jsonl")):
        rows += [{**row, "author": path.stem} for row in _read(path)]
    return rows


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fit(texts: list[str], categories: list[str], tiers: list[str], *, category_c: float = CATEGORY_C,
        emergency_c: float = EMERGENCY_C, coordination_c: float = COORDINATION_C, keep: int = KEEP_FEATURES) -> Fitted:
    """Fit on folded texts; keep the ``keep`` n-grams that weigh most, then refit on those alone."""
    options = (category_c, emergency_c, coordination_c)
    first = _fit(texts, categories, tiers, None, *options)
    names = first.vectorizer.get_feature_names_out()
    strength = (abs(first.category.coef_).max(axis=0) + abs(first.emergency.coef_[0])
                + abs(first.coordination.coef_[0]))
    order = sorted(range(len(names)), key=lambda i: (-strength[i], names[i]))[:keep]
    return _fit(texts, categories, tiers, sorted(names[i] for i in order), *options)


def _fit(texts, categories, tiers, vocabulary, category_c, emergency_c, coordination_c) -> Fitted:
    vectorizer = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True, min_df=1 if vocabulary else MIN_DF,
                                 vocabulary=vocabulary)
    matrix = vectorizer.fit_transform(texts)
    category = LogisticRegression(C=category_c, max_iter=3000).fit(matrix, categories)
    emergency = LogisticRegression(C=emergency_c, max_iter=3000, class_weight="balanced").fit(
        matrix, [tier == "emergency" for tier in tiers])
    calm = [i for i, tier in enumerate(tiers) if tier != "emergency"]
    coordination = LogisticRegression(C=coordination_c, max_iter=3000).fit(
        matrix[calm], [tiers[i] == "coordination" for i in calm])
    vectorizer.idf_ = vectorizer.idf_.round(DECIMALS)
    for model in (category, emergency, coordination):
        model.coef_, model.intercept_ = model.coef_.round(DECIMALS), model.intercept_.round(DECIMALS)
    return Fitted(vectorizer, category, emergency, coordination)


def export(fitted: Fitted, rows: list[dict]) -> dict:
    """The JSON the router loads (ngram_model.NgramModel)."""
    names = fitted.vectorizer.get_feature_names_out()
    category_weights = fitted.category.coef_.T.tolist()
    emergency_weights = fitted.emergency.coef_[0].tolist()
    coordination_weights = fitted.coordination.coef_[0].tolist()
    idf = fitted.vectorizer.idf_.tolist()
    return {
        "format": FORMAT, "version": VERSION, "sublinear_tf": True,
        "classes": [str(c) for c in fitted.category.classes_],
        "intercepts": fitted.category.intercept_.tolist(),
        "emergency_intercept": float(fitted.emergency.intercept_[0]),
        "coordination_intercept": float(fitted.coordination.intercept_[0]),
        "features": [[str(name), idf[i], category_weights[i], emergency_weights[i], coordination_weights[i]]
                     for i, name in enumerate(names)],
        "training": describe(rows),
    }


def describe(rows: list[dict]) -> dict:
    """What the model learned from: a hash of the rows and their counts."""
    canonical = "\n".join(json.dumps([r["text"], r["category"], r["tier"], r["author"]], ensure_ascii=False)
                          for r in rows)
    return {"sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(), "reports": len(rows),
            "emergencies": sum(r["tier"] == "emergency" for r in rows),
            "by_author": dict(sorted(Counter(r["author"] for r in rows).items())),
            "by_category": dict(sorted(Counter(r["category"] for r in rows).items())),
            "hyperparameters": {"ngrams": "1-3 characters", "min_df": MIN_DF, "kept": KEEP_FEATURES,
                                "category_C": CATEGORY_C, "emergency_C": EMERGENCY_C,
                                "coordination_C": COORDINATION_C, "decimals": DECIMALS}}


def fit_rows(rows: list[dict], fold: Callable[[str], str], **options) -> Fitted:
    texts = [fold(r["text"]) for r in rows]
    return fit(texts, [r["category"] for r in rows], [r["tier"] for r in rows], **options)


def train(rows: list[dict], fold: Callable[[str], str]) -> dict:
    return export(fit_rows(rows, fold), rows)


def dumps(model: dict) -> str:
    """One n-gram per line: the file diffs well and stays readable."""
    head = {key: value for key, value in model.items() if key != "features"}
    lines = [json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in model["features"]]
    body = json.dumps(head, ensure_ascii=False, sort_keys=True, indent=1)[:-2]
    return body + ',\n "features": [\n' + ",\n".join(lines) + "\n ]\n}\n"


def iter_folds(rows: list[dict]) -> Iterable[tuple[str, list[int], list[int]]]:
    """Leave one author out: (author, training indices, held-out indices)."""
    for author in sorted({r["author"] for r in rows}):
        yield (author, [i for i, r in enumerate(rows) if r["author"] != author],
               [i for i, r in enumerate(rows) if r["author"] == author])
