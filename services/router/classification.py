"""What a report is about and how it must be handled, from its text. Two signals for the category: a
weighted lexicon per category and character-bigram similarity to each category's description and terms
(which decides when the words are weak or missing). Danger now is found by emergency words and by compositional cues (hazard × happening now /
severity / people at risk), both ignored when negated, past, hypothetical or reported from elsewhere. The
channel's hint is weighed as one more piece of evidence. Pure apart from the pinyin table behind
``syllable``; the lexicon (services/router/data/lexicon.yaml) is handed in, already parsed, and the text
must already be folded to Simplified Chinese (normalise.py). See docs/classifier.md for the method and
its figures."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from services.router.emergency_cues import compile_cues, find_cues
from services.router.homophones import HomophoneFolder
from services.router.normalise import syllable as pinyin_syllable
from services.router.similarity import CategoryProfiles

WEIGHTS = {"strong": 3.0, "terms": 2.0, "weak": 1.0, "places": 0.5}
EMERGENCY_WEIGHT = 4.0  # danger now outweighs any one word: "垃圾房着火了" is a safety case
DISMISSED_WEIGHT = 1.0  # "怕引起火灾": not an emergency, but still a hint of the category
LENGTH_BONUS = 0.1  # per character: between equal weights the more specific (longer) term wins
GAP = ".{0,6}"  # "A+B": B within six characters after A
CUE_WINDOW = 12  # how far before an emergency word a negation or a "not now" cue still applies
ONE_CHARACTER_MAX = WEIGHTS["terms"]  # one character (砸, 偷, 狗) is never strong evidence: 装修砸墙, 车窗被砸
SIMILARITY_WEIGHT = 8.0  # a typical resemblance (0.1-0.3) is worth a weak-to-ordinary word; chosen on the sets
ALARM_OVERRIDE = 3.0  # "救命啊，物业费又涨了": a cry for help does not beat strong evidence of a harmless category
METHOD = "lexicon-v3"


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
    def __init__(self, lexicon: Mapping, syllable: Callable[[str], str] = pinyin_syllable):
        self.version = lexicon.get("version", 1)
        categories = lexicon["categories"]
        self.categories = tuple(categories)
        self.default_tier = {name: spec.get("tier", "general") for name, spec in categories.items()}
        self.terms = [_term(label, WEIGHTS[kind] if len(label) > 1 else min(WEIGHTS[kind], ONE_CHARACTER_MAX), name)
                      for name, spec in categories.items() for kind in WEIGHTS for label in spec.get(kind) or ()]
        self.emergency = [_term(label, EMERGENCY_WEIGHT, name)
                          for name, labels in lexicon.get("emergency", {}).items() for label in labels]
        self.cues = compile_cues(lexicon.get("emergency_cues") or {})
        self.alarms = [_term(label, 0.0, lexicon.get("alarm_category", "special")) for label in lexicon.get("alarms") or ()]
        # only a category that has emergency words or cues can be an emergency on a bare cry for help
        self.can_be_emergency = {t.category for t in self.emergency} | {c.category for c in self.cues}
        self.coordination = {name: [_compile(t) for t in spec.get("coordination_terms") or ()]
                             for name, spec in categories.items()}
        self.any_coordination = [_compile(t) for t in lexicon.get("coordination_terms") or ()]
        self.negations = tuple(lexicon.get("negations") or ())
        self.not_now = tuple(lexicon.get("not_now") or ())
        self.past_after = tuple(lexicon.get("past_after") or ("过",))
        masks = sorted(lexicon.get("not_danger") or (), key=len, reverse=True)
        self._masks = re.compile("|".join(map(re.escape, masks))) if masks else None
        self.hint_weight = float(lexicon.get("hint_weight", 1.5))
        typos = lexicon.get("typos") or {}
        self._typos = re.compile("|".join(map(re.escape, sorted(typos, key=len, reverse=True)))) if typos else None
        self._typo_map = dict(typos)
        words = [part for term in (*self.terms, *self.emergency, *self.alarms) for part in term.label.split("+")]
        words += [w for body in (lexicon.get("emergency_cues") or {}).values() for group in body["all"] for w in group]
        self._homophones = HomophoneFolder([*words, *typos.values()], syllable, lexicon.get("homophone_exceptions") or ())
        self._profiles = CategoryProfiles({name: [spec.get("describe") or "",
                                                  *(t.label.replace("+", "") for t in self.terms if t.category == name)]
                                           for name, spec in categories.items()})

    def fold(self, text: str) -> str:
        return self._fold(text)[0]

    def _fold(self, text: str) -> tuple[str, list[dict]]:
        text = re.sub(r"\s+", "", text)
        text = self._typos.sub(lambda m: self._typo_map[m.group(0)], text) if self._typos else text
        return self._homophones.fold(text)

    def classify(self, text: str, hint: str | None = None) -> Classification:
        text, sound_alikes = self._fold(text)
        scores, matched = self._lexicon_scores(text)
        similar = self._profiles.similarity(text)
        for name, value in similar.items():
            scores[name] = scores.get(name, 0.0) + SIMILARITY_WEIGHT * value
        emergencies, dismissed = self._dangers(text)
        for found, cue in (*emergencies, *dismissed):
            scores[found.category] = scores.get(found.category, 0.0) + (DISMISSED_WEIGHT if cue else EMERGENCY_WEIGHT)
        evidence = max(scores.values(), default=0.0)
        hint_used = hint in self.default_tier and hint != "other"
        if hint_used:
            scores[hint] = scores.get(hint, 0.0) + self.hint_weight
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.categories.index(item[0])))
        if emergencies:  # the danger decides what the case is about: "车库灌满了，大爷挪车没上来" is safety
            ranked.sort(key=lambda item: item[0] not in {f.category for f, _ in emergencies})
        alarms = [] if emergencies else self._alarms(text)
        if evidence < 0.5 and not alarms:
            # nothing in the text itself: a bare hint is a guess, so it stays below the triage threshold
            category, confidence = (hint, 0.3) if hint_used else ("other", 0.2)
        else:
            category, best = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            confidence = best / (best + runner_up + 0.5) * (0.5 + 0.5 * min(1.0, best / 4))
        alarmed = bool(alarms) and (category in self.can_be_emergency or evidence < ALARM_OVERRIDE)
        if alarmed and category not in self.can_be_emergency:
            category = alarms[0].term.category
        if emergencies or alarmed:
            tier, confidence = "emergency", max(confidence, 0.9)
        else:
            tier = self._tier(category, text)
        explanation = {
            "method": METHOD, "lexicon_version": self.version,
            "matched": sorted(set(matched.get(category, []))),
            "emergency_terms": sorted({f.label for f, _ in emergencies}),
            "dismissed_emergency_terms": [{"term": f.label, "because": cue} for f, cue in dismissed],
            "alarms": [m.term.label for m in alarms] if alarmed else [],
            "similar": {name: round(value, 2) for name, value in sorted(similar.items(), key=lambda i: -i[1])[:3]},
            "sound_alikes": sound_alikes,
            "hint": hint, "hint_agreed": (hint == category) if hint else None,
            "scores": {name: round(value, 2) for name, value in ranked[:3]},
        }
        return Classification(category, tier, round(min(0.99, confidence), 2), explanation)

    def _lexicon_scores(self, text: str) -> tuple[dict[str, float], dict[str, list[str]]]:
        scores: dict[str, float] = {}
        matched: dict[str, list[str]] = {}
        for match in _longest_only(_find(self.terms, text)):
            if self._negated(text, match.start):
                continue
            scores[match.term.category] = (scores.get(match.term.category, 0.0) + match.term.weight
                                           + LENGTH_BONUS * match.term.size)
            matched.setdefault(match.term.category, []).append(match.term.label)
        return scores, matched

    def _dangers(self, text: str) -> tuple[list, list]:
        """Emergency words and cues that stand, and those dismissed with the reason (negated, past, not now)."""
        masked = self._masks.sub(lambda m: "□" * len(m.group(0)), text) if self._masks else text
        found = [(_Danger(m.term.label, m.term.category), ((m.start, m.end),)) for m in _find(self.emergency, masked)]
        found += [(_Danger("+".join(m.words), m.cue.category), m.spans) for m in find_cues(self.cues, masked, text)]
        standing, dismissed = [], []
        for danger, spans in found:
            cue = next(filter(None, (self._cue_before(masked, start) or self._past(masked, end) for start, end in spans)),
                       None)
            (dismissed if cue else standing).append((danger, cue))
        return standing, dismissed

    def _alarms(self, text: str) -> list[_Match]:
        return [m for m in _find(self.alarms, text) if not self._cue_before(text, m.start)]

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

    def _past(self, text: str, end: int) -> str | None:
        """A marker right after the word says it is over: "晕倒过", "着火以后"."""
        return next((f"past ({marker})" for marker in self.past_after if text.startswith(marker, end)), None)


@dataclass(frozen=True)
class _Danger:
    label: str
    category: str


def _find(terms: list[_Term], text: str) -> list[_Match]:
    found = []
    for term in terms:
        if term.first not in text:  # a plain substring test first: most terms are absent, and it is cheap
            continue
        hit = term.pattern.search(text)
        if hit:
            found.append(_Match(term, hit.start(), hit.end()))
    return found


def _longest_only(matches: list[_Match]) -> list[_Match]:
    """Drop a match overlapping a longer one ("充电" in "充电桩坏", "灯+坏" in "红绿灯坏"): the longer says more."""
    return [m for m in matches
            if not any(o.start < m.end and m.start < o.end and o.term.size > m.term.size for o in matches)]
