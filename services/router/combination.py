"""How the lexicon's evidence and the n-gram model's probabilities make one verdict. Pure.

Category: each category's lexicon score (words, resemblance, danger, the hint) plus ``model_weight`` ×
log p(category): the model's belief acts like a few more words for or against each category, so a strong
lexicon match still wins over a hesitant model, and the model decides where the lexicon knows no word.
Danger now: the lexicon's standing dangers and cries for help, or the model's p(emergency) at or above
``emergency_threshold``; a danger the lexicon *dismissed* (negated, past, feared, a drill) vetoes a
model-only emergency unless the model is surer than ``veto_below``; and the model overrules a lexicon danger
that is only figurative words when it all but rules danger out (p(emergency) below ``rules_out_below``:
"救命啊 我家猫跑丢了"; the classifier decides what is figurative). Tier of a report that is no emergency:
the model's p(needs another party) from ``coordination_from`` is `coordination`, below it `general` (the
lexicon's category tiers and coordination words when the model has no tier part). The weights were chosen by
cross-validation grouped by author (``griddesk classify --cross-validate``, docs/classifier.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

FLOOR = 1e-4  # log p of a category the model all but rules out: a bounded penalty, never minus infinity


@dataclass(frozen=True)
class Blend:
    model_weight: float = 4.0  # 1-12 tried: 4 is best pooled, 8-12 equal per author (docs/classifier.md)
    emergency_threshold: float = 0.4  # recall against false emergencies: the table in docs/classifier.md
    veto_below: float = 0.8
    rules_out_below: float = 0.1  # 0.03-0.15 kept every CV emergency; 0.1: false emergencies 6.6 % → 5.2 %
    says_nothing_below: float = 0.5  # no lexicon evidence and the model this unsure: the text says nothing
    danger_decides_from: float = 0.1  # the model's p(the danger's category) from which the danger decides it
    coordination_from: float = 0.5  # blending in the lexicon's tier cost new authors 1-13 points (docs/classifier.md)
    temperature: float = 3.0  # blended scores are sharper than probabilities: 3 is best calibrated (log loss)

    def scores(self, lexicon: Mapping[str, float], probabilities: Mapping[str, float],
               categories: Iterable[str]) -> dict[str, float]:
        return {c: lexicon.get(c, 0.0) + self.model_weight * math.log(max(probabilities.get(c, 0.0), FLOOR))
                for c in categories}

    def emergency(self, probability: float, dismissed: bool) -> bool:
        """A model-only emergency; a danger the lexicon dismissed vetoes it unless the model is very sure."""
        return probability >= self.emergency_threshold and (not dismissed or probability >= self.veto_below)

    def rules_out(self, probability: float) -> bool:
        """The model all but rules out danger now: a figurative lexicon danger or cry for help is then none."""
        return probability < self.rules_out_below

    def tier(self, coordination: float) -> str:
        """The tier of a report that is no emergency, from the model's p(it needs another party)."""
        return "coordination" if coordination >= self.coordination_from else "general"

    def danger_decides(self, categories: set[str], probabilities: Mapping[str, float]) -> bool:
        """A standing danger decides the category ("樓下垃圾房著火了" is safety) unless the model all but rules
        its category out; then the danger's points are evidence like any other."""
        return max(probabilities.get(c, 0.0) for c in categories) >= self.danger_decides_from

    def says_nothing(self, probabilities: Mapping[str, float]) -> bool:
        """With no lexicon evidence either: the model is unsure, or sure only that it is no known problem
        ("你好，在吗" reads as `other`); such a text goes to a person (manual triage), as without the model."""
        best = max(probabilities, key=lambda c: probabilities[c], default="other")
        return best == "other" or probabilities[best] < self.says_nothing_below


    def confidence(self, blended: Mapping[str, float], category: str) -> float:
        """The chosen category's share of the blended scores read as log-odds (a softmax at ``temperature``)."""
        top = max(blended.values())
        total = sum(math.exp((v - top) / self.temperature) for v in blended.values())
        return math.exp((blended[category] - top) / self.temperature) / total
