"""Events intake publishes on ``intake.events``: reports, residents' follow-ups and handlers' actions."""
from __future__ import annotations

from marshmallow import fields, validate

from shared.events.contracts.common import (CATEGORIES, CHANNELS, TIERS, Contract, LocationSchema,
                                            PersonSchema, ReporterSchema, attachments, by)


class CaseReported(Contract):
    case_id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    text = fields.String(required=True)
    reporter = fields.Nested(ReporterSchema, required=True)
    location = fields.Nested(LocationSchema, required=True)
    category_hint = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(CATEGORIES))
    reported_at = fields.String(required=True)
    attachments = attachments()
    reported_by = fields.Nested(PersonSchema, allow_none=True, load_default=None)  # staff on visits/patrols
    via = fields.String(load_default="api")  # the interface it came through: "api" (native) or "open311"


class CaseAcknowledged(Contract):
    """The owner (or a department, for its parallel assignment) has seen the case and accepts it."""
    by = by()
    assignment_id = fields.String(load_default="")
    note = fields.String(load_default="")


class CaseStarted(Contract):
    by = by()
    note = fields.String(load_default="")


class ProgressNoted(Contract):
    by = by()
    note = fields.String(required=True)
    attachments = attachments()


class PartyMembersCalled(Contract):
    """"The branch blows the whistle, party members report" (吹哨报到)."""
    by = by()
    note = fields.String(load_default="")
    members = fields.List(fields.Nested(PersonSchema), load_default=list)


class ArrivedOnSite(Contract):
    """For emergencies: a handler has reached the scene."""
    by = by()
    assignment_id = fields.String(load_default="")


class CaseAwaitingResident(Contract):
    """The owner needs the resident (access to the flat, information, a decision): the case waits, and
    its owner's deadlines are paused until CaseResumed."""
    by = by()
    reason = fields.String(required=True)
    note = fields.String(load_default="")


class CaseResumed(Contract):
    """Work goes on after waiting for the resident: the owner resumed it, or the resident replied."""
    by = fields.Nested(PersonSchema, allow_none=True, load_default=None)  # null when the resident replied
    cause = fields.String(required=True, validate=validate.OneOf(("handler", "resident")))
    note = fields.String(load_default="")


class ExtensionRequested(Contract):
    by = by()
    reason = fields.String(required=True)
    until = fields.String(required=True)  # ISO-8601: the resolution deadline asked for


class ExtensionDecided(Contract):
    """The level above approves or refuses an extension."""
    by = by()
    approved = fields.Boolean(required=True)
    until = fields.String(load_default="")
    reason = fields.String(load_default="")


class CaseReturned(Contract):
    """Returned as misrouted: the router reassigns it (counts against dispatch accuracy)."""
    by = by()
    reason = fields.String(required=True)


class CaseReclassified(Contract):
    """A person corrects the classification (manual triage, or a misroute)."""
    by = by()
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    reason = fields.String(load_default="")


class CaseResolved(Contract):
    by = by()
    result = fields.String(required=True)
    attachments = attachments()
    assignment_id = fields.String(load_default="")


class CaseVerified(Contract):
    """The verifying level checks the result: accepted → verified, refused → reopened for rework."""
    by = by()
    accepted = fields.Boolean(required=True)
    note = fields.String(load_default="")


class CaseClosed(Contract):
    by = by()
    note = fields.String(load_default="")


class FeedbackGiven(Contract):
    """The resident's satisfaction after resolution (满意率); not satisfied reopens the case."""
    satisfied = fields.Boolean(required=True)
    comment = fields.String(load_default="")


class CaseReopened(Contract):
    """Back to work (返工): after a refused verification or an unsatisfied resident."""
    reason = fields.String(required=True)
    cause = fields.String(required=True, validate=validate.OneOf(("verification", "feedback", "manual")))
    by = fields.Nested(PersonSchema, allow_none=True, load_default=None)


class CaseWithdrawn(Contract):
    """The resident withdraws the report."""
    reason = fields.String(load_default="")


class CaseRejected(Contract):
    """Not accepted as a case (不予立案): out of scope, abusive, no content."""
    by = by()
    reason = fields.String(required=True)


class CaseMerged(Contract):
    """A duplicate of another case; its reporters are followed up through that one."""
    by = by()
    into_case_id = fields.String(required=True)
