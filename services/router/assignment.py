"""Where a case happens and who owns it: the five-level chain, the handling tiers and escalation
(DOMAIN.md, docs/routing.md). Pure: it works on org-unit documents handed to it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# From the bottom of the chain up: (level, role held there).
CHAIN = (
    ("unit", "unit_steward"),
    ("building", "building_head"),
    ("grid", "grid_worker"),
    ("branch", "branch_secretary"),
    ("community", "community_secretary"),
    ("street", "street_office"),
    ("district", "command_center"),
)
LEVELS = tuple(level for level, _ in CHAIN)
ROLE_AT = dict(CHAIN)
FIRST_LEVEL_BY_TIER = {"general": "unit", "coordination": "grid", "concentrated": "branch", "emergency": "branch"}
# An emergency is reported at once to every level above the branch (and to the department).
EMERGENCY_PARALLEL_LEVELS = ("community", "street", "district")

Lookup = Callable[[str | None], dict | None]


@dataclass(frozen=True)
class Placement:
    chain: dict  # level -> org code, as far down as known
    resolved: bool  # False: the report's location was unknown; the case goes to triage
    how: str = ""  # what located it: unit_code, building_code, address, coordinates, duty_grid
    detail: str = ""


@dataclass(frozen=True)
class Assignment:
    assignee: dict
    level: str
    reason: str


def place(location: dict, lookup: Lookup, district: dict | None, found: Placement | None = None) -> Placement:
    """From a unit or building code; else from what the address or coordinates matched (``found``);
    else the district's duty community's duty grid worker triages it: never drop a case."""
    for key, level in (("unit_code", "unit"), ("building_code", "building")):
        unit = lookup(location.get(key))
        if unit is not None and unit["level"] == level:
            return Placement(dict(unit["chain"]), True, key)
    if found is not None and found.resolved:
        return found
    community = lookup((district or {}).get("duty_community"))
    grid = lookup((community or {}).get("duty_grid"))
    detail = found.detail if found is not None else "no unit, building, address or coordinates matched"
    if grid is not None:
        return Placement(dict(grid["chain"]), False, "duty_grid", detail)
    return Placement(dict((district or {}).get("chain", {})), False, "district", detail)


def assign(placement: Placement, tier: str, lookup: Lookup) -> Assignment:
    start = "grid" if not placement.resolved else FIRST_LEVEL_BY_TIER[tier]
    why = ("location unknown: the duty grid worker triages it" if not placement.resolved
           else f"{tier} case: first owner is the {ROLE_AT[start].replace('_', ' ')}")
    chosen = _staffed_from(placement, LEVELS.index(start), lookup)
    if chosen is None:
        raise LookupError("nobody on the chain can own this case; is the org registry imported?")
    person, level, skipped = chosen
    if skipped:
        why += f" ({', '.join(skipped)} not staffed)"
    return Assignment(person, level, why)


def climb(placement: Placement, from_level: str, lookup: Lookup, reason: str) -> Assignment | None:
    """The next staffed level above ``from_level``; None at the top of the chain."""
    if from_level not in LEVELS or from_level == LEVELS[-1]:
        return None
    chosen = _staffed_from(placement, LEVELS.index(from_level) + 1, lookup)
    if chosen is None:
        return None
    person, level, skipped = chosen
    return Assignment(person, level, reason + (f" ({', '.join(skipped)} not staffed)" if skipped else ""))


def emergency_parallel(placement: Placement, lookup: Lookup) -> list[Assignment]:
    found = []
    for level in EMERGENCY_PARALLEL_LEVELS:
        person = _person(placement, level, lookup)
        if person:
            found.append(Assignment(person, level, f"emergency: reported at once to the {level}"))
    return found


def person_at(placement: Placement, level: str, lookup: Lookup) -> dict | None:
    return _person(placement, level, lookup)


def _person(placement: Placement, level: str, lookup: Lookup) -> dict | None:
    return ((lookup(placement.chain.get(level)) or {}).get("people") or {}).get(ROLE_AT[level])


def _staffed_from(placement: Placement, index: int, lookup: Lookup) -> tuple[dict, str, list[str]] | None:
    skipped = []
    for level, role in CHAIN[index:]:
        if level not in placement.chain:
            continue  # located only down to a higher level (e.g. a grid from coordinates)
        person = _person(placement, level, lookup)
        if person:
            return person, level, skipped
        skipped.append(role.replace("_", " "))
    return None
