"""The public event contracts: which events exist, who produces them, on which topic, with what data.

This module is the only thing services share about each other's world. ``docs/events.md`` is its
human-readable catalogue; keep the two in step.
"""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.errors import PoisonMessage

# Topics, one per producing service; every record is keyed by case id.
INTAKE_EVENTS = "intake.events"
ROUTER_EVENTS = "router.events"
NOTIFIER_EVENTS = "notifier.events"
ALL_TOPICS = (INTAKE_EVENTS, ROUTER_EVENTS, NOTIFIER_EVENTS)

CHANNELS = ("hotline", "mini_program", "opinion_box", "visit", "patrol")
CATEGORIES = (
    "sanitation", "facility", "utility", "safety", "security", "dispute", "special", "service",
    "construction", "parking", "property", "greenery", "civility", "info", "other",
)
TIERS = ("general", "coordination", "concentrated", "emergency")
ORG_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"  # org codes: safe in URLs, keys and field paths
ORG_LEVELS = ("district", "street", "community", "branch", "compound", "grid", "building", "unit")


def dead_letter_topic(group: str) -> str:
    return f"deadletter.{group}"


class _Contract(Schema):
    class Meta:
        unknown = EXCLUDE  # newer producers may add fields; old consumers ignore them


class PersonSchema(_Contract):
    id = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    phone = fields.String(load_default="")
    org_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(ORG_LEVELS))


class ReporterSchema(_Contract):
    name = fields.String(load_default="")
    phone = fields.String(load_default="")


class LocationSchema(_Contract):
    unit_code = fields.String()
    building_code = fields.String()


class OrgChainSchema(_Contract):
    """Codes of the org units above (and including) where a case happens; absent levels are unknown."""
    district = fields.String()
    street = fields.String()
    community = fields.String()
    branch = fields.String()
    compound = fields.String()
    grid = fields.String()
    building = fields.String()
    unit = fields.String()


class CaseReported(_Contract):
    case_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    text = fields.String(required=True)
    reporter = fields.Nested(ReporterSchema, required=True)
    location = fields.Nested(LocationSchema, required=True)
    category_hint = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(CATEGORIES))
    reported_at = fields.String(required=True)


class CaseClassified(_Contract):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    confidence = fields.Float(required=True, validate=validate.Range(0, 1))
    explanation = fields.Dict(required=True)


class CaseAssigned(_Contract):
    assignee = fields.Nested(PersonSchema, required=True)
    level = fields.String(required=True, validate=validate.OneOf(ORG_LEVELS))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    org = fields.Nested(OrgChainSchema, required=True)
    location_resolved = fields.Boolean(required=True)
    reason = fields.String(required=True)
    summary = fields.String(load_default="")  # the report's first words, for messages and dashboards


class NotificationSent(_Contract):
    notification_id = fields.String(required=True)
    recipient = fields.Nested(PersonSchema, required=True)
    channel = fields.String(required=True)
    message = fields.String(required=True)
    about_event_id = fields.String(required=True)


# type -> (schema, topic, producer)
CATALOGUE: dict[str, tuple[type[Schema], str, str]] = {
    "CaseReported": (CaseReported, INTAKE_EVENTS, "intake"),
    "CaseClassified": (CaseClassified, ROUTER_EVENTS, "router"),
    "CaseAssigned": (CaseAssigned, ROUTER_EVENTS, "router"),
    "NotificationSent": (NotificationSent, NOTIFIER_EVENTS, "notifier"),
}


def topic_of(event_type: str) -> str:
    return CATALOGUE[event_type][1]


def validated_data(event_type: str, data: dict) -> dict:
    """The event's data checked against its contract; PoisonMessage when it breaks it."""
    try:
        schema_cls = CATALOGUE[event_type][0]
    except KeyError:
        raise PoisonMessage(f"unknown event type {event_type!r}") from None
    try:
        return schema_cls(unknown=EXCLUDE).load(data)
    except ValidationError as error:
        raise PoisonMessage(f"{event_type} breaks its contract: {error.messages}") from None

