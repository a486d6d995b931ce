"""Danger now by composition (the lexicon's ``emergency_cues``): a hazard and a sign that it is happening
now, is severe or puts someone at risk, in one sentence. Pure; part of the classifier (classification.py,
docs/classifier.md)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

GAP = ".{0,6}"  # "A+B" in the lexicon: B within six characters after A
CUE_SPAN = 24  # every group of a cue within this many characters: one resident's sentence, not the whole report
SENTENCE_END = re.compile(r"[。！？!?；;\n]")


@dataclass(frozen=True)
class Cue:
    """Danger now by composition: a hazard (or a person) and a sign that it is happening now, is severe or
    puts someone at risk; it stands when every group matches in one sentence, close together, without
    overlapping (冒 + 火星, 燃气 + 越来越浓, 电梯 + 出不来, 好几天没出门 + 电话打不通)."""
    name: str
    category: str
    groups: tuple[re.Pattern, ...]
    unless: tuple[str, ...]  # a harmless source named in the sentence explains it: "烧纸，烟很大" is no fire


@dataclass(frozen=True)
class CueMatch:
    cue: Cue
    spans: tuple[tuple[int, int], ...]  # one per group: a "not now" cue before any of them dismisses the match
    words: tuple[str, ...]


def compile_cues(spec: Mapping[str, Mapping]) -> list[Cue]:
    return [Cue(name, body["category"], tuple(_alternatives(group) for group in body["all"]),
                tuple(body.get("unless") or ())) for name, body in spec.items()]


def _alternatives(words: Iterable[str]) -> re.Pattern:
    return re.compile("|".join(GAP.join(map(re.escape, w.split("+"))) for w in sorted(words, key=len, reverse=True)))


def find_cues(cues: list[Cue], text: str, unmasked: str | None = None) -> list[CueMatch]:
    """Cues in ``text`` (words that only look like hazards already masked); ``unless`` is read in ``unmasked``."""
    unmasked = text if unmasked is None else unmasked
    present = [cue for cue in cues if all(group.search(text) for group in cue.groups)]  # most: cheaply absent
    found = []
    for start, sentence in _sentences(text) if present else ():
        original = unmasked[start:start + len(sentence)]
        for cue in present:
            placed = None if any(word in original for word in cue.unless) else _compose(cue, sentence)
            if placed:
                found.append(CueMatch(cue, tuple((start + s, start + e) for s, e, _ in placed),
                                      tuple(word for _, _, word in placed)))
    return found


def _sentences(text: str) -> list[tuple[int, str]]:
    starts = [0] + [m.end() for m in SENTENCE_END.finditer(text)]
    return [(s, text[s:e]) for s, e in zip(starts, starts[1:] + [len(text)]) if e > s]


def _compose(cue: Cue, sentence: str, chosen: tuple = ()) -> tuple | None:
    """The first placement of one match per group, all within CUE_SPAN and none overlapping another."""
    if len(chosen) == len(cue.groups):
        return chosen
    for hit in cue.groups[len(chosen)].finditer(sentence):
        s, e = hit.span()
        span = max([e] + [c[1] for c in chosen]) - min([s] + [c[0] for c in chosen])
        if span <= CUE_SPAN and not any(s < c[1] and c[0] < e for c in chosen):
            placed = _compose(cue, sentence, (*chosen, (s, e, hit.group(0))))
            if placed:
                return placed
    return None
