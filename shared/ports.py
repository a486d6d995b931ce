"""The ports every service depends on. Adapters live in ``shared.adapters``; ``shared.backends``
chooses them from configuration. Services see only these protocols."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping, Protocol, Sequence

from shared.events.wire import Message, Record

Document = dict[str, Any]
Filter = Mapping[str, Any]
Sort = Sequence[tuple[str, int]]  # (field, 1 ascending | -1 descending)
Fields = Sequence[str]  # top-level field names: a projection (``DocumentStore.find``)


@dataclass(frozen=True)
class StoreWrite:
    """One write of a batch (``DocumentStore.write_batch``): ``insert`` and ``replace`` carry the document
    as it is to be stored, its new ``_v`` included; ``replace`` applies only if the stored version is
    still ``expected_v``; ``delete`` removes the document whatever its version."""
    kind: str  # "insert" | "replace" | "delete"
    collection: str
    id: str
    document: Document | None = None
    expected_v: int | None = None


class Subscription(Protocol):
    """One consumer-group member's view of some topics."""

    def poll(self, timeout_s: float, max_records: int) -> list[Record]:
        """The next records after the last polled ones, possibly none after ``timeout_s``."""

    def commit(self, records: Sequence[Record]) -> None:
        """Store durably that these records (and all before them per partition) are handled."""

    def rewind(self) -> None:
        """Forget uncommitted progress: the next poll starts after the last committed record."""

    def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet committed, per (topic, partition)."""

    def close(self) -> None: ...


class EventLog(Protocol):
    """A durable, ordered, partitioned log of records keyed by case id."""

    def ensure_topics(self, topics: Iterable[str]) -> None: ...

    def append(self, topic: str, messages: Sequence[Message]) -> None:
        """Store the messages durably; returns only once they are acknowledged by the log."""

    def subscribe(self, group: str, topics: Sequence[str]) -> Subscription: ...

    def unconsumed(self, group: str, topics: Sequence[str]) -> int:
        """Records on ``topics`` after ``group``'s committed positions (all of a topic it never committed
        on), read from outside the group: nobody joins it, so its members are not disturbed."""

    def ping(self) -> None:
        """Raise BackendUnavailable unless the log answers."""

    def close(self) -> None: ...


class DocumentStore(Protocol):
    """Documents with a string ``_id`` and an adapter-managed version ``_v`` in named collections.

    Filters compare top-level or dotted scalar fields with equality or the operators
    ``$ne $in $nin $gt $gte $lt $lte $exists``. Updates are optimistic: ``replace`` succeeds only if
    the stored version still equals the document's ``_v``, which makes a single document's
    read-modify-write atomic on both backends (FerretDB and SQLite alike).
    """

    def ensure_index(self, collection: str, fields: Sequence[str], *, unique: bool = False) -> None: ...

    def insert(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        """Store a new document; Conflict if its ``_id`` or a unique field is taken. ``handed_over``: the
        caller will never change the document, or anything in it, again — a store that keeps it (a unit of
        work's buffer) may then keep it as it is instead of a private copy."""

    def get(self, collection: str, id: str, *, shared: bool = False) -> Document | None:
        """The document, or None. ``shared``: the caller will not change it, or anything in it — a store that
        keeps documents (a unit of work's buffer) may then hand out its own instead of a private copy."""

    def replace(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        """Store a new state of a document read before; Conflict if it changed meanwhile. ``handed_over``:
        as for ``insert``."""

    def delete(self, collection: str, id: str) -> bool: ...

    def write_batch(self, writes: Sequence[StoreWrite]) -> None:
        """Store several writes at once; Conflict if an insert's id is taken or a replace's version moved.
        SQLite: one transaction, all or nothing. MongoDB: one ordered bulk per collection, which may
        apply part of the batch before the Conflict (see ``shared.unit_of_work``)."""

    def find(self, collection: str, filter: Filter | None = None, *, sort: Sort = (),
             skip: int = 0, limit: int = 0, fields: Fields | None = None) -> list[Document]:
        """The matching documents, in ``sort`` order then by ``_id``. With ``fields`` (top-level names),
        each holds its ``_id`` and those fields only, None for one it lacks (as for a null: SQLite reads
        them all in one ``json_extract``, which cannot tell the two apart); ``_v`` only when named. Such a
        part of a document is for reading: replacing it would store it without the other fields, and
        without ``_v`` ``replace`` refuses it (KeyError)."""

    def count(self, collection: str, filter: Filter | None = None) -> int: ...

    def count_by(self, collection: str, fields: Sequence[str], filter: Filter | None = None) -> dict[tuple, int]:
        """How many documents matching ``filter`` hold each combination of the fields' scalar values (None
        for a missing field): one query where ``count`` would need one per combination."""

    def ping(self) -> None:
        """Raise BackendUnavailable unless the store answers."""

    def close(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


@dataclass(frozen=True)
class StoredFile:
    id: str
    data: bytes
    content_type: str
    filename: str = ""


class FileStore(Protocol):
    """Photos and files (bytes with a content type), by an id the store chooses."""

    def put(self, data: bytes, *, content_type: str, filename: str = "") -> str:
        """Store the bytes durably; returns their new id."""

    def get(self, file_id: str) -> StoredFile | None:
        """The file, or None for an unknown (or malformed) id."""

    def delete(self, file_id: str) -> bool: ...

    def ping(self) -> None:
        """Raise BackendUnavailable unless the store answers."""

    def close(self) -> None: ...
