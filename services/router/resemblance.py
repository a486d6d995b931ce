"""How much a report reads like each category, by character bigrams (the classifier's second signal).
Pure; part of the classifier (classification.py, docs/classifier.md)."""
from __future__ import annotations

import re
from collections import Counter
from operator import add
from typing import Iterable, Mapping

HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


def bigrams(text: str) -> Counter:
    grams: Counter = Counter()
    for run in HAN_RUN.findall(text):
        grams.update(map(add, run, run[1:]))  # each character and the next, in order
    return grams


class CategoryProfiles:
    """How much a report reads like each category, by character bigrams, for words the lexicon does not know
    ("早晚高峰堵得走不动" shares 高峰 and 堵 with parking's description). A profile is the category's terms and
    its `describe` text; similarity is the cosine of bigram counts, each weighed by how few categories have
    it (a bigram every category has, like 小区, says nothing)."""

    def __init__(self, texts: Mapping[str, Iterable[str]]):
        counts = {category: bigrams("。".join(items)) for category, items in texts.items()}
        spread = Counter(gram for grams in counts.values() for gram in grams)
        self._rarity = {gram: (len(counts) / n) ** 0.5 for gram, n in spread.items()}
        self._postings: dict[str, list[tuple[str, float]]] = {}  # bigram -> (category, weight): one lookup each
        for category, grams in counts.items():
            for gram, weight in self._weigh(grams).items():
                self._postings.setdefault(gram, []).append((category, weight))

    def _weigh(self, grams: Counter) -> dict[str, float]:
        weighted = {g: n * self._rarity.get(g, 0.0) for g, n in grams.items()}
        norm = sum(v * v for v in weighted.values()) ** 0.5 or 1.0
        return {g: v / norm for g, v in weighted.items()}

    def similarity(self, text: str) -> dict[str, float]:
        """Cosine similarity of the report to each category that shares at least one bigram with it."""
        found: dict[str, float] = {}
        for gram, weight in self._weigh(bigrams(text)).items():
            for category, profile_weight in self._postings.get(gram, ()):
                found[category] = found.get(category, 0.0) + weight * profile_weight
        return found
