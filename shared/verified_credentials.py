"""Credentials verified a moment ago, kept in the process for a few seconds so that a busy client's
requests do not each cost a store read (a FerretDB round trip in production).

Only valid credentials are kept; a key issued a moment ago is read from the store at its first use.
The price: a credential revoked by another process (``griddesk credentials revoke``) is still accepted
by a service for up to ``TTL_S`` seconds — a revocation in the same process takes effect at once."""
from __future__ import annotations

import threading
import time

from cachetools import TTLCache

TTL_S = 5.0
MAX_ENTRIES = 10_000  # credentials are few; the bound only keeps a flood of distinct keys from growing it


class VerifiedCredentials:
    """A ``cachetools.TTLCache`` keyed by (store, secret digest), shared by a process's request threads."""

    def __init__(self, ttl_s: float = TTL_S, clock=time.monotonic):
        self._entries: TTLCache = TTLCache(maxsize=MAX_ENTRIES, ttl=ttl_s, timer=clock)
        self._lock = threading.Lock()

    def get(self, store: object, secret_digest: str) -> dict | None:
        """The credential verified less than ``ttl_s`` ago in ``store``, or None."""
        with self._lock:
            return self._entries.get((id(store), secret_digest))

    def keep(self, store: object, secret_digest: str, document: dict) -> None:
        with self._lock:
            self._entries[(id(store), secret_digest)] = document

    def forget(self, secret_digest: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[1] == secret_digest]:
                self._entries.pop(key, None)
