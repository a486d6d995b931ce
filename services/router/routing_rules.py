"""The routing rules file (services/router/data/routing.yaml): read once at start and validated, so a
bad file stops the router with a message naming the offending entry instead of misrouting cases.
Its deadline sections (``working_time``, ``deadlines``) are parsed by ``shared.deadline_rules``, which the
tracker's SLA sweep reads too; the rest (departments, clustering, triage) is the router's alone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Mapping

from shared.deadline_rules import (DEFAULT_ROUTING_FILE, DeadlineRules, duration, mapping_entry, only_entries,
                                   parse_deadline_rules, read_routing_file)
from shared.deadline_rules import RoutingFileError as RoutingRulesError
from shared.events.contracts import CATEGORIES
from services.router.assignment import LEVELS

SUPPORTED_VERSIONS = (1,)
DEPARTMENT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Department:
    default: str | None
    by_terms: tuple[tuple[str, tuple[str, ...]], ...]  # (department, words), first match wins


@dataclass(frozen=True)
class Clustering:
    min_reports: int
    window: timedelta


@dataclass(frozen=True)
class Duplicates:
    window: timedelta  # an open case routed this recently absorbs a duplicate of it


DEFAULT_DUPLICATE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class RoutingRules:
    version: int
    triage_below: float
    clustering: Clustering
    deadlines: DeadlineRules  # which tiers count working time; limits per tier, level and kind
    department_names: Mapping[str, str]
    departments: Mapping[str, Department]
    duplicates: Duplicates = Duplicates(DEFAULT_DUPLICATE_WINDOW)

    @property
    def working_time(self) -> Mapping[str, bool]:
        return self.deadlines.working_time

    def deadline(self, tier: str, level: str, kind: str) -> timedelta:
        return self.deadlines.limit(tier, level, kind)

    def department_for(self, category: str, text: str) -> str | None:
        rule = self.departments.get(category)
        if rule is None:
            return None
        return next((code for code, words in rule.by_terms if any(w in text for w in words)), rule.default)

    def all_departments(self) -> list[str]:
        return sorted(self.department_names)


def default_path() -> str:
    return str(DEFAULT_ROUTING_FILE)


def load_rules(path: str | None = None) -> RoutingRules:
    path = path or default_path()
    raw = read_routing_file(path)
    try:
        return parse_rules(raw)
    except RoutingRulesError as error:
        raise RoutingRulesError(f"{path}: {error}") from None


def parse_rules(raw: object) -> RoutingRules:
    if not isinstance(raw, dict):
        raise RoutingRulesError("the top level must be a mapping")
    version = raw.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise RoutingRulesError(f"version must be one of {SUPPORTED_VERSIONS}, got {version!r}")
    triage_below = raw.get("triage_below", 0.35)
    if not isinstance(triage_below, (int, float)) or not 0 <= triage_below <= 1:
        raise RoutingRulesError(f"triage_below must be a number from 0 to 1, got {triage_below!r}")
    names = mapping_entry(raw, "department_names")
    for code, name in names.items():
        if not isinstance(code, str) or not DEPARTMENT_CODE.match(code) or not isinstance(name, str):
            raise RoutingRulesError(f"department_names.{code}: codes are lower-case letters, digits and _, "
                                    "names are text")
    return RoutingRules(version, float(triage_below), _clustering(mapping_entry(raw, "clustering")),
                        parse_deadline_rules(raw, ("department", *LEVELS)), dict(names),
                        _departments(mapping_entry(raw, "departments"), names), _duplicates(raw.get("duplicates", {})))


def _clustering(raw: dict) -> Clustering:
    only_entries(raw, ("min_reports", "window"), "clustering")
    size = raw.get("min_reports")
    if not isinstance(size, int) or isinstance(size, bool) or size < 2:
        raise RoutingRulesError(f"clustering.min_reports must be a whole number of at least 2, got {size!r}")
    return Clustering(size, duration(raw.get("window"), "clustering.window"))


def _duplicates(raw: object) -> Duplicates:
    """Optional: a file without the entry keeps the documented default window."""
    if not isinstance(raw, dict):
        raise RoutingRulesError("'duplicates' must be a mapping")
    only_entries(raw, ("window",), "duplicates")
    if "window" not in raw:
        return Duplicates(DEFAULT_DUPLICATE_WINDOW)
    return Duplicates(duration(raw["window"], "duplicates.window"))


def _departments(raw: dict, names: dict) -> dict[str, Department]:
    only_entries(raw, CATEGORIES, "departments")
    result = {}
    for category, rule in raw.items():
        where = f"departments.{category}"
        if not isinstance(rule, dict):
            raise RoutingRulesError(f"{where} must be a mapping")
        default = rule.get("default")
        by_terms = rule.get("by_terms") or {}
        for code in ([default] if default else []) + list(by_terms):
            if code not in names:
                raise RoutingRulesError(f"{where}: department {code!r} is not listed in department_names")
        if not isinstance(by_terms, dict) or not all(isinstance(w, list) and w for w in by_terms.values()):
            raise RoutingRulesError(f"{where}.by_terms must map departments to lists of words")
        result[category] = Department(default, tuple((code, tuple(map(str, words)))
                                                     for code, words in by_terms.items()))
    return result
