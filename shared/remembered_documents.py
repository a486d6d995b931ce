"""The documents of chosen collections as this process last stored them, for the unit of work's reads.

A consume loop that rewrites the same documents event after event (the tracker folds every event into its
case: a 12 kB document read, decoded, changed and written back several times a second) pays the read and
the decode again at every batch, although the document it would read is the one it wrote itself a
moment before. ``BatchingStore`` keeps, per chosen collection, the last ``limit`` documents its batches
stored, and answers a batch's first read of one of them from here.

Why that is safe: a remembered document is a snapshot the store held at its ``_v``, and every write the
batch derives from it is a compare-and-set on that ``_v``. If another writer changed the document since
(a second consumer-group member after a rebalance, a write outside any batch), the batch's flush conflicts,
the batch is redone, and ``forget_all`` has dropped every remembered document first, so the redo reads the
store. A document is remembered only once its write was stored; a delete, or any write outside a batch
through the same ``BatchingStore``, forgets it. What the cache cannot see is a store wiped and rebuilt to
the same versions (``griddesk replay``, which documents that the worker must be stopped first: a restart
starts with nothing remembered).

The documents are shared, never copied: they are what the batch buffered, and callers that asked for
``shared=True`` already promised not to change what they get (the unit of work copies for the others).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Mapping, Sequence

from shared.ports import Document, StoreWrite


class RememberedDocuments:
    """At most ``limits[collection]`` documents per collection, the least recently stored or read dropped
    first. Thread-safe: the consume loop's batches and a timer's batches may share one store."""

    def __init__(self, limits: Mapping[str, int] | None = None):
        self._limits = {collection: limit for collection, limit in (limits or {}).items() if limit > 0}
        self._documents: dict[str, OrderedDict[str, Document]] = {c: OrderedDict() for c in self._limits}
        self._lock = threading.Lock()

    def get(self, collection: str, id: str) -> Document | None:
        documents = self._documents.get(collection)
        if documents is None:
            return None
        with self._lock:
            document = documents.get(id)
            if document is not None:
                documents.move_to_end(id)
            return document

    def stored(self, writes: Sequence[StoreWrite]) -> None:
        """Remember what a batch's writes stored (they all were)."""
        with self._lock:
            for write in writes:
                documents = self._documents.get(write.collection)
                if documents is None:
                    continue
                if write.kind == "delete" or write.document is None:
                    documents.pop(write.id, None)
                    continue
                documents[write.id] = write.document
                documents.move_to_end(write.id)
                if len(documents) > self._limits[write.collection]:
                    documents.popitem(last=False)

    def forget(self, collection: str, id: str) -> None:
        documents = self._documents.get(collection)
        if documents is not None:
            with self._lock:
                documents.pop(id, None)

    def forget_all(self) -> None:
        with self._lock:
            for documents in self._documents.values():
                documents.clear()
