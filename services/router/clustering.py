"""Concentrated cases (集中突出): several residents of one compound who report the same problem (same
category and meaning) within a window become one case owned by the branch, which convenes the residents'
deliberation forum. Residents are counted, not reports: one person reporting five times is not five.
Pure: the caller finds the recent reports; this decides whether they form (or join) a cluster."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Callable


@dataclass(frozen=True)
class Recent:
    case_id: str
    terms: frozenset[str]
    cluster_id: str | None
    reporter: str  # who reported it (an opaque key); the case id when nobody is known


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    members: tuple[str, ...]  # earlier cases, oldest first; the new case is not among them
    new: bool  # True: formed by this report; False: it joins a cluster formed before
    shared_terms: tuple[str, ...]


def words(terms: frozenset[str]) -> list[str]:
    """The matched terms as the words they spell (a lexicon term ``A+B`` matched A then B: ``AB``)."""
    return [term.replace("+", "") for term in terms]


@lru_cache(maxsize=4096)  # a compound's recent reports mostly repeat a few sets of terms
def pieces(terms: frozenset[str]) -> frozenset[str]:
    """Two characters in a row of every matched term (a term of one character: itself)."""
    found = set()
    for word in words(terms):
        found |= {word[i:i + 2] for i in range(len(word) - 1)} or {word}
    return frozenset(found)


def find_cluster(terms: frozenset[str], reporter: str, recent: list[Recent], min_reports: int,
                 new_cluster_id: Callable[[], str]) -> Cluster | None:
    """The cluster this report forms or joins, with the recent reports similar to it — same meaning, as far
    as words show it: their matched terms share two characters in a row (垃圾桶 and 垃圾站 both speak of
    垃圾). A new cluster is named by ``new_cluster_id()`` (a derived id: asked only when one forms, as most
    reports form none)."""
    mine = pieces(terms)  # each report's pieces once: a busy compound has hundreds of recent reports
    alike = [(r, theirs) for r, theirs in zip(recent, map(pieces, (r.terms for r in recent))) if mine & theirs]
    existing = next((r.cluster_id for r, _ in alike if r.cluster_id), None)
    if existing:
        members = tuple(r.case_id for r, _ in alike if r.cluster_id == existing)
        return Cluster(existing, members, False, _shared(mine, alike))
    if len({r.reporter for r, _ in alike} | {reporter}) >= min_reports:
        return Cluster(new_cluster_id(), tuple(r.case_id for r, _ in alike), True, _shared(mine, alike))
    return None


def window_start(now: datetime, window: timedelta) -> str:
    return (now - window).isoformat()


def _shared(mine: frozenset[str], alike: list[tuple[Recent, frozenset[str]]]) -> tuple[str, ...]:
    """The words most of the cluster shares, for the explanation (``mine``: this report's pieces; ``alike``:
    each similar report with its pieces)."""
    counted = {piece: sum(piece in theirs for _, theirs in alike) for piece in mine}
    return tuple(sorted(counted, key=lambda piece: (-counted[piece], piece))[:3])
