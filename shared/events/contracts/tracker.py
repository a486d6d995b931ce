"""Events the tracker's SLA sweep publishes on ``tracker.events``."""
from __future__ import annotations

from marshmallow import fields, validate

from shared.events.contracts.common import DEADLINES, Contract


class SlaWarning(Contract):
    """A configurable share of a deadline has passed without the action (once per assignment and deadline)."""
    assignment_id = fields.String(required=True)
    deadline = fields.String(required=True, validate=validate.OneOf(DEADLINES))
    due = fields.String(required=True)
    level = fields.String(required=True)


class SlaBreached(Contract):
    """A deadline passed without the action (once per assignment and deadline)."""
    assignment_id = fields.String(required=True)
    deadline = fields.String(required=True, validate=validate.OneOf(DEADLINES))
    due = fields.String(required=True)
    level = fields.String(required=True)
