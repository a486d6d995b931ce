"""What a report is about and how it must be handled, from its text. Two signals for the category: a
weighted lexicon per category and character-bigram similarity to each category's description and terms
(which decides when the words are weak or missing). Danger now is found by emergency words and by compositional cues (hazard × happening now /
severity / people at risk), both ignored when negated, past, hypothetical or reported from elsewhere. The
channel's hint is weighed as one more piece of evidence, and words typed with the wrong homophone are read
as the lexicon's word. Pure (standard library only); the lexicon (services/router/data/lexicon.yaml, with
its pinyin table) is handed in, already parsed, and the text must already be folded to Simplified Chinese
(normalise.py). The homophones, the compositional cues and the resemblance live in homophones.py, cues.py
and resemblance.py. When a trained n-gram model (ngram_model.py) is given, its reading is blended with the
lexicon's evidence (combination.py). See docs/classifier.md for the method and its figures."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Mapping

from services.router.combination import Blend
from services.router.cues import compile_cues, find_cues
from services.router.homophones import HomophoneFolder
from services.router.lexicon_terms import Match, TermIndex, longest_only, pattern, term
from services.router.ngram_model import NgramModel, Reading
from services.router.resemblance import CategoryProfiles

WEIGHTS = {"strong": 3.0, "terms": 2.0, "weak": 1.0, "places": 0.5}
EMERGENCY_WEIGHT = 4.0  # danger now outweighs any one word: "垃圾房着火了" is a safety case
DISMISSED_WEIGHT = 1.0  # "怕引起火灾": not an emergency, but still a hint of the category
LENGTH_BONUS = 0.1  # per character: between equal weights the more specific (longer) term wins
CUE_WINDOW = 12  # how far before an emergency word a negation or a "not now" cue still applies
ONE_CHARACTER_MAX = WEIGHTS["terms"]  # one character (砸, 偷, 狗) is never strong evidence: 装修砸墙, 车窗被砸
SIMILARITY_WEIGHT = 8.0  # a typical resemblance (0.1-0.3) is worth a weak-to-ordinary word; chosen on the sets
NOTHING_BELOW = 1.0  # less than one weak word's worth (a faint resemblance alone): the text says nothing
ALARM_OVERRIDE = 3.0  # "救命啊，物业费又涨了": a cry for help does not beat strong evidence of a harmless category
METHOD = "lexicon-v3"
METHOD_WITH_MODEL = "lexicon-v3+ngram-model"  # the lexicon's evidence blended with the trained model (combination.py)


@dataclass(frozen=True)
class Classification:
    category: str
    tier: str
    confidence: float
    explanation: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """What the lexicon found in one report (``Classifier.evidence``); ``Classifier.decide`` turns it into a
    verdict, with or without the trained model's reading."""
    text: str  # folded
    scores: dict[str, float]  # words, resemblance and danger per category, before the hint
    matched: dict[str, list[str]]
    similar: dict[str, float]
    emergencies: list  # [(danger, None)] standing
    dismissed: list  # [(danger, reason)]
    alarms: list  # cries for help not dismissed (none when a danger stands)
    sound_alikes: list[dict]
    hint: str | None


