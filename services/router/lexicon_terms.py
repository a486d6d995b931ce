"""The lexicon's terms and finding them in a folded text. Pure; part of the classifier (classification.py).

A term is a word, or words joined by "+" that may stand a few characters apart ("灯+坏": 灯又坏). The lexicon
has ~830 category terms: testing each for its first word in every report cost more than all the rest of
the lexicon's matching, so ``TermIndex`` files them under the first character of that word and a report
tests only those whose first character it contains — the same terms, in the lexicon's order (filing them
under two characters screens out more terms, but building a report's pairs costs about what it saves). A
term found by its first word is then searched for from there, and a plain word (no "+") is found by that
test alone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain
from typing import Iterable

from services.router.cues import GAP

SCREENED_FROM = 32  # terms; fewer (the emergency words, the cries for help) are cheaper to test one by one


@dataclass(frozen=True)
class Term:
    label: str
    pattern: re.Pattern
    weight: float
    category: str
    first: str  # the part before any "+": a cheap substring test screens most terms out
    size: int  # characters matched, without the gaps: between equal weights the longer term says more


@dataclass(frozen=True)
class Match:
    term: Term
    start: int
    end: int


def term(label: str, weight: float, category: str) -> Term:
    parts = label.split("+")
    return Term(label, re.compile(GAP.join(map(re.escape, parts))), weight, category, parts[0], len("".join(parts)))


def pattern(label: str) -> re.Pattern:
    return term(label, 0.0, "").pattern


class TermIndex:
    """Terms filed by the first character of their first word, to find them in a text."""

    def __init__(self, terms: Iterable[Term]):
        self._terms = list(terms)
        self._by_first: dict[str, list[int]] = {}  # a character -> the positions of the terms filed under it
        for position, found in enumerate(self._terms):
            self._by_first.setdefault(found.first[:1], []).append(position)
        self._plain = ["+" not in found.label for found in self._terms]  # one word: its pattern is the word
        self._all = range(len(self._terms)) if len(self._terms) < SCREENED_FROM else None

    def find(self, text: str) -> list[Match]:
        """The first match of every term the text holds, in the terms' order."""
        found = []
        for position in self._candidates(text) if self._all is None else self._all:
            candidate = self._terms[position]
            start = text.find(candidate.first)  # a plain substring test first: cheap, and most are absent
            if start < 0:
                continue
            if self._plain[position]:  # its pattern's first match is where its word first stands
                found.append(Match(candidate, start, start + candidate.size))
                continue
            hit = candidate.pattern.search(text, start)  # no match of "A+B" begins before A's first place
            if hit:
                found.append(Match(candidate, hit.start(), hit.end()))
        return found

    def _candidates(self, text: str) -> list[int]:
        """The positions of the terms whose first character the text holds, in order."""
        characters = set(text)
        characters.add("")  # a term whose first word is empty is tested on every text
        filed = filter(self._by_first.__contains__, characters)  # not set.intersection(dict): that walks the dict
        return sorted(chain.from_iterable(map(self._by_first.__getitem__, filed)))


def longest_only(matches: list[Match]) -> list[Match]:
    """Drop a match overlapping a longer one ("充电" in "充电桩坏", "灯+坏" in "红绿灯坏"): the longer says more."""
    return [m for m in matches
            if not any(o.start < m.end and m.start < o.end and o.term.size > m.term.size for o in matches)]
