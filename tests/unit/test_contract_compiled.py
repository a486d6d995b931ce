"""The compiled contract loaders answer exactly what marshmallow answers, for every event contract."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate

from shared.events.contracts import _SCHEMAS, validated_data
from shared.events.contracts.compiled import NotCompilable, Unsure, _schema_loader, compiles, loader

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=4), st.sampled_from(["1", "true", "1.5", "nan"]), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.binary(max_size=2))


def valid_value(field: fields.Field, depth: int = 0) -> st.SearchStrategy:
    """Values the field loads as they are (the compiled path)."""
    rules = {type(v): v for v in field.validators}
    kind = type(field)
    if kind is fields.String:
        if validate.OneOf in rules:
            return st.sampled_from(list(rules[validate.OneOf].choices))
        if validate.Regexp in rules:
            return st.from_regex(rules[validate.Regexp].regex, fullmatch=True)
        length = rules.get(validate.Length)
        return st.text(min_size=(length.min or 0) if length else 0, max_size=8)
    if kind is fields.Float:
        rule = rules.get(validate.Range)
        low, high = (rule.min, rule.max) if rule else (-1e6, 1e6)
        return st.one_of(st.floats(low, high), st.integers(math.ceil(low), math.floor(high)))
    if kind is fields.Integer:
        return st.integers(-10**6, 10**6)
    if kind is fields.Boolean:
        return st.booleans()
    if kind is fields.Dict:
        return st.dictionaries(st.text(max_size=3), st.one_of(st.integers(), st.text(max_size=3)), max_size=3)
    if kind is fields.List:
        return st.lists(valid_value(field.inner, depth), max_size=3)
    if kind is fields.Nested:
        return valid_document(field.schema, depth + 1)
    raise AssertionError(f"no strategy for {kind.__name__}")


def valid_document(schema: Schema, depth: int = 0) -> st.SearchStrategy:
    required = {name: valid_value(f, depth) for name, f in schema.load_fields.items() if f.required}
    optional = {name: valid_value(f, depth) for name, f in schema.load_fields.items() if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


def same(a, b) -> bool:
    """Equal, and of the same types all the way down (1 and 1.0 differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def outcome(load, data):
    try:
        return "loaded", load(data)
    except ValidationError as error:
        return "refused", error.messages


@st.composite
def event_data(draw):
    """A contract and data for it: valid, or valid with one field broken, dropped or nulled, or an unknown key."""
    name = draw(st.sampled_from(sorted(_SCHEMAS)))
    schema = _SCHEMAS[name]
    data = draw(valid_document(schema))
    change = draw(st.sampled_from(["none", "junk", "drop", "unknown", "nested junk"]))
    names = sorted(schema.load_fields)
    if change == "junk" and names:
        data[draw(st.sampled_from(names))] = draw(JUNK)
    elif change == "drop" and data:
        del data[draw(st.sampled_from(sorted(data)))]
    elif change == "unknown":
        data[draw(st.text(min_size=1, max_size=6))] = draw(JUNK)
    elif change == "nested junk":
        nested = [n for n in data if isinstance(data[n], dict) and type(schema.load_fields.get(n)) is fields.Nested]
        if nested:
            inner = data[draw(st.sampled_from(nested))]
            inner[draw(st.text(min_size=1, max_size=6))] = draw(JUNK)
            if inner:
                inner[draw(st.sampled_from(sorted(inner)))] = draw(JUNK)
    return name, schema, data


def test_every_event_contract_compiles():
    assert [name for name, schema in _SCHEMAS.items() if not compiles(schema)] == []


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_data())
def test_the_compiled_loader_answers_as_marshmallow_does(case):
    name, schema, data = case
    expected, ours = outcome(schema.load, data), outcome(loader(schema), data)
    assert expected[0] == ours[0]
    assert same(expected[1], ours[1])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_valid_event_data_takes_the_compiled_path(data):
    name = data.draw(st.sampled_from(sorted(_SCHEMAS)))
    schema = _SCHEMAS[name]
    document = data.draw(valid_document(schema))
    assert same(_schema_loader(schema, schema.unknown)(document), schema.load(document))


def test_lenient_values_and_errors_are_left_to_marshmallow():
    class Sample(Schema):
        count = fields.Integer(required=True)
        ratio = fields.Float(validate=validate.Range(0, 1))

    compiled = _schema_loader(Sample(), Sample().unknown)
    for data in ({"count": "3"}, {"count": True}, {"count": 1, "ratio": 2}, {"count": 1, "ratio": float("nan")}, {}):
        with pytest.raises(Unsure):
            compiled(data)
    assert same(loader(Sample())({"count": "3"}), {"count": 3})  # marshmallow's conversion, through the fallback
    with pytest.raises(ValidationError) as refused:
        loader(Sample())({"count": 1, "ratio": 2})
    assert refused.value.messages == {"ratio": ["Must be greater than or equal to 0 and less than or equal to 1."]}


def test_a_schema_with_hooks_or_unknown_fields_kinds_is_loaded_by_marshmallow():
    from marshmallow import post_load

    class Hooked(Schema):
        text = fields.String()

        @post_load
        def upper(self, data, **kwargs):
            return {"text": data["text"].upper()}

    class Dated(Schema):
        when = fields.DateTime()

    for schema in (Hooked(), Dated()):
        with pytest.raises(NotCompilable):
            _schema_loader(schema, schema.unknown)
    assert loader(Hooked())({"text": "a"}) == {"text": "A"}


def test_validated_data_still_refuses_what_breaks_a_contract():
    from shared.errors import PoisonMessage
    with pytest.raises(PoisonMessage, match="breaks its contract"):
        validated_data("CaseClassified", {"category": "nope", "tier": "general", "confidence": 0.5, "explanation": {}})
