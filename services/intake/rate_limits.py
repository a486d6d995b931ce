"""Fixed-window request counters kept in the document store.

In the store, not in each process: intake runs several gunicorn workers (and may run on several
machines), and a limit counted per worker would let a client through N times over. The cost is one
read and one compare-and-set write per limited request. Old windows are deleted by the worker's sweep.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from shared.errors import Conflict
from shared.ports import Clock, DocumentStore

RATE_COUNTERS = "rate_counters"


@dataclass(frozen=True)
class Limit:
    requests: int  # 0: unlimited
    window_s: int


class RateLimiter:
    def __init__(self, store: DocumentStore, clock: Clock, limits: dict[str, Limit]):
        self._store, self._clock, self._limits = store, clock, limits

    def allow(self, scope: str, subject: str) -> int | None:
        """None if the request may go on; else the seconds until the window ends (for Retry-After)."""
        limit = self._limits.get(scope)
        if limit is None or limit.requests <= 0 or not subject:
            return None
        now = self._clock.now()
        window = int(now.timestamp()) // limit.window_s
        subject_hash = hashlib.sha256(f"{scope}|{subject}".encode()).hexdigest()[:24]
        counter_id = f"{scope}:{subject_hash}:{window}"
        retry_after = max(1, (window + 1) * limit.window_s - int(now.timestamp()))
        for _ in range(10):
            counter = self._store.get(RATE_COUNTERS, counter_id)
            if counter is not None and counter["count"] >= limit.requests:
                return retry_after
            try:
                if counter is None:
                    expires = now + timedelta(seconds=retry_after)
                    self._store.insert(RATE_COUNTERS, {"_id": counter_id, "count": 1,
                                                       "expires_at": expires.isoformat()})
                else:
                    self._store.replace(RATE_COUNTERS, {**counter, "count": counter["count"] + 1})
                return None
            except Conflict:
                continue  # a concurrent request counted first: read again
        return retry_after  # too contended to count: treat as over the limit

    def sweep(self) -> int:
        """Delete the counters of windows that have ended."""
        expired = self._store.find(RATE_COUNTERS, {"expires_at": {"$lt": self._clock.now().isoformat()}},
                                   limit=1000)
        return sum(self._store.delete(RATE_COUNTERS, c["_id"]) for c in expired)
