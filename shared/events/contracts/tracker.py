"""Events the tracker's SLA sweep publishes on ``tracker.events``."""
from __future__ import annotations

from marshmallow import fields, validate

from shared.events.contracts.common import DEADLINES, Contract


class SlaWarning(Contract):
    """A configurable share of a deadline has passed without the action (once per assignment, deadline and round)."""
    assignment_id = fields.String(required=True)
    deadline = fields.String(required=True, validate=validate.OneOf(DEADLINES))
    due = fields.String(required=True)
    level = fields.String(required=True)
    # "" for the deadline as assigned; "extension:<until>" or "reopen:<n>" once it was moved (each its own round)
    round = fields.String(load_default="")


class SlaBreached(Contract):
    """A deadline passed without the action (once per assignment, deadline and round)."""
    assignment_id = fields.String(required=True)
    deadline = fields.String(required=True, validate=validate.OneOf(DEADLINES))
    due = fields.String(required=True)
    level = fields.String(required=True)
    # "" for the deadline as assigned; "extension:<until>" or "reopen:<n>" once it was moved (each its own round)
    round = fields.String(load_default="")
