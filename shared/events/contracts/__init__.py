"""The public event contracts: which events exist, who produces them, on which topic, with what data.

This package is the only thing services share about each other's world. ``docs/events.md`` is its
human-readable catalogue; keep the two in step. One module per producing service.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError

from shared.errors import PoisonMessage
from shared.events.contracts import compiled, intake, notifier, router, tracker
from shared.events.contracts.common import (ACTOR_LEVELS, CATEGORIES, CHANNELS, DEADLINES, ORG_CODE_PATTERN,
                                            ORG_LEVELS, TIERS, PersonSchema)

# Topics, one per producing service; every record is keyed by case id.
INTAKE_EVENTS = "intake.events"
ROUTER_EVENTS = "router.events"
TRACKER_EVENTS = "tracker.events"
NOTIFIER_EVENTS = "notifier.events"
ALL_TOPICS = (INTAKE_EVENTS, ROUTER_EVENTS, TRACKER_EVENTS, NOTIFIER_EVENTS)
DEPARTMENT_TOPIC_PREFIX = "assignments."


def dead_letter_topic(group: str) -> str:
    return f"deadletter.{group}"


def department_topic(department: str) -> str:
    """Where a functional department's system reads its assignments (CaseAssigned, CloudEvents)."""
    return f"{DEPARTMENT_TOPIC_PREFIX}{department}"


def _catalogue() -> dict[str, tuple[type[Schema], str, str]]:
    entries = {}
    for module, topic, producer in ((intake, INTAKE_EVENTS, "intake"), (router, ROUTER_EVENTS, "router"),
                                    (tracker, TRACKER_EVENTS, "tracker"), (notifier, NOTIFIER_EVENTS, "notifier")):
        for name in dir(module):
            schema = getattr(module, name)
            if isinstance(schema, type) and issubclass(schema, Schema) and schema.__module__ == module.__name__:
                entries[name] = (schema, topic, producer)
    return entries


# event type -> (schema, topic, producer)
CATALOGUE: dict[str, tuple[type[Schema], str, str]] = _catalogue()


# One schema instance per type: building a marshmallow schema costs more than loading with it.
_SCHEMAS: dict[str, Schema] = {name: entry[0](unknown=EXCLUDE) for name, entry in CATALOGUE.items()}
# Each schema's load, compiled for data already in its loaded form (compiled.py; marshmallow decides the rest).
_LOADS = {name: compiled.loader(schema) for name, schema in _SCHEMAS.items()}


def topic_of(event_type: str) -> str:
    return CATALOGUE[event_type][1]


def validated_data(event_type: str, data: dict) -> dict:
    """The event's data checked against its contract; PoisonMessage when it breaks it."""
    load = _LOADS.get(event_type)
    if load is None:
        raise PoisonMessage(f"unknown event type {event_type!r}")
    try:
        return load(data)
    except ValidationError as error:
        raise PoisonMessage(f"{event_type} breaks its contract: {error.messages}") from None


__all__ = ["ACTOR_LEVELS", "ALL_TOPICS", "CATALOGUE", "CATEGORIES", "CHANNELS", "DEADLINES", "INTAKE_EVENTS",
           "NOTIFIER_EVENTS", "ORG_CODE_PATTERN", "ORG_LEVELS", "PersonSchema", "ROUTER_EVENTS", "TIERS",
           "TRACKER_EVENTS", "dead_letter_topic", "department_topic", "topic_of", "validated_data"]
