"""The second signal: how much a report reads like each category, by character bigrams, for reports whose
words the lexicon does not know ("早晚高峰堵得走不动" shares 高峰 and 堵 with parking's description even though
no term matches). Each category's profile is its own lexicon terms and its `describe` text; a report's
similarity to it is the cosine of their bigram counts, weighed by how rare each bigram is across categories.
Pure."""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Mapping

HAN = re.compile(r"[\u4e00-\u9fff]+")


def bigrams(text: str) -> Counter:
    grams: Counter = Counter()
    for run in HAN.findall(text):
        grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return grams


class CategoryProfiles:
    def __init__(self, texts: Mapping[str, Iterable[str]]):
        counts = {category: sum((bigrams(t) for t in items), Counter()) for category, items in texts.items()}
        spread = Counter(gram for grams in counts.values() for gram in grams)
        total = len(counts)
        # a bigram every category has (楼道, 小区) says nothing; one only a single category has says a lot
        self._idf = {gram: math.log(1 + total / n) for gram, n in spread.items()}
        # inverted: bigram -> (category, weight), so a report costs one lookup per bigram it has
        self._postings: dict[str, list[tuple[str, float]]] = {}
        for category, grams in counts.items():
            for gram, weight in self._weigh(grams).items():
                self._postings.setdefault(gram, []).append((category, weight))

    def _weigh(self, grams: Counter) -> dict[str, float]:
        weighted = {g: n * self._idf.get(g, 0.0) for g, n in grams.items()}
        norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
        return {g: v / norm for g, v in weighted.items()}

    def similarity(self, text: str) -> dict[str, float]:
        """Cosine similarity of the report to each category that shares at least one bigram with it."""
        found: dict[str, float] = {}
        for gram, weight in self._weigh(bigrams(text)).items():
            for category, profile_weight in self._postings.get(gram, ()):
                found[category] = found.get(category, 0.0) + weight * profile_weight
        return found
