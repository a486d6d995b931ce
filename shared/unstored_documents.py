"""The documents of one collection a unit of work (``shared.unit_of_work``) changed and has not stored yet,
with the candidates for a query picked by an equality field instead of by reading them all.

A consumer batch holds up to a few hundred such documents, and the router queries its routing records for
every report it routes (clustering, duplicates): matching each query against every buffered document made
the batch quadratic (~20 % of the router's CPU at full speed). For a filter that asks a top-level field for
one string (``{"compound": "c-12", …}``) only the documents holding that string there, and those whose field
holds a list or an object (the filter module leaves them to the store), can match; the caller still applies
the whole filter to those with ``document_filters.matches``, so the answer is the one a scan would give. An
index per field is built on the first query that uses it and kept up to date by every later write."""
from __future__ import annotations

from typing import Any, Iterable

from shared.ports import Document, Filter

# documents whose field holds a list or an object: the filter module decides (Undecidable), not the index
_UNSURE = object()


class UnstoredDocuments:
    def __init__(self) -> None:
        self.by_id: dict[str, Document | None] = {}  # None: deleted in this batch
        self._indexes: dict[str, dict[Any, dict[str, Document]]] = {}  # field -> value -> id -> document

    def __bool__(self) -> bool:
        return bool(self.by_id)

    def __contains__(self, id: str) -> bool:
        return id in self.by_id

    def put(self, id: str, document: Document | None) -> None:
        """The document's state in the batch now (None: deleted)."""
        before = self.by_id.get(id)
        self.by_id[id] = document
        for name, index in self._indexes.items():
            if before is not None:
                index.get(_key(before, name), {}).pop(id, None)
            if document is not None:
                index.setdefault(_key(document, name), {})[id] = document

    def candidates(self, filter: Filter | None) -> Iterable[Document]:
        """The (live) documents that may match ``filter``: a superset of those that do."""
        fields = [name for name, condition in (filter or {}).items() if type(condition) is str and "." not in name]
        if not fields:
            return [d for d in self.by_id.values() if d is not None]
        best: list[Document] | None = None
        for name in fields:
            index = self._index(name)
            found = [*index.get(filter[name], {}).values(), *index.get(_UNSURE, {}).values()]
            if best is None or len(found) < len(best):
                best = found
        return best

    def _index(self, name: str) -> dict[Any, dict[str, Document]]:
        index = self._indexes.get(name)
        if index is None:
            index = self._indexes[name] = {}
            for id, document in self.by_id.items():
                if document is not None:
                    index.setdefault(_key(document, name), {})[id] = document
        return index


def _key(document: Document, name: str) -> Any:
    """The index's key of a document: its string value; every other scalar, or no value, is a key no string
    equals (never a match for a string), and a list or an object is ``_UNSURE``."""
    value = document.get(name)
    if type(value) is str:
        return value
    return _UNSURE if isinstance(value, (list, dict)) else None
