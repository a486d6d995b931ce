"""SQLite connections for several processes on one machine: WAL journal, a generous busy timeout,
one connection per thread, and a configurable fsync level (FULL by default: an acknowledged write
survives a power cut, not only a crash)."""
from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Iterator

from shared.errors import BackendUnavailable


class SqliteConnections:
    def __init__(self, path: str, *, synchronous: str = "FULL", busy_timeout_s: float = 30.0):
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"unknown SQLite synchronous level {synchronous!r}")
        self.path = path
        self._synchronous = synchronous.upper()
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._pid = os.getpid()

    def get(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or self._pid != os.getpid():
            self._pid = os.getpid()  # never reuse a connection inherited across fork
            connection = self._open()
            self._local.connection = connection
        return connection

    def _open(self) -> sqlite3.Connection:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
            connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_s * 1000)}")
            return connection
        except sqlite3.Error as error:
            raise BackendUnavailable(f"cannot open {self.path}: {error}") from error

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front, so concurrent writers queue
        instead of failing half-way."""
        connection = self.get()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        else:
            connection.execute("COMMIT")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
