"""The shape of what clients send to intake, checked strictly at the edge."""
from __future__ import annotations

import re
import unicodedata

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from shared.events.contracts import CATEGORIES, CHANNELS, ORG_CODE_PATTERN, TIERS

_CODE = validate.Regexp(ORG_CODE_PATTERN, error="must be an org code (letters, digits, - or _)")
_PHONE = validate.Regexp(r"^\+?[0-9][0-9 -]{4,19}$", error="must be a phone number (digits, optional +)")
_FILE_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$")
_NAME_LENGTH = validate.Length(max=50)
_TEXT_LENGTH = validate.Length(min=2, max=2000)
_ATTACHMENTS_COUNT = validate.Length(max=10)


def _normalised(text: str) -> str:
    """Drop control characters and collapse runs of spaces. The resident's own characters (full-width
    punctuation included) are kept as written; the router folds them for matching."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"[ \t]+", " ", text).strip()


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ReporterIn(_Strict):
    name = fields.String(validate=_NAME_LENGTH, load_default="")
    phone = fields.String(validate=_PHONE, load_default="")


class LocationIn(_Strict):
    unit_code = fields.String(validate=_CODE)
    building_code = fields.String(validate=_CODE)

    @validates_schema
    def _one_place(self, data, **kwargs):
        if not data:
            raise ValidationError("give unit_code or building_code", field_name="unit_code")


class ReportIn(_Strict):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    text = fields.String(required=True, validate=_TEXT_LENGTH)
    reporter = fields.Nested(ReporterIn, load_default=dict)
    location = fields.Nested(LocationIn, required=True)
    category_hint = fields.String(validate=validate.OneOf(CATEGORIES), allow_none=True, load_default=None)
    attachments = fields.List(fields.String(validate=_FILE_ID), validate=_ATTACHMENTS_COUNT, load_default=list)

    @pre_load
    def _normalise_text(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            data = {**data, "text": _normalised(data["text"])}
        return data

    @post_load
    def _drop_empty(self, data, **kwargs):
        data["reporter"] = {k: v for k, v in data["reporter"].items() if v}
        return data


# --- handlers' and residents' actions ------------------------------------------------------------

def _text(required: bool = False, max_length: int = 2000) -> fields.String:
    if required:
        return fields.String(required=True, validate=validate.Length(min=1, max=max_length))
    return fields.String(validate=validate.Length(max=max_length))


class _StrictBoolean(fields.Boolean):
    """true or false, nothing else ("yes", 1 and "true" are refused)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


_ATTACHMENTS = fields.List(fields.String(validate=_FILE_ID), validate=_ATTACHMENTS_COUNT)
_ASSIGNMENT = fields.String(validate=validate.Length(max=100))


class _ActionIn(_Strict):
    TEXT_FIELDS = ("note", "reason", "result", "comment")

    @pre_load
    def _normalise_texts(self, data, **kwargs):
        if isinstance(data, dict):
            data = {k: _normalised(v) if k in self.TEXT_FIELDS and isinstance(v, str) else v
                    for k, v in data.items()}
        return data


class AcknowledgeIn(_ActionIn):
    note = _text()
    assignment_id = _ASSIGNMENT


class StartIn(_ActionIn):
    note = _text()


class ProgressIn(_ActionIn):
    note = _text(required=True)
    attachments = _ATTACHMENTS
    assignment_id = _ASSIGNMENT


