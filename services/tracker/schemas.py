"""What staff clients send (query strings) and what the API answers, as marshmallow schemas: they
check the input and describe every endpoint in the OpenAPI document."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from shared.events.contracts import CATEGORIES, TIERS
from services.tracker.domain import STATES
from services.tracker.indicators import BUCKET_LEVELS, GROWTH_MIN_COUNT

CASE_SORTS = ("reported_at", "-reported_at", "updated_at", "-updated_at", "state", "-state", "category",
              "-category", "tier", "-tier")
BREAKDOWN_LEVELS = ("street", "community", "branch", "compound", "grid", "building", "unit")
SERIES_PERIODS = ("day", "week", "month", "quarter")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class PeriodQuery(Strict):
    """An inclusive range of report days (China time); both default to the last 30 days."""
    from_ = fields.Date(data_key="from")
    to = fields.Date()

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("must not be after 'to'", "from")


class CaseQuery(PeriodQuery):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    state = fields.String(validate=validate.OneOf(STATES))
    tier = fields.String(validate=validate.OneOf(TIERS))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    org = fields.String(validate=validate.Length(min=1, max=64))
    person = fields.String(validate=validate.Length(min=1, max=200))
    breached = fields.Boolean()
    sort = fields.String(load_default="-reported_at", validate=validate.OneOf(CASE_SORTS))


class IndicatorQuery(PeriodQuery):
    org = fields.String(validate=validate.Length(min=1, max=64))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    tier = fields.String(validate=validate.OneOf(TIERS))
    person = fields.String(validate=validate.Length(min=1, max=200))


class BreakdownQuery(IndicatorQuery):
    level = fields.String(required=True, validate=validate.OneOf(BREAKDOWN_LEVELS))


class SeriesQuery(IndicatorQuery):
    period = fields.String(load_default="day", validate=validate.OneOf(SERIES_PERIODS))


class ListQuery(PeriodQuery):
    org = fields.String(validate=validate.Length(min=1, max=64))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class HotspotQuery(ListQuery):
    level = fields.String(load_default="grid", validate=validate.OneOf(BUCKET_LEVELS),
                          metadata={"description": "compare the categories of every unit of this level in the org "
                                                   "(the org itself when it is at or below it)"})
    min_count = fields.Integer(load_default=GROWTH_MIN_COUNT, validate=validate.Range(min=1, max=100_000),
                               metadata={"description": "cases a category must have received in the period"})


class CaseSummary(Schema):
    case_id = fields.String()
    state = fields.String()
    channel = fields.String()
    category = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    text = fields.String()
    org = fields.Dict()
    owner = fields.Dict(allow_none=True)
    reported_at = fields.String()
    updated_at = fields.String()
    breaches_open = fields.Integer()


class CasePage(Schema):
    items = fields.List(fields.Nested(CaseSummary))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class CaseDetail(CaseSummary):
    timeline = fields.List(fields.Dict())
    assignments = fields.List(fields.Dict())
    holders = fields.List(fields.Dict())


class Indicators(Schema):
    scope = fields.String()
    period = fields.Dict()
    previous_period = fields.Dict()
    indicators = fields.Dict(metadata={"description": "the named indicators of docs/indicators.md"})
    previous = fields.Dict()


class Breakdown(Schema):
    items = fields.List(fields.Dict())


class BreachList(Schema):
    items = fields.List(fields.Dict())


class OrgRef(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class GrowingCategory(Schema):
    org = fields.Nested(OrgRef)
    category = fields.String()
    received = fields.Integer(metadata={"description": "cases reported in the period"})
    previous = fields.Integer(metadata={"description": "cases reported in the previous period of the same length"})
    growth = fields.Integer(metadata={"description": "received - previous"})
    growth_rate = fields.Float(metadata={"description": "growth / max(previous, min_count)"})


class Hotspots(Schema):
    period = fields.Dict()
    previous_period = fields.Dict()
    min_count = fields.Integer()
    concentrated = fields.List(fields.Dict())
    growing_categories = fields.List(fields.Nested(GrowingCategory),
                                     metadata={"description": "fastest-growing first (docs/indicators.md)"})


class Error(Schema):
    error = fields.Dict()
