"""The DocumentStore port's filters, sorts and projections evaluated in Python, for documents a batch has
not stored yet (``shared.unit_of_work`` answers a query by merging them with the store's answer).

Only the cases where SQLite and MongoDB agree are decided here; anything else — a field holding a list
or an object, values of different types compared or sorted together, an unknown operator, ``$exists``
on a null — raises ``Undecidable``, and the caller asks the store instead (after flushing)."""
from __future__ import annotations

import re
from functools import lru_cache
from operator import ge, gt, le, lt
from typing import Any, Iterable

from shared.ports import Document, Fields, Filter, Sort

_MISSING = object()
_ORDER = {"$gt": gt, "$gte": ge, "$lt": lt, "$lte": le}
_TOP_LEVEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Undecidable(Exception):
    """The backends might answer differently: let the store decide."""


def matches(document: Document, filter: Filter | None) -> bool:
    return all(_condition(_value(document, name), condition) for name, condition in (filter or {}).items())


def sorted_documents(documents: Iterable[Document], sort: Sort) -> list[Document]:
    """In the order both adapters return: by each sort field (null or missing first when ascending,
    last when descending), then by ``_id``."""
    ordered = sorted(documents, key=lambda d: _sort_key(d.get("_id")))
    for name, direction in reversed(list(sort)):
        values = [_value(d, name) for d in ordered]
        _comparable([v for v in values if v is not _MISSING and v is not None])
        ordered = sorted(ordered, key=lambda d: _sort_key(_value(d, name)), reverse=direction < 0)
    return ordered


def projection(fields: Fields) -> tuple[str, ...]:
    """A projection's field names as every store takes them: checked to be top-level names, each once,
    without ``_id`` (always returned)."""
    if isinstance(fields, str):
        raise TypeError("a projection is a sequence of field names, not one string")
    return _checked(tuple(fields))


@lru_cache(maxsize=256)  # a service asks for a few projections, on every query of a batch
def _checked(fields: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name for name in fields if name != "_id"))
    for name in names:
        if not _TOP_LEVEL.match(name):
            raise ValueError(f"a projection names top-level fields only, not {name!r}")
    return names


def projected(document: Document, names: tuple[str, ...]) -> Document:
    """The document's ``_id`` and the fields (``projection``'s names), None for one it lacks; the values
    are shared, not copied."""
    return {"_id": document["_id"], **{name: document.get(name) for name in names}}


def _value(document: Document, name: str) -> Any:
    if "." not in name:  # most fields: one lookup
        value = document.get(name, _MISSING)
    else:
        value = document
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
    if isinstance(value, (list, dict)):
        raise Undecidable(f"field {name} holds a {type(value).__name__}")
    return value


def _condition(value: Any, condition: Any) -> bool:
    absent = value is _MISSING or value is None
    if not isinstance(condition, dict):
        return absent if condition is None else (not absent and _equal(value, condition))
    return all(_operator(value, absent, operator, operand) for operator, operand in condition.items())


def _operator(value: Any, absent: bool, operator: str, operand: Any) -> bool:
    if operator == "$ne":
        return not _condition(value, operand)
    if operator == "$in":
        return not absent and any(_equal(value, o) for o in operand)
    if operator == "$nin":
        return absent or not any(_equal(value, o) for o in operand)
    if operator == "$exists":
        if value is None:
            raise Undecidable("$exists on a null field")  # SQLite: absent; MongoDB: present
        return (value is not _MISSING) == bool(operand)
    compare = _ORDER.get(operator)
    if compare is not None:
        if absent:
            return False
        if type(value) is not type(operand):  # values of one type are always of one kind
            _comparable([value, operand])
        return compare(value, operand)
    raise Undecidable(f"operator {operator}")


def _equal(value: Any, operand: Any) -> bool:
    if isinstance(operand, (list, dict)):
        raise Undecidable("filters compare scalar values only")
    if isinstance(value, bool) != isinstance(operand, bool):
        if isinstance(value, (int, float)) and isinstance(operand, (int, float)):
            raise Undecidable("a boolean compared with a number")  # SQLite stores true as 1
        return False
    return value == operand


def _comparable(values: list) -> None:
    kinds = {"bool" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else type(v).__name__
             for v in values}
    if len(kinds) > 1:
        raise Undecidable(f"values of different types compared: {sorted(kinds)}")


def _sort_key(value: Any) -> tuple:
    return (0,) if value is _MISSING or value is None else (1, value)
