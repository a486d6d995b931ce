"""A store adapter whose batch writes fail, for tests of what a crash or an outage part-way leaves."""
from __future__ import annotations

from shared.errors import BackendUnavailable


class FailingBatchWrites:
    """Wraps a store adapter: its next ``failures`` batch writes store only their first ``survive`` writes
    — in the order a MongoDB bulk per collection stores them (``MongoStore.write_batch``) — then raise
    ``BackendUnavailable``, as a worker killed part-way or a backend gone away would leave them."""

    def __init__(self, inner, *, failures: int = 1, survive: int = 0):
        self.inner, self.failures, self.survive = inner, failures, survive
        self.collections: list[str] = []  # of the last failed batch, in the order they were stored

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def write_batch(self, writes):
        if not self.failures:
            return self.inner.write_batch(writes)
        self.failures -= 1
        by_collection: dict[str, list] = {}
        for write in writes:
            by_collection.setdefault(write.collection, []).append(write)
        ordered = [w for group in by_collection.values() for w in group]
        self.collections = list(by_collection)
        self.inner.write_batch(ordered[:self.survive])
        raise BackendUnavailable(f"failed after {self.survive} of {len(ordered)} writes")

