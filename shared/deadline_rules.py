"""The deadline part of the routing file: per tier, whether its deadlines count working time, and the
acknowledge/resolve limits per tier and level. The router sets each assignment's deadlines with it;
the tracker's SLA sweep reads the same file to count them (warning points, a reopened case's fresh
resolution deadline, time paused while waiting for the resident). One file, one parser, so the two
services can never disagree about which clock a tier runs on.

The routing file is deployment configuration read by both services (``GRIDDESK_ROUTING_FILE``); its
default copy lives in the router's data folder. Its other sections (departments, clustering, triage)
are the router's alone (``services/router/routing_rules.py``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from shared.events.contracts.common import DEADLINES, ORG_LEVELS, TIERS
from shared.working_time import WorkingCalendar

# Found by path, not by import: shared never imports services (installed or not, both packages sit side by side).
DEFAULT_ROUTING_FILE = Path(__file__).resolve().parent.parent / "services" / "router" / "data" / "routing.yaml"
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class RoutingFileError(ValueError):
    """The routing file is not valid; the message says where."""


@dataclass(frozen=True)
class DeadlineRules:
    working_time: Mapping[str, bool]  # tier -> counted in working time (else wall-clock)
    limits: Mapping[str, Mapping[str, Mapping[str, timedelta]]]  # tier -> level|default -> kind -> span

    def limit(self, tier: str, level: str, kind: str) -> timedelta:
        by_level = self.limits[tier]
        return (by_level.get(level) or by_level["default"])[kind]

    def counts_working_time(self, tier: str) -> bool:
        return self.working_time[tier]

    def due(self, calendar: WorkingCalendar, start: datetime, tier: str, level: str, kind: str) -> datetime:
        """When a deadline of this tier, level and kind started at ``start`` falls due."""
        return calendar.add(start, self.limit(tier, level, kind), working_time=self.counts_working_time(tier))


def read_routing_file(path: str | Path | None = None) -> object:
    """The routing file's YAML, parsed but not yet validated (default: the router's ``data/routing.yaml``)."""
    path = path or DEFAULT_ROUTING_FILE
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as error:
        raise RoutingFileError(f"{path}: cannot read it ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise RoutingFileError(f"{path}: not valid YAML: {error}") from None


def load_deadline_rules(path: str | Path | None = None) -> DeadlineRules:
    """The deadline sections of the routing file; a bad file names itself and the entry."""
    path = path or DEFAULT_ROUTING_FILE
    raw = read_routing_file(path)
    try:
        return parse_deadline_rules(raw)
    except RoutingFileError as error:
        raise RoutingFileError(f"{path}: {error}") from None


def parse_deadline_rules(raw: object, levels: Iterable[str] = (*ORG_LEVELS, "department")) -> DeadlineRules:
    """``working_time`` and ``deadlines`` of a routing file's mapping; ``levels`` are the level keys allowed
    under a tier besides ``default`` (the router passes its chain and ``department``)."""
    if not isinstance(raw, dict):
        raise RoutingFileError("the top level must be a mapping")
    working_time = mapping_entry(raw, "working_time")
    for tier in TIERS:
        if not isinstance(working_time.get(tier), bool):
            raise RoutingFileError(f"working_time.{tier} must be true or false")
    only_entries(working_time, TIERS, "working_time")
    deadlines = mapping_entry(raw, "deadlines")
    only_entries(deadlines, TIERS, "deadlines")
    allowed = ("default", *levels)
    limits = {}
    for tier in TIERS:
        by_level = deadlines.get(tier)
        if not isinstance(by_level, dict) or "default" not in by_level:
            raise RoutingFileError(f"deadlines.{tier} must be a mapping with a 'default' entry")
        only_entries(by_level, allowed, f"deadlines.{tier}")
        limits[tier] = {level: _spans(spans, f"deadlines.{tier}.{level}") for level, spans in by_level.items()}
    return DeadlineRules(dict(working_time), limits)


def _spans(raw: object, where: str) -> dict[str, timedelta]:
    if not isinstance(raw, dict) or set(raw) != set(DEADLINES):
        raise RoutingFileError(f"{where} must give exactly {' and '.join(DEADLINES)}")
    return {kind: duration(raw[kind], f"{where}.{kind}") for kind in DEADLINES}


def duration(value: object, where: str = "duration") -> timedelta:
    """``30m``, ``4h``, ``2d`` (a day of working time is one whole working day)."""
    match = DURATION.match(str(value).strip())
    if not match or float(match.group(1)) <= 0:
        raise RoutingFileError(f"{where}: expected a positive duration such as 30m, 4h or 2d, got {value!r}")
    return timedelta(**{UNITS[match.group(2)]: float(match.group(1))})


def mapping_entry(raw: Mapping, key: str) -> dict:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise RoutingFileError(f"'{key}' must be a mapping")
    return value


def only_entries(raw: Mapping, allowed: Iterable[str], where: str) -> None:
    allowed = tuple(allowed)
    unknown = sorted(set(raw) - set(allowed), key=str)
    if unknown:
        raise RoutingFileError(f"{where}: unknown entries {', '.join(map(str, unknown))} "
                                 f"(allowed: {', '.join(allowed)})")
