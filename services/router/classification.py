"""What a report is about and how it must be handled, from its text: a weighted lexicon per category,
emergency patterns that are ignored when negated or not about danger now, and the channel's hint
weighed as one more piece of evidence. Pure; the lexicon (services/router/data/lexicon.yaml) is
handed in, already parsed, and the text must already be folded to Simplified Chinese (normalise.py).
See docs/classifier.md for the method and its figures."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

WEIGHTS = {"strong": 3.0, "terms": 2.0, "weak": 1.0, "places": 0.5}
EMERGENCY_WEIGHT = 4.0  # danger now outweighs any one word: "垃圾房着火了" is a safety case
DISMISSED_WEIGHT = 1.0  # "怕引起火灾": not an emergency, but still a hint of the category
LENGTH_BONUS = 0.1  # per character: between equal weights the more specific (longer) term wins
GAP = ".{0,6}"  # "A+B": B within six characters after A
CUE_WINDOW = 12  # how far before an emergency word a negation or a "not now" cue still applies
PAST_MARKERS = ("过",)  # "晕倒过": it happened once, it is not happening now
METHOD = "lexicon-v2"


@dataclass(frozen=True)
class Classification:
    category: str
    tier: str
    confidence: float
    explanation: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Term:
    label: str
    pattern: re.Pattern
    weight: float
    category: str
    first: str  # the part before any "+": a cheap substring test screens most terms out
    size: int  # characters matched, without the gaps: between equal weights the longer term says more


@dataclass(frozen=True)
class _Match:
    term: _Term
    start: int
    end: int


def _term(label: str, weight: float, category: str) -> _Term:
    parts = label.split("+")
    return _Term(label, re.compile(GAP.join(map(re.escape, parts))), weight, category, parts[0], len("".join(parts)))


def _compile(label: str) -> re.Pattern:
    return _term(label, 0.0, "").pattern


class Classifier:
    def __init__(self, lexicon: Mapping):
        self.version = lexicon.get("version", 1)
        self.categories = tuple(lexicon["categories"])
        self.default_tier = {name: spec.get("tier", "general") for name, spec in lexicon["categories"].items()}
        self.terms = [_term(label, WEIGHTS[kind], name)
                      for name, spec in lexicon["categories"].items()
                      for kind in WEIGHTS for label in spec.get(kind) or ()]
        self.emergency = [_term(label, EMERGENCY_WEIGHT, name)
                          for name, labels in lexicon.get("emergency", {}).items() for label in labels]
        self.coordination = {name: [_compile(t) for t in spec.get("coordination_terms") or ()]
                             for name, spec in lexicon["categories"].items()}
        self.any_coordination = [_compile(t) for t in lexicon.get("coordination_terms") or ()]
        self.negations = tuple(lexicon.get("negations") or ())
        self.not_now = tuple(lexicon.get("not_now") or ())
        self.hint_weight = float(lexicon.get("hint_weight", 1.5))
        typos = lexicon.get("typos") or {}
        self._typos = re.compile("|".join(map(re.escape, sorted(typos, key=len, reverse=True)))) if typos else None
        self._typo_map = dict(typos)

    def fold(self, text: str) -> str:
        text = re.sub(r"\s+", "", text)
        return self._typos.sub(lambda m: self._typo_map[m.group(0)], text) if self._typos else text

    def classify(self, text: str, hint: str | None = None) -> Classification:
        text = self.fold(text)
        matches = _longest_only(_find(self.terms, text))
        scores: dict[str, float] = {}
        matched: dict[str, list[str]] = {}
        for match in matches:
            if self._negated(text, match.start):
                continue
            scores[match.term.category] = (scores.get(match.term.category, 0.0) + match.term.weight
                                           + LENGTH_BONUS * match.term.size)
            matched.setdefault(match.term.category, []).append(match.term.label)
        emergencies, dismissed = [], []
        for match in _find(self.emergency, text):
            cue = self._cue_before(text, match.start) or _past(text, match.end)
            (dismissed if cue else emergencies).append((match, cue))
        for match, cue in (*emergencies, *dismissed):
            weight = DISMISSED_WEIGHT if cue else match.term.weight
            scores[match.term.category] = scores.get(match.term.category, 0.0) + weight
        hint_used = hint in self.default_tier and hint != "other"
        if hint_used:
            scores[hint] = scores.get(hint, 0.0) + self.hint_weight
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.categories.index(item[0])))
        if not ranked or ranked[0][1] <= self.hint_weight and not matched and not emergencies:
            # nothing in the text itself: a bare hint is a guess, so it stays below the triage threshold
            category, confidence = (ranked[0][0], 0.3) if ranked else ("other", 0.2)
        else:
            category, best = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            confidence = best / (best + runner_up + 0.5) * (0.5 + 0.5 * min(1.0, best / 4))
        if emergencies:
            tier, confidence = "emergency", max(confidence, 0.9)
        else:
            tier = self._tier(category, text)
        explanation = {
            "method": METHOD, "lexicon_version": self.version,
            "matched": sorted(set(matched.get(category, []))),
            "emergency_terms": sorted({m.term.label for m, _ in emergencies}),
            "dismissed_emergency_terms": [{"term": m.term.label, "because": cue} for m, cue in dismissed],
            "hint": hint, "hint_agreed": (hint == category) if hint else None,
            "scores": {name: round(value, 2) for name, value in ranked[:3]},
        }
        return Classification(category, tier, round(min(0.99, confidence), 2), explanation)

    def _tier(self, category: str, text: str) -> str:
        tier = self.default_tier.get(category, "general")
        if tier == "general" and any(p.search(text) for p in (*self.coordination.get(category, ()),
                                                                 *self.any_coordination)):
            return "coordination"
        return tier

    def _negated(self, text: str, start: int) -> bool:
        before = text[max(0, start - 2):start]
        return any(before.endswith(word) for word in self.negations)

    def _cue_before(self, text: str, start: int) -> str | None:
        window = text[max(0, start - CUE_WINDOW):start]
        clause = re.split(r"[，,。.!！?？；;]", window)[-1]
        for word in self.negations:
            if clause.endswith(word) or clause.endswith(word + "有"):
                return f"negated ({word})"
        return next((f"not now ({cue})" for cue in self.not_now if cue in clause), None)


def _find(terms: list[_Term], text: str) -> list[_Match]:
    found = []
    for term in terms:
        if term.first not in text:  # a plain substring test first: most terms are absent, and it is cheap
            continue
        hit = term.pattern.search(text)
        if hit:
            found.append(_Match(term, hit.start(), hit.end()))
    return found


def _past(text: str, end: int) -> str | None:
    return next((f"past ({marker})" for marker in PAST_MARKERS if text.startswith(marker, end)), None)


def _longest_only(matches: list[_Match]) -> list[_Match]:
    """Drop a match overlapping a longer one ("充电" in "充电桩坏", "灯+坏" in "红绿灯坏"): the longer says more."""
    return [m for m in matches
            if not any(o.start < m.end and m.start < o.end and o.term.size > m.term.size for o in matches)]
