"""The report's fast path (schemas._plainly_valid_report) answers exactly as marshmallow's ReportIn, or not at all."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from shared.events.contracts import CATEGORIES, CHANNELS
from services.bench.load import report_body
from services.intake import schemas


def _odd() -> st.SearchStrategy:
    """Values of the wrong JSON type for any field."""
    return st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.booleans(),
                     st.lists(st.text(max_size=3), max_size=2),
                     st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2))


def _or_odd(good: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(good, good, good, _odd())


_text = st.one_of(st.text(max_size=12),
                  st.sampled_from(["楼道灯坏了", " 灯\t\t坏了 \x00\u200b ", "a", " a ", "\x07b"]),
                  st.text(alphabet="ab \t", min_size=1995, max_size=2010))
_code = st.one_of(st.from_regex(r"\A[A-Za-z0-9_-]{1,12}\Z"), st.text(max_size=6), st.just("QJ01-G01-01-1\n"))
_phone = st.one_of(st.from_regex(r"\A\+?[0-9][0-9 -]{4,19}\Z"), st.text(alphabet="+0123456789 -x\n", max_size=22))
_file_id = st.one_of(st.from_regex(r"\A[A-Za-z0-9_-]{1,64}\Z"), st.text(max_size=4), st.text(alphabet="ab", min_size=65,
                                                                                                 max_size=66))
_extra = {"extra": st.text(max_size=3)}
_reporter = _or_odd(st.fixed_dictionaries({}, optional={"name": _or_odd(st.text(max_size=55)), "phone": _or_odd(_phone),
                                                        **_extra}))
_location = _or_odd(st.fixed_dictionaries({}, optional={"unit_code": _or_odd(_code), "building_code": _or_odd(_code),
                                                        **_extra}))
_body = st.fixed_dictionaries(
    {"channel": _or_odd(st.sampled_from(CHANNELS + ("fax",))), "text": _or_odd(_text), "location": _location},
    optional={"reporter": _reporter, "category_hint": _or_odd(st.sampled_from(CATEGORIES + ("weather",))),
              "attachments": _or_odd(st.lists(_file_id, max_size=12)), **_extra})
_valid_body = st.fixed_dictionaries(  # mostly valid: each field of its type, its value often allowed
    {"channel": st.sampled_from(CHANNELS), "text": _text,
     "location": st.fixed_dictionaries({"unit_code": _code}, optional={"building_code": _code})},
    optional={"reporter": st.fixed_dictionaries({}, optional={"name": st.text(max_size=55), "phone": _phone}),
              "category_hint": st.one_of(st.none(), st.sampled_from(CATEGORIES)),
              "attachments": st.lists(_file_id, max_size=11)})
_bodies = st.one_of(_valid_body, _body, st.dictionaries(st.sampled_from(["channel", "text", "location", "reporter"]),
                                                        _odd()))


def _marshmallow(body: dict) -> dict | None:
    try:
        return schemas._REPORT_SCHEMA.load(body)
    except ValidationError:
        return None


def _shape(value):
    """The value with its keys' order made visible (dict equality ignores it)."""
    if isinstance(value, dict):
        return [(k, _shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return (type(value).__name__, value)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies)
def test_the_fast_path_answers_as_marshmallow_or_leaves_it_to_marshmallow(body):
    expected = _marshmallow(body)
    fast = schemas._plainly_valid_report(body)
    if fast is not None:
        assert expected is not None, "the fast path accepted what marshmallow refuses"
        assert _shape(fast) == _shape(expected)
    if expected is None:
        with pytest.raises(ValidationError):
            schemas.load_report(body)
    else:
        assert _shape(schemas.load_report(body)) == _shape(expected)


@pytest.mark.parametrize("body", [
    report_body(7, ["QJ01-G01-01-1"]),
    {"channel": "hotline", "text": "3号楼楼道灯坏了", "location": {"building_code": "QJ01-G01-01"}},
    {"channel": "visit", "text": "灯坏了", "location": {"unit_code": "U1"}, "reporter": {"name": ""},
     "category_hint": None, "attachments": ["f_1"]},
])
def test_the_reports_clients_send_take_the_fast_path(body):
    fast = schemas._plainly_valid_report(body)
    assert fast is not None and _shape(fast) == _shape(schemas._REPORT_SCHEMA.load(body))
