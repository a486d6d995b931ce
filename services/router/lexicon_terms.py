"""The lexicon's terms and finding them in a folded text. Pure; part of the classifier (classification.py).

A term is a word, or words joined by "+" that may stand a few characters apart ("灯+坏": 灯又坏). The lexicon
has ~830 category terms: testing each for its first word in every report cost more than all the rest of
the lexicon's matching, so ``TermIndex`` files them under the first character of that word and a report
tests only those whose first character it contains — the same terms, in the lexicon's order."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from services.router.cues import GAP


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
        self._by_first: dict[str, list[tuple[int, Term]]] = {}
        for position, found in enumerate(terms):
            self._by_first.setdefault(found.first[:1], []).append((position, found))

    def find(self, text: str) -> list[Match]:
        """The first match of every term the text holds, in the terms' order."""
        characters = set(text)
        characters.add("")  # a term whose first word is empty is tested on every text
        candidates = sorted(pair for character in characters.intersection(self._by_first)
                            for pair in self._by_first[character])
        found = []
        for _, candidate in candidates:
            if candidate.first not in text:  # a plain substring test first: cheap, and most are absent
                continue
            hit = candidate.pattern.search(text)
            if hit:
                found.append(Match(candidate, hit.start(), hit.end()))
        return found


def longest_only(matches: list[Match]) -> list[Match]:
    """Drop a match overlapping a longer one ("充电" in "充电桩坏", "灯+坏" in "红绿灯坏"): the longer says more."""
    return [m for m in matches
            if not any(o.start < m.end and m.start < o.end and o.term.size > m.term.size for o in matches)]
