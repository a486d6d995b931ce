"""Duplicates: a report by the same reporter, or from the same unit, about the same problem (same
category, mostly the same words: ``same_problem``) as a case still open and routed within the window is merged
into that case instead of being dispatched a second time. Pure: the caller finds the open cases; this
decides whether the new report duplicates one of them. A duplicate is checked before clustering."""
from __future__ import annotations

from dataclasses import dataclass

from services.router.clustering import pieces, words


@dataclass(frozen=True)
class Place:
    """Where a report is, as far as the router resolved it (None: not known to that level)."""
    unit: str | None
    building: str | None
    grid: str | None


@dataclass(frozen=True)
class OpenCase:
    case_id: str
    terms: frozenset[str]
    reporter: str  # opaque key; "case:<id>" when nobody is known
    place: Place


@dataclass(frozen=True)
class Duplicate:
    into_case_id: str  # the surviving case: the oldest open one it duplicates
    match: str  # "reporter" or "unit"
    matched: tuple[str, ...]  # the words (two-character pieces) both reports share


def find_duplicate(terms: frozenset[str], reporter: str, place: Place, open_cases: list[OpenCase]) -> Duplicate | None:
    """The first (oldest) open case the report duplicates; ``open_cases`` come oldest first and already
    share the report's category."""
    for case in open_cases:
        if not same_problem(terms, case.terms):
            continue
        match = _match(reporter, place, case)
        if match:
            return Duplicate(case.case_id, match, tuple(sorted(pieces(terms) & pieces(case.terms))))
    return None


SAME_PROBLEM_OVERLAP = 0.5
# words that say where, not what: two reports about a 楼道 are not the same problem for that
PLACE_WORDS = ("楼道", "走廊", "过道", "单元", "小区", "院子", "院里", "楼下", "楼上", "门口", "号楼", "楼栋")
FUNCTION_CHARACTERS = frozenset("不了的有没又还在是")


def same_problem(terms: frozenset[str], other: frozenset[str]) -> bool:
    """Stricter than a cluster's "similar" (any two characters in common), since a merged report is never
    dispatched: the characters that name the thing — the matched words without place words and function
    characters — overlap by at least half of the smaller set (楼道灯 and 楼道 + 灯不亮: 灯, yes; 楼道灯 and
    楼道 + 扶手, which share only the place, no)."""
    mine, theirs = _thing(terms), _thing(other)
    if not mine or not theirs:
        return False
    return len(mine & theirs) / min(len(mine), len(theirs)) >= SAME_PROBLEM_OVERLAP


def _thing(terms: frozenset[str]) -> set[str]:
    characters = set()
    for word in words(terms):
        for place in PLACE_WORDS:
            word = word.replace(place, "")
        characters |= set(word) - FUNCTION_CHARACTERS
    return characters


def _match(reporter: str, place: Place, case: OpenCase) -> str | None:
    if place.unit and place.unit == case.place.unit:
        return "unit"
    if known_reporter(reporter) and reporter == case.reporter and _same_place(place, case.place):
        return "reporter"
    return None


def known_reporter(reporter: str) -> bool:
    return not reporter.startswith("case:")


def _same_place(place: Place, other: Place) -> bool:
    """One person reporting the same problem in two buildings (a grid worker on patrol) is two cases:
    the places must agree at the finest level both know, the building, else the grid."""
    if place.building and other.building:
        return place.building == other.building
    return bool(place.grid) and place.grid == other.grid
