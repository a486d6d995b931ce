"""The embedded event log: one SQLite file in WAL mode, shared by every process on the machine.

Records get a global sequence number under SQLite's single write lock, so a reader that has seen
sequence N never later finds a smaller one committed: positions can be plain numbers. Each topic has
one partition (0). Consumer positions live in the same file and are written only on ``commit``.
Only one member of a consumer group reads at a time (an exclusive file lock); a second one waits as a
standby and takes over when the first dies, since the OS releases the lock with the process.
"""
from __future__ import annotations

import base64
import fcntl
import sqlite3
import time
from typing import Iterable, Sequence

from shared import json_codec
from shared.adapters.sqlite_connection import SqliteConnections
from shared.errors import BackendUnavailable
from shared.events.wire import Message, Record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT,
    headers TEXT NOT NULL,
    value BLOB NOT NULL,
    appended_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_topic ON records (topic, seq);
CREATE TABLE IF NOT EXISTS positions (
    grp TEXT NOT NULL, topic TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (grp, topic)
);
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY);
"""


def _encode_headers(headers: Sequence[tuple[str, bytes]]) -> str:
    """Headers as JSON: ``{"u": [[name, text], …]}`` when every value is UTF-8 text (CloudEvents headers
    are), else ``[[name, base64], …]`` — the only form before 2026-11-29, still read. Base64 cost every
    consumer ~1.8 µs a record to undo (ten headers)."""
    try:
        return json_codec.to_text({"u": [[name, value.decode()] for name, value in headers]})
    except UnicodeDecodeError:
        return json_codec.to_text([[name, base64.b64encode(value).decode()] for name, value in headers])


def _decode_headers(text: str) -> tuple[tuple[str, bytes], ...]:
    decoded = json_codec.from_text(text)
    if type(decoded) is dict:
        return tuple((name, value.encode()) for name, value in decoded["u"])
    return tuple((name, base64.b64decode(value)) for name, value in decoded)


class SqliteEventLog:
    def __init__(self, path: str, *, synchronous: str = "FULL", poll_interval_s: float = 0.02):
        self._connections = SqliteConnections(path, synchronous=synchronous)
        self._poll_interval_s = poll_interval_s
        self._schema_ready = False

    @property
    def path(self) -> str:
        return self._connections.path

    def _db(self) -> sqlite3.Connection:
        connection = self._connections.get()
        if not self._schema_ready:
            connection.executescript(_SCHEMA)
            self._schema_ready = True
        return connection

    def ensure_topics(self, topics: Iterable[str]) -> None:
        self._db()
        with self._connections.write() as db:
            db.executemany("INSERT OR IGNORE INTO topics (name) VALUES (?)", [(t,) for t in topics])

    def append(self, topic: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        self._db()
        now = time.time()
        rows = [(topic, m.key, _encode_headers(m.headers), m.value, now) for m in messages]
        try:
            with self._connections.write() as db:
                db.executemany(
                    "INSERT INTO records (topic, key, headers, value, appended_at) VALUES (?,?,?,?,?)", rows)
        except sqlite3.OperationalError as error:
            raise BackendUnavailable(f"event log write failed: {error}") from error

    def subscribe(self, group: str, topics: Sequence[str]) -> "SqliteSubscription":
        return SqliteSubscription(self, group, list(topics), self._poll_interval_s)

    def ping(self) -> None:
        try:
            self._db().execute("SELECT 1").fetchone()
        except sqlite3.Error as error:
            raise BackendUnavailable(str(error)) from error

    def close(self) -> None:
        self._connections.close()

    # used by subscriptions
    def committed(self, group: str, topic: str) -> int:
        row = self._db().execute(
            "SELECT seq FROM positions WHERE grp=? AND topic=?", (group, topic)).fetchone()
        return row[0] if row else 0

    def read_after(self, positions: dict[str, int], limit: int) -> list[Record]:
        """The next records after each topic's position, in log order. One walk of the table in ``seq``
        order from the lowest position, which stops after ``limit`` rows: ``+topic`` keeps SQLite from
        answering the OR with the topic index, which gathers and sorts everything left to read on every
        call (a replay of a long log then costs the square of its length)."""
        clauses = " OR ".join("(+topic=? AND seq>?)" for _ in positions)
        params: list = [value for item in positions.items() for value in item]
        rows = self._db().execute(
            f"SELECT seq, topic, key, headers, value FROM records WHERE seq>? AND ({clauses}) ORDER BY seq LIMIT ?",
            (min(positions.values(), default=0), *params, limit)).fetchall()
        return [Record(topic=t, partition=0, offset=seq,
                       message=Message(key=k, headers=_decode_headers(h), value=bytes(v)))
                for seq, t, k, h, v in rows]

    def store_positions(self, group: str, positions: dict[str, int]) -> None:
        with self._connections.write() as db:
            db.executemany(
                "INSERT INTO positions (grp, topic, seq) VALUES (?,?,?) "
                "ON CONFLICT (grp, topic) DO UPDATE SET seq=excluded.seq WHERE excluded.seq > positions.seq",
                [(group, topic, seq) for topic, seq in positions.items()])

    def unconsumed(self, group: str, topics: Sequence[str]) -> int:
        return sum(self.count_after(topic, self.committed(group, topic)) for topic in topics)

    def count_after(self, topic: str, seq: int) -> int:
        return self._db().execute(
            "SELECT count(*) FROM records WHERE topic=? AND seq>?", (topic, seq)).fetchone()[0]


class SqliteSubscription:
    def __init__(self, log: SqliteEventLog, group: str, topics: list[str], poll_interval_s: float):
        self._log = log
        self._group = group
        self._topics = topics
        self._poll_interval_s = poll_interval_s
        self._lock_file = open(f"{log.path}.{group}.lock", "a+")
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)  # wait here as a standby while another member reads
        self._fetched: dict[str, int] = {}
        self.rewind()

    def rewind(self) -> None:
        self._fetched = {topic: self._log.committed(self._group, topic) for topic in self._topics}

    def poll(self, timeout_s: float, max_records: int) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        while True:
            records = self._log.read_after(self._fetched, max_records)
            if records:
                # every record up to the last one returned has been read, whichever its topic: a quiet
                # topic's position moves on too, so the next walk does not start back at it
                last = records[-1].offset
                self._fetched = {topic: max(seq, last) for topic, seq in self._fetched.items()}
                return records
            if time.monotonic() >= deadline:
                return []
            time.sleep(self._poll_interval_s)

    def commit(self, records: Sequence[Record]) -> None:
        positions: dict[str, int] = {}
        for record in records:
            positions[record.topic] = max(positions.get(record.topic, 0), record.offset)
        if positions:
            self._log.store_positions(self._group, positions)

    def lag(self) -> dict[tuple[str, int], int]:
        return {(topic, 0): self._log.count_after(topic, self._log.committed(self._group, topic))
                for topic in self._topics}

    def close(self) -> None:
        if not self._lock_file.closed:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def __del__(self) -> None:  # release the group lock even if a caller forgot to close
        try:
            self.close()
        except Exception:
            pass


__all__ = ["SqliteEventLog", "SqliteSubscription"]
