"""Event contracts loaded faster: the same answer as marshmallow's ``Schema.load``, in about a tenth of the
time, for data already in the form a contract loads it to.

Every consumer checks every event it reacts to against its contract, and at full speed that was ~17 % of
the services' CPU (marshmallow builds its result field by field through several layers of calls: ~50 µs for
a CaseAssigned). A compiled loader walks the schema's fields once, in plain Python, and answers only when it
is sure: each value already of the field's JSON type (a ``str`` for a String, an ``int`` for an Integer, an
``int`` or finite ``float`` for a Float, a ``bool`` for a Boolean, a ``dict`` for a Dict or Nested, a
``list`` for a List), every validator satisfied (OneOf, Range, Length, Regexp), no required field missing.
Anything else — a number in a string, a null where none is allowed, a value a validator refuses — is left to
marshmallow, which decides and words the error, so errors and lenient conversions stay marshmallow's own.
A schema using anything not listed here (hooks, data keys, other field or validator kinds) is not
compiled: marshmallow loads it. tests/unit/test_contract_compiled.py holds the two to the same answers
for generated data of every contract.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from marshmallow import EXCLUDE, RAISE, Schema, fields, missing, validate

Load = Callable[[Any], Any]


class Unsure(Exception):
    """The compiled loader cannot vouch for this value: marshmallow must decide."""


class NotCompilable(Exception):
    """The schema uses something the compiled loader does not reproduce."""


def loader(schema: Schema) -> Callable[[dict], dict]:
    """``schema.load``, through the compiled loader when the schema compiles and the data suits it."""
    try:
        compiled = _schema_loader(schema, schema.unknown)
    except NotCompilable:
        return schema.load

    def load(data: dict) -> dict:
        try:
            return compiled(data)
        except Unsure:
            return schema.load(data)

    return load


def compiles(schema: Schema) -> bool:
    try:
        _schema_loader(schema, schema.unknown)
        return True
    except NotCompilable:
        return False


def _schema_loader(schema: Schema, unknown: str) -> Load:
    if any(schema._hooks.values()):
        raise NotCompilable(f"{type(schema).__name__} has processors or schema validators")
    if unknown not in (EXCLUDE, RAISE):
        raise NotCompilable(f"unknown={unknown!r}")
    plan = tuple((name, field.required, field.load_default, field.allow_none, _field_loader(field))
                 for name, field in schema.load_fields.items())
    names = frozenset(name for name, *_ in plan)
    refuse_unknown = unknown == RAISE

    def load(data: Any) -> dict:
        if type(data) is not dict or (refuse_unknown and not names.issuperset(data)):
            raise Unsure
        loaded = {}
        for name, required, default, allow_none, load_value in plan:
            if name in data:
                value = data[name]
                if value is None:
                    if not allow_none:
                        raise Unsure
                    loaded[name] = None
                else:
                    loaded[name] = load_value(value)
            elif required:
                raise Unsure
            elif default is not missing:
                loaded[name] = default() if callable(default) else default
        return loaded

    return load


def _field_loader(field: fields.Field) -> Load:
    if field.data_key is not None or field.attribute is not None or field.dump_only:
        raise NotCompilable(f"field {field.name!r} renames or is dump-only")
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        raise NotCompilable(f"field {field.name!r} has processors")
    kind = type(field)
    if kind is fields.String:
        value_loader = _of_type(str)
    elif kind is fields.Integer:
        value_loader = _of_type(int)  # exactly int: a bool, a float or a numeric string goes to marshmallow
    elif kind is fields.Float:
        value_loader = _float(field.allow_nan)
    elif kind is fields.Boolean:
        value_loader = _of_type(bool)
    elif kind is fields.Dict and field.key_field is None and field.value_field is None:
        value_loader = _copied_dict
    elif kind is fields.List:
        value_loader = _list(_item_loader(field.inner))
    elif kind is fields.Nested and not field.many and not field.only and not field.exclude:
        nested = field.schema
        value_loader = _schema_loader(nested, field.unknown or nested.unknown)
    else:
        raise NotCompilable(f"field {field.name!r}: {kind.__name__}")
    checks = tuple(_validator_check(v) for v in field.validators)
    if not checks:
        return value_loader

    def load(value: Any) -> Any:
        loaded = value_loader(value)
        try:
            if all(check(loaded) for check in checks):
                return loaded
        except (TypeError, ValueError, OverflowError):  # e.g. a Range on a string: marshmallow words it
            pass
        raise Unsure

    return load


def _item_loader(inner: fields.Field) -> Load:
    item = _field_loader(inner)
    if inner.allow_none:
        return lambda value: None if value is None else item(value)
    return item


def _of_type(kind: type) -> Load:
    def load(value: Any) -> Any:
        if type(value) is not kind:
            raise Unsure
        return value
    return load


def _float(allow_nan: bool) -> Load:
    def load(value: Any) -> float:
        kind = type(value)
        if kind is int:
            try:
                return float(value)
            except OverflowError:
                raise Unsure from None
        if kind is not float or (not allow_nan and not math.isfinite(value)):
            raise Unsure
        return value
    return load


def _copied_dict(value: Any) -> dict:
    if type(value) is not dict:
        raise Unsure
    return dict(value)


def _list(item: Load) -> Load:
    def load(value: Any) -> list:
        if type(value) is not list:
            raise Unsure
        return [item(element) for element in value]
    return load


def _validator_check(validator: Any) -> Callable[[Any], bool]:
    kind = type(validator)
    if kind is validate.OneOf:
        choices = validator.choices
        return lambda value: value in choices
    if kind is validate.Range:
        return lambda value: _in_range(value, validator)
    if kind is validate.Length:
        return lambda value: _of_length(len(value), validator)
    if kind is validate.Regexp:
        regex = validator.regex
        return lambda value: regex.match(value) is not None
    raise NotCompilable(f"validator {kind.__name__}")


def _in_range(value: float, rule: validate.Range) -> bool:
    if rule.min is not None and (value < rule.min if rule.min_inclusive else value <= rule.min):
        return False
    return rule.max is None or (value <= rule.max if rule.max_inclusive else value < rule.max)


def _of_length(length: int, rule: validate.Length) -> bool:
    if rule.equal is not None:
        return length == rule.equal
    return (rule.min is None or length >= rule.min) and (rule.max is None or length <= rule.max)
