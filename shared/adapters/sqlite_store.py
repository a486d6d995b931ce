"""The embedded document store: each collection is a SQLite table of JSON documents.

Documents hold JSON values only (strings, numbers, booleans, null, lists, objects); times are ISO-8601
strings. Fields are reached with ``json_extract``, except the fields an index names: each of those is kept
in a column of its own (``"f:<field>"``, holding what ``json_extract`` would answer, filled by every write
from the document in hand) and indexed there, and filters and sorts on it read the column. An index over
``json_extract`` expressions would cost every write a parse of the document per index, old value and new:
a 9 kB case with ten indexes took 95 µs per replace (``write_batch`` of 40, encoding included), against 67
with columns (SQLite 3.40).

Every write transaction first checks the schema's version, so a write never misses a column another
process added (``ensure_index`` adds the column, fills it from the stored documents, and replaces an older
release's expression index of the same fields).
"""
from __future__ import annotations

import functools
import re
import sqlite3
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from shared import json_codec
from shared.adapters.sqlite_connection import SqliteConnections
from shared.document_filters import projection
from shared.errors import BackendUnavailable, Conflict
from shared.ports import Document, Fields, Filter, Sort, StoreWrite

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_COMPARISONS = {"$ne": "IS NOT", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def _table(collection: str) -> str:
    if not _NAME.match(collection):
        raise ValueError(f"invalid collection name {collection!r}")
    return f'"c_{collection}"'


def _checked_field(name: str) -> str:
    if not _FIELD.match(name):
        raise ValueError(f"invalid field name {name!r}")
    return name


def _column(name: str) -> str:
    return f'"f:{name}"'


def indexed_value(document: Document, name: str) -> Any:
    """What ``json_extract(doc, '$.<name>')`` answers for ``document``: booleans as 1 and 0, objects and
    lists as their JSON text, NULL for a path that does not lead to a value."""
    value: Any = document
    for part in name.split("."):
        if type(value) is not dict:
            return None
        value = value.get(part)
    if value is True or value is False:
        return int(value)
    if isinstance(value, (dict, list)):
        return json_codec.to_text(value)
    return value


def _sql_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        raise ValueError("filters compare scalar values only")
    return value


def _where(filter: Filter | None, field: Callable[[str], str]) -> tuple[str, list]:
    clauses: list[str] = []
    params: list = []
    for name, condition in (filter or {}).items():
        column = field(name)
        if isinstance(condition, dict):
            for operator, operand in condition.items():
                if operator in ("$in", "$nin"):
                    values = [_sql_value(v) for v in operand]
                    if not values:
                        clauses.append("0" if operator == "$in" else "1")
                        continue
                    marks = ",".join("?" * len(values))
                    negate = "NOT " if operator == "$nin" else ""
                    clauses.append(f"({column} IS NOT NULL AND {column} {negate}IN ({marks}))"
                                   if operator == "$in" else f"({column} IS NULL OR {column} NOT IN ({marks}))")
                    params.extend(values)
                elif operator == "$exists":
                    clauses.append(f"{column} IS {'NOT ' if operand else ''}NULL")
                elif operator in _COMPARISONS:
                    clauses.append(f"{column} {_COMPARISONS[operator]} ?")
                    params.append(_sql_value(operand))
                else:
                    raise ValueError(f"unsupported filter operator {operator!r}")
        elif condition is None:
            clauses.append(f"{column} IS NULL")
        else:
            clauses.append(f"{column} = ?")
            params.append(_sql_value(condition))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class SqliteStore:
    def __init__(self, path: str, *, synchronous: str = "FULL"):
        self._connections = SqliteConnections(path, synchronous=synchronous)
        self._tables: set[str] = set()
        self._columns = _IndexedColumns()

    def _db(self, collection: str) -> sqlite3.Connection:
        connection = self._connections.get()
        if collection not in self._tables:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {_table(collection)} "
                "(id TEXT PRIMARY KEY, v INTEGER NOT NULL, doc TEXT NOT NULL)")
            self._tables.add(collection)
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that knows every indexed column (another process may have added one)."""
        with self._connections.write() as db:
            self._columns.refresh(db)
            yield db

    def _field(self, collection: str) -> Callable[[str], str]:
        """How a query reads a field of ``collection``: its column when it has one (the schema read again
        if another process changed it, so a query never scans for want of a column it did not know)."""
        self._columns.refresh(self._db(collection))
        indexed = self._columns.of(collection)

        def field(name: str) -> str:
            if name == "_id":
                return "id"
            _checked_field(name)
            return _column(name) if name in indexed else f"json_extract(doc, '$.{name}')"
        return field

    def ensure_index(self, collection: str, fields: Sequence[str], *, unique: bool = False) -> None:
        self._db(collection)
        table, suffix = _table(collection), "_".join(f.replace(".", "_") for f in fields)
        with self._write() as db:
            existing = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            for name in fields:
                if name != "_id" and f"f:{_checked_field(name)}" not in existing:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {_column(name)}")
                    db.execute(f"UPDATE {table} SET {_column(name)} = json_extract(doc, ?)", (f"$.{name}",))
                    existing.add(f"f:{name}")
            db.execute(f'DROP INDEX IF EXISTS "ix_{collection}_{suffix}"')  # an older release's, over json_extract
            columns = ", ".join("id" if name == "_id" else _column(name) for name in fields)
            db.execute(f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "fx_{collection}_{suffix}" '
                       f"ON {table} ({columns})")
            self._columns.refresh(db)

    def insert(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        stored = {**document, "_v": 1}
        self._db(collection)
        try:
            with self._write() as db:
                _apply(db, StoreWrite("insert", collection, stored["_id"], stored), self._columns.of(collection))
        except sqlite3.IntegrityError as error:
            raise Conflict(f"{collection}/{stored['_id']}: {error}") from None
        except sqlite3.OperationalError as error:
            raise BackendUnavailable(str(error)) from error
        return stored

    def get(self, collection: str, id: str, *, shared: bool = False) -> Document | None:
        row = self._db(collection).execute(
            f"SELECT doc FROM {_table(collection)} WHERE id=?", (id,)).fetchone()
        return json_codec.from_text(row[0]) if row else None

    def replace(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        version = document["_v"]
        stored = {**document, "_v": version + 1}
        self._db(collection)
        try:
            with self._write() as db:
                _apply(db, StoreWrite("replace", collection, stored["_id"], stored, expected_v=version),
                       self._columns.of(collection))
        except sqlite3.IntegrityError as error:
            raise Conflict(f"{collection}/{stored['_id']}: {error}") from None
        except sqlite3.OperationalError as error:
            raise BackendUnavailable(str(error)) from error
        return stored

    def delete(self, collection: str, id: str) -> bool:
        self._db(collection)
        with self._connections.write() as db:
            return db.execute(f"DELETE FROM {_table(collection)} WHERE id=?", (id,)).rowcount > 0

    def write_batch(self, writes: Sequence[StoreWrite]) -> None:
        """Every write in one transaction (one write lock, one fsync), each version checked inside it:
        all of them are stored, or — on a Conflict — none."""
        if not writes:
            return
        for write in writes:
            self._db(write.collection)
        try:
            with self._write() as db:
                for write in writes:
                    _apply(db, write, self._columns.of(write.collection))
        except sqlite3.IntegrityError as error:
            raise Conflict(f"batch of {len(writes)} writes: {error}") from None
        except sqlite3.OperationalError as error:
            raise BackendUnavailable(str(error)) from error

    def find(self, collection: str, filter: Filter | None = None, *, sort: Sort = (),
             skip: int = 0, limit: int = 0, fields: Fields | None = None) -> list[Document]:
        field = self._field(collection)
        where, params = _where(filter, field)
        order = ", ".join(f"{field(f)} {'DESC' if d < 0 else 'ASC'}" for f, d in sort) or "id"
        names = None if fields is None else projection(fields)
        columns = "doc" if names is None else _projection_columns(names)
        sql = f"SELECT {columns} FROM {_table(collection)}{where} ORDER BY {order}"
        if limit or skip:
            sql += " LIMIT ? OFFSET ?"
            params += [limit if limit else -1, skip]
        rows = self._db(collection).execute(sql, params)
        if names is None:
            return [json_codec.from_text(row[0]) for row in rows]
        return [{"_id": row[0], **dict(zip(names, json_codec.from_text(row[1])))} for row in rows]

    def count(self, collection: str, filter: Filter | None = None) -> int:
        where, params = _where(filter, self._field(collection))
        return self._db(collection).execute(
            f"SELECT count(*) FROM {_table(collection)}{where}", params).fetchone()[0]

    def count_by(self, collection: str, fields: Sequence[str], filter: Filter | None = None) -> dict[tuple, int]:
        field = self._field(collection)
        where, params = _where(filter, field)
        columns = ", ".join(field(name) for name in fields)
        rows = self._db(collection).execute(
            f"SELECT {columns}, count(*) FROM {_table(collection)}{where} GROUP BY {columns}", params).fetchall()
        return {tuple(row[:-1]): row[-1] for row in rows}

    def ping(self) -> None:
        try:
            self._connections.get().execute("SELECT 1").fetchone()
        except sqlite3.Error as error:
            raise BackendUnavailable(str(error)) from error

    def close(self) -> None:
        self._connections.close()


def _projection_columns(names: tuple[str, ...]) -> str:
    """The id, then one JSON array of the fields: ``json_extract`` with several paths parses the document
    once (``->`` per field parses it per field: 2× the time for nine fields) and keeps booleans, lists and
    objects in their JSON form; a field the document lacks is null in it."""
    if not names:
        return "id, '[]'"
    paths = names if len(names) > 1 else names * 2  # one path alone answers an SQL value, not an array
    return "id, json_extract(doc, " + ", ".join(f"'$.{name}'" for name in paths) + ")"


def _apply(db: sqlite3.Connection, write: StoreWrite, indexed: tuple[str, ...]) -> None:
    """One write inside a write transaction; ``indexed``: the collection's indexed fields, each stored in
    its column too."""
    table = _table(write.collection)
    if write.kind == "delete":
        db.execute(f"DELETE FROM {table} WHERE id=?", (write.id,))
        return
    document = write.document or {}
    encoded = json_codec.to_text(document)
    values = [indexed_value(document, name) for name in indexed]
    if write.kind == "insert":
        db.execute(_insert_sql(table, indexed), (write.id, document["_v"], encoded, *values))
    elif write.kind == "replace":
        changed = db.execute(_update_sql(table, indexed),
                             (document["_v"], encoded, *values, write.id, write.expected_v)).rowcount
        if not changed:
            raise Conflict(f"{write.collection}/{write.id} changed since version {write.expected_v}")
    else:
        raise ValueError(f"unknown write kind {write.kind!r}")


@functools.lru_cache(maxsize=256)
def _insert_sql(table: str, indexed: tuple[str, ...]) -> str:
    columns = "".join(f", {_column(name)}" for name in indexed)
    return f"INSERT INTO {table} (id, v, doc{columns}) VALUES (?, ?, ?{', ?' * len(indexed)})"


@functools.lru_cache(maxsize=256)
def _update_sql(table: str, indexed: tuple[str, ...]) -> str:
    columns = "".join(f", {_column(name)}=?" for name in indexed)
    return f"UPDATE {table} SET v=?, doc=?{columns} WHERE id=? AND v=?"


class _IndexedColumns:
    """{collection: its indexed fields that have a column}, read from the schema again whenever its
    version moved (``PRAGMA schema_version``: one integer read, no table scan)."""

    def __init__(self) -> None:
        self._fields: dict[str, tuple[str, ...]] = {}
        self._schema_version: int | None = None

    def of(self, collection: str) -> tuple[str, ...]:
        return self._fields.get(collection, ())

    def refresh(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA schema_version").fetchone()[0]
        if version == self._schema_version:
            return
        fields = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'c!_%' ESCAPE '!'"):
            columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
            fields[table[2:]] = tuple(column[2:] for column in columns if column.startswith("f:"))
        self._fields, self._schema_version = fields, version
