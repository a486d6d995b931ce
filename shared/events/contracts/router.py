"""Events the router publishes on ``router.events`` (and CaseAssigned copies on ``assignments.<department>``)."""
from __future__ import annotations

from marshmallow import fields, validate

from shared.events.contracts.common import (CATEGORIES, DEADLINES, ORG_LEVELS, TIERS, Contract, OrgChainSchema,
                                            PersonSchema)


class CaseClassified(Contract):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    confidence = fields.Float(required=True, validate=validate.Range(0, 1))
    explanation = fields.Dict(required=True)


class CaseAssigned(Contract):
    """An assignment: the case's owner (``parallel`` false) or, for emergencies and departments, one
    more party that must acknowledge in parallel (``parallel`` true). Each has its own deadlines."""
    assignee = fields.Nested(PersonSchema, required=True)
    level = fields.String(required=True, validate=validate.OneOf(ORG_LEVELS + ("department",)))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    org = fields.Nested(OrgChainSchema, required=True)
    location_resolved = fields.Boolean(required=True)
    reason = fields.String(required=True)
    summary = fields.String(load_default="")  # the report's first words, for messages and dashboards
    assignment_id = fields.String(load_default="")
    parallel = fields.Boolean(load_default=False)
    department = fields.String(allow_none=True, load_default=None)
    acknowledge_due = fields.String(allow_none=True, load_default=None)  # ISO-8601
    resolve_due = fields.String(allow_none=True, load_default=None)


class CaseInformed(Contract):
    """Someone who must know but does not own the case (e.g. the branch, for coordination cases)."""
    person = fields.Nested(PersonSchema, required=True)
    reason = fields.String(required=True)


class CaseEscalated(Contract):
    """Moved one level up the chain: nobody acted in time (or a person escalated it)."""
    from_level = fields.String(required=True)
    to_level = fields.String(required=True)
    deadline = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(DEADLINES + ("manual",)))
    reason = fields.String(required=True)
    assignment_id = fields.String(load_default="")


class CaseClustered(Contract):
    """Many residents report the same problem: the case joins a cluster handled as ``concentrated``."""
    cluster_id = fields.String(required=True)
    size = fields.Integer(required=True)
    reason = fields.String(required=True)
    lead_case_id = fields.String(load_default="")  # the case the branch owns for the whole cluster


class DeliberationRequested(Contract):
    """A concentrated case: the branch convenes the residents' deliberation forum (居民议事园) about the
    reports linked in the cluster; every linked reporter later gets the outcome."""
    cluster_id = fields.String(required=True)
    case_ids = fields.List(fields.String(), required=True)  # every linked case, the requesting one last
    compound = fields.String(required=True)
    convener = fields.Nested(PersonSchema, allow_none=True, load_default=None)  # the branch secretary
    reason = fields.String(required=True)


class DuplicateMerged(Contract):
    """The report duplicates a case still open (same reporter or unit, same problem, within the window):
    it is merged into that case instead of being dispatched (no assignment, nobody told); its reporter
    is followed up through the surviving case. Subject: the duplicate."""
    into_case_id = fields.String(required=True)  # the surviving case
    match = fields.String(required=True, validate=validate.OneOf(("reporter", "unit")))
    matched = fields.List(fields.String(), required=True)  # words both reports share
    reason = fields.String(required=True)
    window_hours = fields.Float(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))  # the surviving case's
    org = fields.Nested(OrgChainSchema, required=True)  # where the duplicate was reported: scopes who sees it


class DuplicateLinked(Contract):
    """The surviving case learns that a duplicate was merged into it. Subject: the surviving case."""
    duplicate_case_id = fields.String(required=True)
    match = fields.String(required=True, validate=validate.OneOf(("reporter", "unit")))
    reason = fields.String(required=True)
