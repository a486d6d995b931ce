"""Events the notifier publishes on ``notifier.events``."""
from __future__ import annotations

from marshmallow import fields

from shared.events.contracts.common import Contract, PersonSchema


class NotificationSent(Contract):
    notification_id = fields.String(required=True)
    recipient = fields.Nested(PersonSchema, required=True)
    channel = fields.String(required=True)
    message = fields.String(required=True)
    about_event_id = fields.String(required=True)
    attempts = fields.Integer(load_default=1)


class NotificationFailed(Contract):
    """A channel gave up; ``final`` when no channel is left and the message is dead-lettered."""
    notification_id = fields.String(required=True)
    recipient = fields.Nested(PersonSchema, required=True)
    channel = fields.String(required=True)
    error = fields.String(required=True)
    attempts = fields.Integer(required=True)
    about_event_id = fields.String(required=True)
    final = fields.Boolean(load_default=False)
