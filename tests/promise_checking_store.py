"""A BatchingStore for tests that holds callers to the unit of work's two promises: a document read with
``get(shared=True)`` is never changed, and neither is anything inside a document written with
``handed_over=True`` (its top level is the store's own copy, so only the values inside it count). It keeps
a deep copy of each at hand-out and ``broken_promises()`` names every one that changed since."""
from __future__ import annotations

import copy

from shared.ports import Document
from shared.unit_of_work import BatchingStore


class PromiseCheckingStore(BatchingStore):
    def __init__(self, store, **options):
        super().__init__(store, **options)
        self._handed: list[tuple[str, object, object]] = []

    def get(self, collection: str, id: str, *, shared: bool = False) -> Document | None:
        document = super().get(collection, id, shared=shared)
        if shared and document is not None:
            self._keep(f"get({collection}/{id}, shared=True)", document)
        return document

    def insert(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        if handed_over:
            self._keep(f"insert({collection}/{document['_id']}, handed_over=True)", _inside(document))
        return super().insert(collection, document, handed_over=handed_over)

    def replace(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        if handed_over:
            self._keep(f"replace({collection}/{document['_id']}, handed_over=True)", _inside(document))
        return super().replace(collection, document, handed_over=handed_over)

    def _keep(self, what: str, value: object) -> None:
        self._handed.append((what, value, copy.deepcopy(value)))

    def broken_promises(self) -> list[str]:
        return [what for what, value, snapshot in self._handed if value != snapshot]

    @property
    def handed_out(self) -> int:
        return len(self._handed)


def _inside(document: Document) -> dict:
    """The values a handed-over document shares with its caller: everything below its top level."""
    return {key: value for key, value in document.items() if isinstance(value, (dict, list))}
