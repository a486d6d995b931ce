from marshmallow import RAISE, Schema, fields, validate

from shared.events.contracts import CATEGORIES, TIERS


class CaseQuery(Schema):
    class Meta:
        unknown = RAISE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    state = fields.String(validate=validate.Length(max=40))
    tier = fields.String(validate=validate.OneOf(TIERS))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
