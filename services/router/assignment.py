"""Where a case happens and who owns it first: the five-level chain and the handling tiers
(docs/architecture.md, DOMAIN.md). Pure: it works on org-unit documents handed to it."""
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
FIRST_LEVEL_BY_TIER = {"general": "unit", "coordination": "grid", "concentrated": "branch", "emergency": "branch"}

Lookup = Callable[[str | None], dict | None]


@dataclass(frozen=True)
class Placement:
    chain: dict  # level -> org code, as far down as known
    resolved: bool  # False: the report's location was unknown; the case goes to triage


@dataclass(frozen=True)
class Assignment:
    assignee: dict
    level: str
    reason: str


def place(location: dict, lookup: Lookup, district: dict | None) -> Placement:
    for key, level in (("unit_code", "unit"), ("building_code", "building")):
        unit = lookup(location.get(key))
        if unit is not None and unit["level"] == level:
            return Placement(dict(unit["chain"]), True)
    # Unknown place: the district's duty community's duty grid worker triages it; never drop a case.
    community = lookup((district or {}).get("duty_community"))
    grid = lookup((community or {}).get("duty_grid"))
    if grid is not None:
        return Placement(dict(grid["chain"]), False)
    return Placement(dict((district or {}).get("chain", {})), False)


def assign(placement: Placement, tier: str, lookup: Lookup) -> Assignment:
    start = "grid" if not placement.resolved else FIRST_LEVEL_BY_TIER[tier]
    levels = [level for level, _ in CHAIN]
    skipped = []
    for level, role in CHAIN[levels.index(start):]:
        person = ((lookup(placement.chain.get(level)) or {}).get("people") or {}).get(role)
        if person:
            why = ("location unknown: the duty grid worker triages it" if not placement.resolved
                   else f"{tier} case: first owner is the {role.replace('_', ' ')}")
            if skipped:
                why += f" ({', '.join(skipped)} not staffed)"
            return Assignment(person, level, why)
        skipped.append(role.replace("_", " "))
    raise LookupError("nobody on the chain can own this case; is the org registry imported?")
