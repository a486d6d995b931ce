"""A unit of work per consumer batch: a DocumentStore that, on the thread inside ``batch()``, buffers
the writes and stores them together at the end — on SQLite in one transaction (one write lock, one
fsync), on MongoDB in one ordered bulk write per collection (one round trip) — instead of one durable
write per ``insert``/``replace``/``delete``.

Inside a batch:
- ``get`` answers from the batch first (read-your-writes, with the buffered ``_v``, so a later
  compare-and-set in the same batch chains on it); a document read from the store is kept for the rest
  of the batch, so several events of one case cost one read. A stale read is harmless: every buffered
  replace still carries the version it was read at, and the flush checks it.
- ``replace`` is checked against the batch at once when the batch wrote that document (a reaction's
  ``except Conflict`` retry loop then works as before: inside a batch a stale replace can only conflict
  against the buffer), and against the store at flush otherwise. Several writes of one document in one
  batch become one write (an insert followed by replaces is one insert of the last state).
- queries see the batch's writes: ``find`` merges the store's answer with the batch's unstored
  documents of that collection (filtered and sorted in Python by ``shared.document_filters``, where
  both backends agree), so a reaction that queries — the router's clustering does, for every report —
  does not cut the batch short (a projection, ``fields``, applies to both once they are ordered; the
  candidates come from ``shared.unstored_documents``, by a field the filter asks for one string);
  ``count``, a ``find`` with ``skip``/``limit``, or one the filter module cannot decide, flushes the
  batch's writes to that collection first and asks the store.
- a flush that fails makes the whole batch unusable: a Conflict becomes ``StaleBatch`` (the batch read
  something that changed meanwhile, or inserted an id someone else holds — a redelivery), a
  ``BackendUnavailable`` stays one; every later call in that batch raises again. The consume loop then
  discards the batch, rewinds, and redoes it — after a ``StaleBatch`` write by write, without a batch,
  so the reactions' own Conflict handling decides as it always did.

Why a partial flush is harmless: on MongoDB a bulk write is not a transaction, so part of a batch may be
stored before the Conflict (an ordered bulk stops at a taken id; a replace whose version moved matches
nothing and the bulk goes on). That is the same situation as a crash part-way through a batch today,
when every write is its own: each write is idempotent on its own (reactions record the event ids they
applied in the very documents they change, and inserts use derived ids), so the redone batch skips
what was stored and does what is missing. On SQLite the batch is all or nothing.

Across batches, a store built with ``remembered={collection: limit}`` answers a batch's first ``get`` of a
document it stored itself from memory instead of the store (``shared.remembered_documents``: safe because
every write derived from it is a compare-and-set on its ``_v``, and a stale batch forgets them all).

Other threads — the tracker's SLA sweep, intake's relay, the notifier's delivery thread, HTTP requests —
use the same object and are never buffered by another thread's batch: the batch is thread-local state,
and outside a batch every call goes straight to the adapter.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Mapping, Sequence, TypeVar

from shared.document_copies import private_copy
from shared.document_filters import Undecidable, matches, projected, projection, sorted_documents
from shared.errors import BackendUnavailable, Conflict, StaleBatch
from shared.ports import Document, DocumentStore, Fields, Filter, Sort, StoreWrite
from shared.remembered_documents import RememberedDocuments
from shared.unstored_documents import UnstoredDocuments

Key = tuple[str, str]  # (collection, id)
T = TypeVar("T")


@dataclass
class _Known:
    """What the batch knows of one document: its current state (None: absent) and, if the batch changed
    it, the index of its pending write."""
    document: Document | None
    slot: int | None = None


@dataclass
class _Batch:
    known: dict[Key, _Known] = field(default_factory=dict)
    writes: list[StoreWrite] = field(default_factory=list)
    failure: Exception | None = None
    # what ``known`` holds with a pending write, per collection, for queries (a view kept beside it)
    changed: dict[str, UnstoredDocuments] = field(default_factory=dict)

    def check(self) -> None:
        if isinstance(self.failure, StaleBatch):
            raise StaleBatch(f"an earlier flush of this batch failed: {self.failure}")
        if self.failure is not None:
            raise BackendUnavailable(f"an earlier flush of this batch failed: {self.failure}")

    def pending(self, collection: str) -> bool:
        return any(w.collection == collection for w in self.writes)

    def unstored(self, collection: str) -> UnstoredDocuments | None:
        """The documents of ``collection`` this batch changed and has not stored yet (None: none)."""
        return self.changed.get(collection)

    def take_writes(self) -> list[StoreWrite]:
        writes, self.writes = self.writes, []
        for known in self.known.values():
            known.slot = None  # flushed: what the batch knows is now what the store holds
        self.changed = {}
        return writes

    def buffer(self, key: Key, write: StoreWrite) -> None:
        """Record the write, merged into the document's pending write when it has one."""
        known = self.known.get(key)
        pending = self.writes[known.slot] if known is not None and known.slot is not None else None
        self.changed.setdefault(key[0], UnstoredDocuments()).put(key[1], write.document)
        if pending is not None and pending.kind != "delete" and write.kind == "replace":
            self.writes[known.slot] = replace(pending, document=write.document)
            known.document = write.document
            return
        self.writes.append(write)
        self.known[key] = _Known(write.document, len(self.writes) - 1)


