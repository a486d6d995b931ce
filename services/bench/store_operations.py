"""``griddesk bench store``: the DocumentStore operations the consumers live on, timed one at a time
against a collection of N documents — a compare-and-set ``replace`` (the ``{_id, _v}`` filter every
read-modify-write ends with) and a ``find`` by a field other than ``_id`` that matches one document.

Written to compare MongoDB-wire servers (FerretDB v1 on SQLite scans the whole collection for every
filter but a bare ``{_id}``; on PostgreSQL it pushes equality down, and deploy/local gives it indexes
that can serve it), so the collection sizes are the point: a cost that grows with N is a scan."""
from __future__ import annotations

import time
from typing import Callable

from services.bench.statistics import percentile
from shared.ports import DocumentStore, StoreWrite

COLLECTION = "bench_store"
INSERT_CHUNK = 500
PADDING = "楼道灯坏了好几天，" * 60  # ~1.6 kB of UTF-8: a small case document


def run_store_bench(store: DocumentStore, sizes: list[int], operations: int,
                    say: Callable[[str], None]) -> list[dict]:
    """For each size: fill the collection up to it, then time ``operations`` replaces and finds."""
    results, stored = [], 0
    # as a service declares the fields it finds by (deploy/local turns such an index into one FerretDB's
    # pushed-down equality can use; the SQLite and MongoDB stores use it as it is)
    store.ensure_index(COLLECTION, ["reference"])
    for size in sorted(sizes):
        started = time.perf_counter()
        _fill(store, stored, size)
        say(f"{size} documents stored in {time.perf_counter() - started:.1f}s")
        stored = size
        results.append({"documents": size, **_time_operations(store, size, operations)})
        say(_line(results[-1]))
    return results


def _fill(store: DocumentStore, start: int, end: int) -> None:
    for first in range(start, end, INSERT_CHUNK):
        store.write_batch([StoreWrite("insert", COLLECTION, _id(i), _document(i), None)
                           for i in range(first, min(first + INSERT_CHUNK, end))])


def _time_operations(store: DocumentStore, size: int, operations: int) -> dict:
    step = max(1, size // operations)
    targets = [(i * step) % size for i in range(operations)]
    replace_ms, find_ms = [], []
    for i in targets:
        document = store.get(COLLECTION, _id(i))
        started = time.perf_counter()
        store.replace(COLLECTION, {**document, "touched": document.get("touched", 0) + 1})
        replace_ms.append((time.perf_counter() - started) * 1000)
    for i in targets:
        started = time.perf_counter()
        found = store.find(COLLECTION, {"reference": f"ref-{i}"})
        find_ms.append((time.perf_counter() - started) * 1000)
        if len(found) != 1:
            raise AssertionError(f"find by reference ref-{i} gave {len(found)} documents, not 1")
    return {"replace_p50_ms": round(percentile(replace_ms, 0.5), 2),
            "replace_p95_ms": round(percentile(replace_ms, 0.95), 2),
            "find_p50_ms": round(percentile(find_ms, 0.5), 2), "find_p95_ms": round(percentile(find_ms, 0.95), 2)}


def _id(i: int) -> str:
    return f"GD-BENCH-{i:07d}"


def _document(i: int) -> dict:
    return {"_id": _id(i), "_v": 1, "reference": f"ref-{i}", "grid": f"G{i % 24:02d}", "state": "assigned",
            "text": PADDING}


def _line(result: dict) -> str:
    return (f"  {result['documents']:>7} documents: replace (compare-and-set) p50 {result['replace_p50_ms']:7.2f} ms"
            f"  p95 {result['replace_p95_ms']:7.2f} ms | find by a field p50 {result['find_p50_ms']:7.2f} ms"
            f"  p95 {result['find_p95_ms']:7.2f} ms")