class Classifier:
    def __init__(self, lexicon: Mapping, model: NgramModel | None = None, blend: Blend | None = None):
        self.model, self.blend = model, blend or Blend()
        self.version = lexicon.get("version", 1)
        categories = lexicon["categories"]
        self.categories = tuple(categories)
        self._order = {name: index for index, name in enumerate(self.categories)}  # ties: the lexicon's order
        self.default_tier = {name: spec.get("tier", "general") for name, spec in categories.items()}
        self.terms = [term(label, WEIGHTS[kind] if len(label) > 1 else min(WEIGHTS[kind], ONE_CHARACTER_MAX), name)
                      for name, spec in categories.items() for kind in WEIGHTS for label in spec.get(kind) or ()]
        self.emergency = [term(label, EMERGENCY_WEIGHT, name)
                          for name, labels in lexicon.get("emergency", {}).items() for label in labels]
        self.cues = compile_cues(lexicon.get("emergency_cues") or {})
        self.alarms = [term(label, 0.0, lexicon.get("alarm_category", "special")) for label in lexicon.get("alarms") or ()]
        self._term_index, self._emergency_index = TermIndex(self.terms), TermIndex(self.emergency)
        self._alarm_index = TermIndex(self.alarms)
        # the weak words of each category (坏了, 维修 …): they only say that something is wrong
        self.weak_words = {name: frozenset(t.label for t in self.terms if t.category == name and t.weight == WEIGHTS["weak"])
                           for name in categories}
        # only a category that has emergency words or cues can be an emergency on a bare cry for help
        self.can_be_emergency = {t.category for t in self.emergency} | {c.category for c in self.cues}
        self.coordination = {name: [pattern(t) for t in spec.get("coordination_terms") or ()]
                             for name, spec in categories.items()}
        # "跟物业说了好几次": the party a resident turned to is not what the report is about, but shows that
        # another party is needed; these phrases are hidden from the category words and lift the tier
        self.addressed = [pattern(t) for t in lexicon.get("addressed") or ()]
        self.any_coordination = [pattern(t) for t in lexicon.get("coordination_terms") or ()] + self.addressed
        self.negations = tuple(lexicon.get("negations") or ())
        self.figurative = frozenset(lexicon.get("figurative") or ())
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
        sounds = {char: sound for sound, chars in (lexicon.get("sounds") or {}).items() for char in chars}
        self._homophones = HomophoneFolder([*words, *typos.values()], sounds, lexicon.get("homophone_exceptions") or ())
        self._profiles = CategoryProfiles({name: [spec.get("describe") or "",
                                                  *(t.label.replace("+", "") for t in self.terms if t.category == name)]
                                           for name, spec in categories.items()})

    def fold(self, text: str) -> str:
        return self._fold(text)[0]

    def _fold(self, text: str) -> tuple[str, list[dict]]:
        text = re.sub(r"\s+", "", text)
        text = self._typos.sub(lambda m: self._typo_map[m.group(0)], text) if self._typos else text
        return self._homophones.fold(text)

    def with_model(self, model: NgramModel | None, blend: Blend | None = None) -> "Classifier":
        """This lexicon with another trained model (or none): the lexicon is built once."""
        twin = copy.copy(self)
        twin.model, twin.blend = model, blend or self.blend
        return twin

    def classify(self, text: str, hint: str | None = None) -> Classification:
        evidence = self.evidence(text, hint)
        return self.decide(evidence, self.model.read(evidence.text) if self.model else None)

    def evidence(self, text: str, hint: str | None = None) -> Evidence:
        """What the lexicon finds in the report, before anything is decided."""
        text, sound_alikes = self._fold(text)
        scores, matched = self._lexicon_scores(text)
        similar = self._profiles.similarity(text)
        for name, value in similar.items():
            scores[name] = scores.get(name, 0.0) + SIMILARITY_WEIGHT * value
        emergencies, dismissed = self._dangers(text)
        for found, cue in (*emergencies, *dismissed):
            scores[found.category] = scores.get(found.category, 0.0) + (DISMISSED_WEIGHT if cue else EMERGENCY_WEIGHT)
        return Evidence(text, scores, matched, similar, emergencies, dismissed,
                        [] if emergencies else self._alarms(text), sound_alikes, hint)

    def decide(self, found: Evidence, reading: Reading | None = None) -> Classification:
        """The verdict from the lexicon's evidence and, when there is a model, what the model read."""
        scores = dict(found.scores)
        evidence = max(scores.values(), default=0.0)
        hint, alarms, emergencies = found.hint, found.alarms, found.emergencies
        hint_used = hint in self.default_tier and hint != "other"
        if hint_used:
            scores[hint] = scores.get(hint, 0.0) + self.hint_weight
        if reading:
            scores = self.blend.scores(scores, reading.probabilities, self.categories)
        order = self._order
        ranked = sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))
        dangerous = {f.category for f, _ in emergencies}
        if dangerous and (reading is None or self.blend.danger_decides(dangerous, reading.probabilities)):
            # the danger decides what the case is about: "车库灌满了，大爷挪车没上来" is safety
            ranked.sort(key=lambda item: item[0] not in dangerous)
        if evidence < NOTHING_BELOW and not alarms and (reading is None or self.blend.says_nothing(reading.probabilities)):
            # nothing in the text itself: a bare hint is a guess, so it stays below the triage threshold
            category, confidence = (hint, 0.3) if hint_used else ("other", 0.2)
        elif reading:
            category = ranked[0][0]
            confidence = self.blend.confidence(scores, category)
        else:
            category, best = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            confidence = best / (best + runner_up + 0.5) * (0.5 + 0.5 * min(1.0, best / 4))
        alarmed = bool(alarms) and (category in self.can_be_emergency or evidence < ALARM_OVERRIDE)
        if alarmed and category not in self.can_be_emergency:
            category = alarms[0].term.category
        learned = bool(reading) and not (emergencies or alarmed) and self.blend.emergency(reading.emergency,
                                                                                         bool(found.dismissed))
        ruled_out = (bool(reading) and self._only_figurative(emergencies, alarms if alarmed else [])
                     and self.blend.rules_out(reading.emergency))
        lexicon_danger = bool(emergencies or alarmed) and not ruled_out
        if lexicon_danger or learned:
            tier, confidence = "emergency", max(confidence, 0.9)
        elif reading and reading.coordination is not None:
            tier = self.blend.tier(reading.coordination)
        else:
            tier = self._tier(category, found.text)
        explanation = {
            "method": METHOD_WITH_MODEL if reading else METHOD, "lexicon_version": self.version,
            "matched": sorted(set(found.matched.get(category, []))),
            "emergency_terms": sorted({f.label for f, _ in emergencies}),
            "dismissed_emergency_terms": [{"term": f.label, "because": cue} for f, cue in found.dismissed],
            "alarms": [m.term.label for m in alarms] if alarmed else [],
            "similar": {name: round(value, 2) for name, value in sorted(found.similar.items(), key=lambda i: -i[1])[:3]},
            "sound_alikes": found.sound_alikes,
            "hint": hint, "hint_agreed": (hint == category) if hint else None,
            "scores": {name: round(value, 2) for name, value in ranked[:3]},
        }
        if reading:
            explanation["model"] = self._model_explanation(reading, category, tier == "emergency", learned, ruled_out)
        return Classification(category, tier, round(min(0.99, confidence), 2), explanation)

    def _model_explanation(self, reading: Reading, category: str, emergency: bool, learned: bool,
                           ruled_out: bool) -> dict:
        said = {"version": self.model.version, "probability": round(reading.probabilities.get(category, 0.0), 3),
                "ngrams": self.model.top_ngrams(reading, category) if category in self.model.classes else [],
                "emergency_probability": round(reading.emergency, 3), "emergency_by_model": learned,
                "emergency_ruled_out_by_model": ruled_out}
        if reading.coordination is not None:
            said["coordination_probability"] = round(reading.coordination, 3)
        if emergency:
            said["emergency_ngrams"] = self.model.top_ngrams(reading)
        return said

    def _lexicon_scores(self, text: str) -> tuple[dict[str, float], dict[str, list[str]]]:
        scores: dict[str, float] = {}
        matched: dict[str, list[str]] = {}
        for pattern in self.addressed:
            text = pattern.sub(lambda m: "□" * len(m.group(0)), text)
        for match in longest_only(self._term_index.find(text)):
            if self._negated(text, match.start):
                continue
            scores[match.term.category] = (scores.get(match.term.category, 0.0) + match.term.weight
                                           + LENGTH_BONUS * match.term.size)
            matched.setdefault(match.term.category, []).append(match.term.label)
        return scores, matched

    def _dangers(self, text: str) -> tuple[list, list]:
        """Emergency words and cues that stand, and those dismissed with the reason (negated, past, not now)."""
        masked = self._masks.sub(lambda m: "□" * len(m.group(0)), text) if self._masks else text
        found = [(_Danger(m.term.label, m.term.category, m.term.label in self.figurative), ((m.start, m.end),))
                 for m in self._emergency_index.find(masked)]
        found += [(_Danger("+".join(m.words), m.cue.category, m.cue.name in self.figurative), m.spans)
                  for m in find_cues(self.cues, masked, text)]
        standing, dismissed = [], []
        for danger, spans in found:
            cue = next(filter(None, (self._cue_before(masked, start) or self._past(masked, end) for start, end in spans)),
                       None)
            (dismissed if cue else standing).append((danger, cue))
        return standing, dismissed

    def _only_figurative(self, emergencies: list, alarms: list[Match]) -> bool:
        """Every danger shown is a word residents also say of no danger now (the lexicon's ``figurative``)."""
        shown = [found.figurative for found, _ in emergencies] + [m.term.label in self.figurative for m in alarms]
        return bool(shown) and all(shown)

    def _alarms(self, text: str) -> list[Match]:
        return [m for m in self._alarm_index.find(text) if not self._cue_before(text, m.start)]

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
    figurative: bool  # also said of no danger now ("要出人命了"): a model sure of that may overrule it
