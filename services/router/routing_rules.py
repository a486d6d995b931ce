"""The routing rules file (services/router/data/routing.yaml): read once at start and validated, so a
bad file stops the router with a message naming the offending entry instead of misrouting cases."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Mapping

import yaml

from shared.events.contracts import CATEGORIES, TIERS
from shared.events.contracts.common import DEADLINES
from services.router.assignment import LEVELS

SUPPORTED_VERSIONS = (1,)
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
DEPARTMENT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class RoutingRulesError(ValueError):
    """The routing rules are not valid; the message says where."""


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
    working_time: Mapping[str, bool]
    deadlines: Mapping[str, Mapping[str, Mapping[str, timedelta]]]  # tier -> level|default -> kind -> span
    department_names: Mapping[str, str]
    departments: Mapping[str, Department]
    duplicates: Duplicates = Duplicates(DEFAULT_DUPLICATE_WINDOW)

    def deadline(self, tier: str, level: str, kind: str) -> timedelta:
        by_level = self.deadlines[tier]
        return (by_level.get(level) or by_level["default"])[kind]

    def department_for(self, category: str, text: str) -> str | None:
        rule = self.departments.get(category)
        if rule is None:
            return None
        return next((code for code, words in rule.by_terms if any(w in text for w in words)), rule.default)

    def all_departments(self) -> list[str]:
        return sorted(self.department_names)


def default_path() -> str:
    return str(resources.files("services.router") / "data" / "routing.yaml")


def load_rules(path: str | None = None) -> RoutingRules:
    path = path or default_path()
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as error:
        raise RoutingRulesError(f"{path}: cannot read it ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise RoutingRulesError(f"{path}: not valid YAML: {error}") from None
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
    working_time = _mapping(raw, "working_time")
    for tier in TIERS:
        if not isinstance(working_time.get(tier), bool):
            raise RoutingRulesError(f"working_time.{tier} must be true or false")
    _only(working_time, TIERS, "working_time")
    names = _mapping(raw, "department_names")
    for code, name in names.items():
        if not isinstance(code, str) or not DEPARTMENT_CODE.match(code) or not isinstance(name, str):
            raise RoutingRulesError(f"department_names.{code}: codes are lower-case letters, digits and _, "
                                    "names are text")
    return RoutingRules(version, float(triage_below), _clustering(_mapping(raw, "clustering")), dict(working_time),
                        _deadlines(_mapping(raw, "deadlines")), dict(names),
                        _departments(_mapping(raw, "departments"), names), _duplicates(raw.get("duplicates", {})))


def _clustering(raw: dict) -> Clustering:
    _only(raw, ("min_reports", "window"), "clustering")
    size = raw.get("min_reports")
    if not isinstance(size, int) or isinstance(size, bool) or size < 2:
        raise RoutingRulesError(f"clustering.min_reports must be a whole number of at least 2, got {size!r}")
    return Clustering(size, duration(raw.get("window"), "clustering.window"))


def _duplicates(raw: object) -> Duplicates:
    """Optional: a file without the entry keeps the documented default window."""
    if not isinstance(raw, dict):
        raise RoutingRulesError("'duplicates' must be a mapping")
    _only(raw, ("window",), "duplicates")
    if "window" not in raw:
        return Duplicates(DEFAULT_DUPLICATE_WINDOW)
    return Duplicates(duration(raw["window"], "duplicates.window"))


def _deadlines(raw: dict) -> dict:
    _only(raw, TIERS, "deadlines")
    result = {}
    for tier in TIERS:
        by_level = raw.get(tier)
        if not isinstance(by_level, dict) or "default" not in by_level:
            raise RoutingRulesError(f"deadlines.{tier} must be a mapping with a 'default' entry")
        _only(by_level, ("default", "department", *LEVELS), f"deadlines.{tier}")
        result[tier] = {level: _spans(spans, f"deadlines.{tier}.{level}") for level, spans in by_level.items()}
    return result


def _spans(raw: object, where: str) -> dict[str, timedelta]:
    if not isinstance(raw, dict) or set(raw) != set(DEADLINES):
        raise RoutingRulesError(f"{where} must give exactly {' and '.join(DEADLINES)}")
    return {kind: duration(raw[kind], f"{where}.{kind}") for kind in DEADLINES}


def duration(value: object, where: str = "duration") -> timedelta:
    match = DURATION.match(str(value).strip())
    if not match or float(match.group(1)) <= 0:
        raise RoutingRulesError(f"{where}: expected a positive duration such as 30m, 4h or 2d, got {value!r}")
    return timedelta(**{UNITS[match.group(2)]: float(match.group(1))})


def _departments(raw: dict, names: dict) -> dict[str, Department]:
    _only(raw, CATEGORIES, "departments")
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


def _mapping(raw: dict, key: str) -> dict:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise RoutingRulesError(f"'{key}' must be a mapping")
    return value


def _only(raw: dict, allowed, where: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise RoutingRulesError(f"{where}: unknown entries {', '.join(map(str, unknown))} "
                                f"(allowed: {', '.join(allowed)})")
