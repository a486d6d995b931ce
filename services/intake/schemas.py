"""The shape of what clients send to intake, checked strictly at the edge."""
from __future__ import annotations

import re
import unicodedata

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from shared.events.contracts import CATEGORIES, CHANNELS, ORG_CODE_PATTERN

_CODE = validate.Regexp(ORG_CODE_PATTERN, error="must be an org code (letters, digits, - or _)")
_PHONE = validate.Regexp(r"^\+?[0-9][0-9 -]{4,19}$", error="must be a phone number (digits, optional +)")


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
    name = fields.String(validate=validate.Length(max=50), load_default="")
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
    text = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    reporter = fields.Nested(ReporterIn, load_default=dict)
    location = fields.Nested(LocationIn, required=True)
    category_hint = fields.String(validate=validate.OneOf(CATEGORIES), allow_none=True, load_default=None)

    @pre_load
    def _normalise_text(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            data = {**data, "text": _normalised(data["text"])}
        return data

    @post_load
    def _drop_empty(self, data, **kwargs):
        data["reporter"] = {k: v for k, v in data["reporter"].items() if v}
        return data