class PartyMemberIn(_Strict):
    id = fields.String(validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    phone = fields.String(validate=_PHONE)


class CallPartyMembersIn(_ActionIn):
    note = _text()
    members = fields.List(fields.Nested(PartyMemberIn), validate=validate.Length(max=50))


class ArriveIn(_ActionIn):
    assignment_id = _ASSIGNMENT


class AwaitResidentIn(_ActionIn):
    reason = _text(required=True)  # what the resident is needed for: access to the flat, information, a decision
    note = _text()


class ResumeIn(_ActionIn):
    note = _text()


class ReplyIn(_ActionIn):
    """The resident's answer while the case waits for them."""
    note = _text(required=True, max_length=1000)


class RequestExtensionIn(_ActionIn):
    reason = _text(required=True)
    until = fields.AwareDateTime(required=True, format="iso")


class DecideExtensionIn(_ActionIn):
    approved = _StrictBoolean(required=True)
    until = fields.AwareDateTime(format="iso")
    reason = _text()


class ReturnIn(_ActionIn):
    reason = _text(required=True)


class ReclassifyIn(_ActionIn):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    reason = _text()


class ResolveIn(_ActionIn):
    result = _text(required=True)
    attachments = _ATTACHMENTS
    assignment_id = _ASSIGNMENT


class VerifyIn(_ActionIn):
    accepted = _StrictBoolean(required=True)
    note = _text()


class CloseIn(_ActionIn):
    note = _text()


class RejectIn(_ActionIn):
    reason = _text(required=True)


class MergeIn(_ActionIn):
    into_case_id = fields.String(required=True, validate=validate.Regexp(r"^GD-[0-9]{8}-[A-Z0-9]{6}$"))


class FeedbackIn(_ActionIn):
    satisfied = _StrictBoolean(required=True)
    comment = _text(max_length=1000)


class WithdrawIn(_ActionIn):
    reason = _text(max_length=1000)


ACTION_SCHEMAS = {
    "acknowledge": AcknowledgeIn, "start": StartIn, "progress": ProgressIn,
    "call_party_members": CallPartyMembersIn, "arrive": ArriveIn, "await_resident": AwaitResidentIn,
    "resume": ResumeIn, "reply": ReplyIn, "request_extension": RequestExtensionIn,
    "decide_extension": DecideExtensionIn, "return": ReturnIn, "reclassify": ReclassifyIn,
    "resolve": ResolveIn, "verify": VerifyIn, "close": CloseIn, "reject": RejectIn, "merge": MergeIn,
    "feedback": FeedbackIn, "withdraw": WithdrawIn,
}


# One instance per schema, shared by the request threads: building a schema (its fields and nested
# schemas, deep-copied) cost more than loading with it — ~9 % of intake's CPU per report when built per request.
_REPORT_SCHEMA = ReportIn()
_ACTION_SCHEMAS = {action: schema() for action, schema in ACTION_SCHEMAS.items()}


def load_report(body: dict) -> dict:
    """The report, validated (marshmallow.ValidationError when it is not one)."""
    plain = _plainly_valid_report(body)
    return plain if plain is not None else _REPORT_SCHEMA.load(body)


# ReportIn's answer without marshmallow, for the body every channel client sends: ~5 µs instead of ~35 µs
# (~5 % of intake's CPU per report). It answers only a body that is plainly valid — every field of its JSON
# type, every rule met — with what ReportIn.load returns (the same keys in the same order); anything else
# (a missing or unknown field, a value to convert or refuse) is left to marshmallow, which decides and words
# the error. tests/unit/test_intake_report_schema.py holds the two to the same answers.
_REPORT_FIELDS = frozenset(ReportIn().fields)
_REPORTER_FIELDS = ("name", "phone")
_LOCATION_FIELDS = ("unit_code", "building_code")


def _plainly_valid_report(body: object) -> dict | None:
    if type(body) is not dict or not _REPORT_FIELDS.issuperset(body):
        return None
    channel, text = body.get("channel"), body.get("text")
    if type(channel) is not str or channel not in CHANNELS or type(text) is not str:
        return None
    text = _normalised(text)
    if not _TEXT_LENGTH.min <= len(text) <= _TEXT_LENGTH.max:
        return None
    reporter = _plainly_valid_reporter(body.get("reporter", {}))
    location = _plainly_valid_location(body.get("location"))
    category_hint = body.get("category_hint")
    if category_hint is not None and (type(category_hint) is not str or category_hint not in CATEGORIES):
        return None
    attachments = body.get("attachments", [])
    if (reporter is None or location is None or type(attachments) is not list
            or len(attachments) > _ATTACHMENTS_COUNT.max
            or not all(type(a) is str and _FILE_ID.regex.match(a) for a in attachments)):
        return None
    return {"channel": channel, "text": text, "reporter": reporter, "location": location,
            "category_hint": category_hint, "attachments": list(attachments)}


def _plainly_valid_reporter(reporter: object) -> dict | None:
    """ReporterIn's answer with ReportIn's post_load applied (empty values dropped)."""
    if type(reporter) is not dict or not all(k in _REPORTER_FIELDS for k in reporter):
        return None
    name, phone = reporter.get("name", ""), reporter.get("phone", "")
    if type(name) is not str or len(name) > _NAME_LENGTH.max or type(phone) is not str:
        return None
    if "phone" in reporter and _PHONE.regex.match(phone) is None:
        return None
    return {k: v for k, v in (("name", name), ("phone", phone)) if v}


def _plainly_valid_location(location: object) -> dict | None:
    if type(location) is not dict or not location or not all(k in _LOCATION_FIELDS for k in location):
        return None
    if not all(type(v) is str and _CODE.regex.match(v) for v in location.values()):
        return None
    return {k: location[k] for k in _LOCATION_FIELDS if k in location}


def load_action(action: str, body: dict) -> dict:
    """The action's payload, validated; datetimes as ISO-8601 strings (as the events carry them)."""
    payload = _ACTION_SCHEMAS[action].load(body)
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in payload.items()}
