"""The trained half of the classifier: character n-grams of the folded text, tf-idf weighted, fed to two
linear models learned from the labelled reports (``griddesk classify --train``, services/router/training.py):
one multinomial logistic regression for the category, one binary logistic regression for danger now and
(format 2) one for whether a report that is no emergency needs another party (the tier: coordination or
general).
This module only *reads* such a model (services/router/data/model.json) and applies it, with the standard
library: the features are computed here and the training uses this very function, so both sides agree.
See docs/classifier.md."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from operator import add, mul
from typing import Mapping

FORMAT = 2  # the JSON layout below; a file of another layout is refused at start
READABLE_FORMATS = (1, 2)  # format 1 has no tier model: the lexicon then decides the tier
TOP_NGRAMS = 5  # how many contributing n-grams an explanation lists


class ModelFileError(ValueError):
    """The model file cannot be used (wrong layout, missing parts, sizes that do not agree)."""


class _DigitsAsZero(dict):
    """A ``str.translate`` table that learns each character once: a digit (any that ``isdigit``) reads as 0."""

    def __missing__(self, code: int) -> int:
        self[code] = ZERO if chr(code).isdigit() else code
        return self[code]


ZERO = ord("0")
_DIGITS_AS_ZERO = _DigitsAsZero()


def char_ngrams(text: str) -> list[str]:
    """The features of a folded text: every run of 1-3 characters; digits read as one digit (3号楼, 5号楼).
    All single characters first, then the pairs, then the triples (the order the features are summed in);
    pasted together by ``map`` rather than sliced one by one: a third of the time."""
    text = text.translate(_DIGITS_AS_ZERO)
    pairs = list(map(add, text, text[1:]))
    return [*text, *pairs, *map(add, pairs, text[2:])]


@dataclass(frozen=True)
class Reading:
    """What the model reads in one report."""
    probabilities: dict[str, float]  # category -> p, summing to 1
    emergency: float  # p(danger now)
    features: dict[str, float]  # n-gram -> its tf-idf value (l2-normalised), for the explanation
    coordination: float | None = None  # p(needs another party | no emergency); None: the model has no tier part


class NgramModel:
    def __init__(self, spec: Mapping):
        _check(spec)
        self.version: str = spec["version"]
        self.classes: tuple[str, ...] = tuple(spec["classes"])
        self.sublinear_tf: bool = bool(spec["sublinear_tf"])
        self.intercepts: tuple[float, ...] = tuple(spec["intercepts"])
        self.emergency_intercept: float = float(spec["emergency_intercept"])
        self.coordination_intercept: float | None = spec.get("coordination_intercept")
        # n-gram -> (idf, weights per class, emergency weight, coordination weight): one lookup per n-gram
        self._features = {row[0]: (row[1], tuple(row[2]), row[3], row[4] if len(row) > 4 else 0.0)
                          for row in spec["features"]}
        self._idf = {gram: float(row[0]) for gram, row in self._features.items()}  # 1.0 * idf is float(idf)
        self.training = dict(spec.get("training") or {})

    def features(self, text: str) -> dict[str, float]:
        """tf-idf of the known n-grams, l2-normalised (as scikit-learn's TfidfVectorizer computes it)."""
        idf = self._idf
        counts = Counter(filter(idf.__contains__, char_ngrams(text)))
        # most n-grams occur once: their tf (1 + log 1 = 1.0, or 1.0) times idf is the idf itself
        values = {gram: idf[gram] if n == 1 else (1.0 + math.log(n) if self.sublinear_tf else float(n)) * idf[gram]
                  for gram, n in counts.items()}
        norm = math.sqrt(sum(map(mul, values.values(), values.values()))) or 1.0
        return {gram: v / norm for gram, v in values.items()}

    def read(self, text: str) -> Reading:
        """Each logit is its intercept plus value × weight of every n-gram, added one by one in the features'
        order (as the plain loop did, so every reading is the same to the last bit): ``sum`` of a ``map``
        adds floats in that order (Python 3.11; 3.12's ``sum`` compensates and would differ in the last
        bits), one column (class) at a time, without a Python step per multiply-add."""
        features = self.features(text)
        logits = list(self.intercepts)
        emergency = self.emergency_intercept
        coordination = self.coordination_intercept or 0.0
        if features:
            values = list(features.values())
            _, weights, danger, other_party = zip(*map(self._features.__getitem__, features))
            logits = [sum(map(mul, values, column), logit) for logit, column in zip(logits, zip(*weights))]
            emergency = sum(map(mul, values, danger), emergency)
            coordination = sum(map(mul, values, other_party), coordination)
        return Reading(dict(zip(self.classes, _softmax(logits))), _sigmoid(emergency), features,
                       None if self.coordination_intercept is None else _sigmoid(coordination))

    def top_ngrams(self, reading: Reading, category: str | None = None, limit: int = TOP_NGRAMS) -> list[dict]:
        """The n-grams that pushed hardest towards ``category`` (or towards danger when it is None), with
        their contributions to the logit, largest first. Objects, not pairs: a document store may refuse
        nested arrays (FerretDB does), and an n-gram may hold a "." that cannot be a field name."""
        index = self.classes.index(category) if category is not None else None
        ranked = []  # (-contribution, n-gram): sorted as they are, largest first, then by n-gram
        for gram, value in reading.features.items():
            _, weights, danger, _ = self._features[gram]
            contribution = value * (danger if index is None else weights[index])
            if contribution > 0:
                ranked.append((-contribution, gram))
        ranked.sort()
        return [{"ngram": gram, "weight": round(-negated, 3)} for negated, gram in ranked[:limit]]


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    e = math.exp(value)
    return e / (1.0 + e)


def _check(spec: Mapping) -> None:
    if not isinstance(spec, Mapping) or spec.get("format") not in READABLE_FORMATS:
        raise ModelFileError(f"not a griddesk n-gram model of format {' or '.join(map(str, READABLE_FORMATS))}")
    tiers = spec["format"] >= 2
    required = ("version", "classes", "sublinear_tf", "intercepts", "emergency_intercept", "features")
    missing = [key for key in (*required, *(("coordination_intercept",) if tiers else ())) if key not in spec]
    if missing:
        raise ModelFileError(f"missing {', '.join(missing)}")
    size = len(spec["classes"])
    if len(spec["intercepts"]) != size:
        raise ModelFileError(f"{len(spec['intercepts'])} intercepts for {size} classes")
    width, shape = (5, "emergency weight, coordination weight") if tiers else (4, "emergency weight")
    for row in spec["features"]:
        if not (isinstance(row, list) and len(row) == width and isinstance(row[0], str) and len(row[2]) == size):
            raise ModelFileError(f"a feature row is not [n-gram, idf, {size} weights, {shape}]: {row!r:.80}")
