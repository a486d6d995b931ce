"""Danger now, recognised by composition rather than by whole phrases. A cue is a few groups of words
(a hazard, and a sign that it is happening now, is severe or puts someone at risk); it stands when every
group matches inside one sentence, within WINDOW characters, without overlapping: 冒 + 火星, 燃气 + 越来越浓,
电梯 + 出不来, 好几天没出门 + 电话打不通. Pure; the cues come from the lexicon (`emergency_cues`)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

WINDOW = 24  # every group of a cue within this many characters: one resident's sentence, not the whole report
SENTENCE_END = re.compile(r"[。！？!?；;\n]")


@dataclass(frozen=True)
class Cue:
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
    """One pattern for a group: longest word first, "A+B" as A then B within a few characters (as in the lexicon)."""
    parts = [".{0,6}".join(map(re.escape, w.split("+"))) for w in sorted(words, key=len, reverse=True)]
    return re.compile("|".join(parts))


def find_cues(cues: list[Cue], text: str, unmasked: str | None = None) -> list[CueMatch]:
    """Cues in ``text`` (words that only look like hazards already masked); ``unless`` is read in ``unmasked``."""
    unmasked = text if unmasked is None else unmasked
    present = [cue for cue in cues if all(group.search(text) for group in cue.groups)]  # most cues: cheaply absent
    found = []
    for sentence_start, sentence in _sentences(text) if present else ():
        original = unmasked[sentence_start:sentence_start + len(sentence)]
        for cue in present:
            placed = None if any(word in original for word in cue.unless) else _compose(cue, sentence)
            if placed:
                found.append(CueMatch(cue, tuple((sentence_start + s, sentence_start + e) for s, e, _ in placed),
                                      tuple(word for _, _, word in placed)))
    return found


def _sentences(text: str) -> list[tuple[int, str]]:
    starts = [0] + [m.end() for m in SENTENCE_END.finditer(text)]
    ends = starts[1:] + [len(text)]
    return [(s, text[s:e]) for s, e in zip(starts, ends) if e > s]


def _compose(cue: Cue, sentence: str) -> list[tuple[int, int, str]] | None:
    """The first placement of one match per group, all within WINDOW and none overlapping another."""
    hits = [[(m.start(), m.end(), m.group(0)) for m in group.finditer(sentence)] for group in cue.groups]
    if not all(hits):
        return None
    return _place(hits, [])


def _place(hits: list[list[tuple[int, int, str]]], chosen: list[tuple[int, int, str]]):
    if len(chosen) == len(hits):
        return chosen
    for hit in hits[len(chosen)]:
        overlaps = any(hit[0] < c[1] and c[0] < hit[1] for c in chosen)
        span = max([hit[1]] + [c[1] for c in chosen]) - min([hit[0]] + [c[0] for c in chosen])
        if not overlaps and span <= WINDOW:
            placed = _place(hits, chosen + [hit])
            if placed:
                return placed
    return None