class BatchingStore:
    """A DocumentStore whose writes are buffered per batch on the thread that opened the batch.
    ``remembered``: {collection: how many of its documents} to keep as stored, for later batches' reads."""

    def __init__(self, store: DocumentStore, *, remembered: Mapping[str, int] | None = None):
        self._store = store
        self._local = threading.local()
        self._remembered = RememberedDocuments(remembered)

    @property
    def inner(self) -> DocumentStore:
        return self._store

    def __getattr__(self, name: str):
        return getattr(self._store, name)  # an adapter's own extras (e.g. MongoStore.drop)

    def _batch(self) -> _Batch | None:
        return getattr(self._local, "batch", None)

    @property
    def in_batch(self) -> bool:
        return self._batch() is not None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Buffer this thread's writes until the block ends, then flush them; an exception discards them."""
        if self._batch() is not None:
            raise RuntimeError("batches do not nest")
        self._local.batch = _Batch()
        try:
            yield
            self.flush()
        finally:
            self._local.batch = None

    def flush(self) -> None:
        """Store the batch's pending writes now (the batch stays open)."""
        batch = self._batch()
        if batch is None:
            return
        batch.check()
        writes = batch.take_writes()
        if not writes:
            return
        try:
            self._store.write_batch(writes)
        except BaseException as error:
            self._remembered.forget_all()  # one may have gone stale; on MongoDB part of the batch may be stored
            if isinstance(error, Conflict):
                batch.failure = StaleBatch(str(error))
                raise batch.failure from error
            if isinstance(error, BackendUnavailable):
                batch.failure = error
            raise
        self._remembered.stored(writes)

    # -- the DocumentStore port ------------------------------------------------------------------

    def ensure_index(self, collection: str, fields: Sequence[str], *, unique: bool = False) -> None:
        self._store.ensure_index(collection, fields, unique=unique)

    def get(self, collection: str, id: str, *, shared: bool = False) -> Document | None:
        batch = self._batch()
        if batch is None:
            return self._store.get(collection, id)
        batch.check()
        known = batch.known.get((collection, id))
        if known is None:
            known = batch.known[(collection, id)] = _Known(self._read(collection, id))
        return known.document if shared else private_copy(known.document)

    def _read(self, collection: str, id: str) -> Document | None:
        """A batch's first read of a document: as this process last stored it, else from the store."""
        remembered = self._remembered.get(collection, id)
        return remembered if remembered is not None else self._store.get(collection, id)

    def insert(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        batch = self._batch()
        if batch is None:
            self._remembered.forget(collection, document["_id"])
            return self._store.insert(collection, document)
        batch.check()
        key = (collection, document["_id"])
        known = batch.known.get(key)
        if known is not None and known.document is not None:
            raise Conflict(f"{collection}/{document['_id']} exists")
        stored = {**document, "_v": 1}
        buffered = {**stored} if handed_over else private_copy(stored)  # its own top level: the caller keeps ``stored``
        batch.buffer(key, StoreWrite("insert", collection, document["_id"], buffered))
        return stored  # as the adapters return it: the caller's own values, never the buffered copy's

    def replace(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        batch = self._batch()
        if batch is None:
            self._remembered.forget(collection, document["_id"])
            return self._store.replace(collection, document)
        batch.check()
        key, version = (collection, document["_id"]), document["_v"]
        known = batch.known.get(key)
        if known is not None and known.slot is not None and (known.document or {}).get("_v") != version:
            raise Conflict(f"{collection}/{document['_id']} changed in this batch since version {version}")
        stored = {**document, "_v": version + 1}
        buffered = {**stored} if handed_over else private_copy(stored)
        batch.buffer(key, StoreWrite("replace", collection, document["_id"], buffered, expected_v=version))
        return stored  # as the adapters return it: the caller's own values, never the buffered copy's

    def delete(self, collection: str, id: str) -> bool:
        batch = self._batch()
        if batch is None:
            self._remembered.forget(collection, id)
            return self._store.delete(collection, id)
        batch.check()
        key = (collection, id)
        known = batch.known.get(key)
        existed = (known.document if known is not None else self._read(collection, id)) is not None
        if not existed:
            batch.known[key] = _Known(None, known.slot if known is not None else None)
            return False
        batch.buffer(key, StoreWrite("delete", collection, id))
        return True

    def write_batch(self, writes: Sequence[StoreWrite]) -> None:
        for write in writes:
            self._remembered.forget(write.collection, write.id)
        self._store.write_batch(writes)

    def find(self, collection: str, filter: Filter | None = None, *, sort: Sort = (),
             skip: int = 0, limit: int = 0, fields: Fields | None = None) -> list[Document]:
        batch = self._batch()
        if batch is not None and not (skip or limit):
            batch.check()
            unstored = batch.unstored(collection)
            if unstored:
                try:
                    return self._merged(collection, filter, sort, unstored, fields)
                except Undecidable:
                    pass  # flush and ask the store
        self._flush_for_query(collection)
        return self._store.find(collection, filter, sort=sort, skip=skip, limit=limit, fields=fields)

    def _merged(self, collection: str, filter: Filter | None, sort: Sort,
                unstored: UnstoredDocuments, fields: Fields | None) -> list[Document]:
        """The store's answer and the batch's unstored matches, in the store's order. A projection is
        asked of the store with the sort's fields too (to order the two together), and both are cut to
        it once ordered; the batch's documents are matched whole, as the store matches its own."""
        names = None if fields is None else projection(fields)
        wanted = None if names is None else projection([*names, *(name.split(".")[0] for name, _ in sort)])
        mine = [private_copy(d if wanted is None else projected(d, wanted))
                for d in unstored.candidates(filter) if matches(d, filter)]
        stored = [d for d in self._store.find(collection, filter, sort=sort, fields=wanted)
                  if d["_id"] not in unstored]
        ordered = sorted_documents(stored + mine, sort)
        return ordered if wanted == names else [projected(d, names) for d in ordered]

    def count(self, collection: str, filter: Filter | None = None) -> int:
        self._flush_for_query(collection)
        return self._store.count(collection, filter)

    def count_by(self, collection: str, fields: Sequence[str], filter: Filter | None = None) -> dict[tuple, int]:
        self._flush_for_query(collection)
        return self._store.count_by(collection, fields, filter)

    def _flush_for_query(self, collection: str) -> None:
        batch = self._batch()
        if batch is not None:
            batch.check()
            if batch.pending(collection):
                self.flush()

    def ping(self) -> None:
        self._store.ping()

    def close(self) -> None:
        self._store.close()


# A batch whose writes went stale is redone as a batch this many times in all before it is redone write by
# write: the write it lost to is usually done by then, and write by write costs one transaction (one fsync)
# per write — under load the tracker's bucket timer and consume loop spent a third of their time so (the
# timer has since moved into the consume loop's thread).
BATCHED_ATTEMPTS = 2


def in_one_batch(store: DocumentStore, work: Callable[[], T]) -> T:
    """Run ``work`` (idempotent, as a timer's step is) as one unit of work when ``store`` can batch; if its
    writes went stale, run it again (as a batch up to ``BATCHED_ATTEMPTS`` in all, then write by write, so
    that contention can never stall it)."""
    if not isinstance(store, BatchingStore):
        return work()
    for _ in range(BATCHED_ATTEMPTS):
        try:
            with store.batch():
                return work()
        except StaleBatch:
            continue
    return work()


def replace_all(store: DocumentStore, collection: str, documents: Sequence[Document]) -> list[Document]:
    """Compare-and-set every document (each as read, at its ``_v``) in one batch write; if one of them
    changed meanwhile, each on its own instead. The documents stored, as stored (on MongoDB, without those
    a refused bulk had stored already: they then conflict with themselves, which only undercounts)."""
    stored = [{**d, "_v": d["_v"] + 1} for d in documents]
    try:
        store.write_batch([StoreWrite("replace", collection, d["_id"], d, expected_v=d["_v"] - 1) for d in stored])
        return stored
    except Conflict:
        pass
    kept = []
    for document in documents:
        try:
            kept.append(store.replace(collection, document))
        except Conflict:
            continue
    return kept
