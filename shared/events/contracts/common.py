"""Vocabulary and nested shapes every event contract uses."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

CHANNELS = ("hotline", "mini_program", "opinion_box", "visit", "patrol")
CATEGORIES = (
    "sanitation", "facility", "utility", "safety", "security", "dispute", "special", "service",
    "construction", "parking", "property", "greenery", "civility", "info", "other",
)
TIERS = ("general", "coordination", "concentrated", "emergency")
ORG_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"  # org codes: safe in URLs, keys and field paths
ORG_LEVELS = ("district", "street", "community", "branch", "compound", "grid", "building", "unit")
# Who may act on a case: the org levels, plus functional departments (water company, police, …).
ACTOR_LEVELS = ORG_LEVELS + ("department", "resident", "system")
DEADLINES = ("acknowledge", "resolve")


class Contract(Schema):
    class Meta:
        unknown = EXCLUDE  # newer producers may add fields; old consumers ignore them


class PersonSchema(Contract):
    """A person or body holding a post: an assignee, a recipient, or who did something."""
    id = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    phone = fields.String(load_default="")
    org_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(ACTOR_LEVELS))


class ReporterSchema(Contract):
    name = fields.String(load_default="")
    phone = fields.String(load_default="")


class LocationSchema(Contract):
    """Where the resident says it is; the router resolves it (unit > building > address > coordinates)."""
    unit_code = fields.String()
    building_code = fields.String()
    address = fields.String()
    lat = fields.Float(validate=validate.Range(-90, 90))
    lng = fields.Float(validate=validate.Range(-180, 180))


class OrgChainSchema(Contract):
    """Codes of the org units above (and including) where a case happens; absent levels are unknown."""
    district = fields.String()
    street = fields.String()
    community = fields.String()
    branch = fields.String()
    compound = fields.String()
    grid = fields.String()
    building = fields.String()
    unit = fields.String()


def by() -> fields.Nested:
    """Who did it (a handler, a department, the resident, or the system)."""
    return fields.Nested(PersonSchema, required=True)


def attachments() -> fields.List:
    """Ids of stored photos or files (intake serves them to authorised staff)."""
    return fields.List(fields.String(), load_default=list)
