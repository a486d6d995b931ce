"""Marking stored reports as published, a few at a time, off the request's path.

A report request stores the report (durably: that is the 202's promise), publishes CaseReported, and
hands the stored document here instead of writing ``published: True`` itself — one durable write per
report less. A thread of the HTTP worker marks what accumulated every ``interval_s``, in one batch
(one SQLite transaction, one MongoDB bulk). If a mark is lost (the process dies first, or the store is
down), the outbox relay finds the report unpublished after its grace period and publishes it again:
the event id is the same, so consumers drop the repeat. The interval must stay well below the relay's
grace (``GRIDDESK_INTAKE_RELAY_GRACE_S``, 2 s) for that to stay rare."""
from __future__ import annotations

import atexit
import logging
import os
import threading

from shared.errors import BackendUnavailable
from shared.ports import DocumentStore
from shared.unit_of_work import replace_all

log = logging.getLogger(__name__)


class PublishedMarks:
    def __init__(self, store: DocumentStore, collection: str, *, interval_s: float = 0.2):
        self._store = store
        self._collection = collection
        self._interval_s = interval_s
        self._pending: list[dict] = []
        self._lock = threading.Lock()
        self._thread_pid: int | None = None  # the thread is started after the fork, in the process using it

    def add(self, stored: dict) -> None:
        """Mark this stored report (as ``store.insert`` returned it) published, soon."""
        with self._lock:
            self._pending.append(stored)
            if self._thread_pid != os.getpid():
                self._thread_pid = os.getpid()
                threading.Thread(target=self._run, name="intake-published-marks", daemon=True).start()
                atexit.register(self.flush)

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self._interval_s):
            try:
                self.flush()
            except Exception:  # a bug must not end the thread: the relay covers what it missed
                log.exception("marking reports published failed")

    def flush(self) -> int:
        """Mark every pending report now; the number marked."""
        with self._lock:
            documents, self._pending = self._pending, []
        if not documents:
            return 0
        try:  # if the relay marked one meanwhile, the others are marked one by one
            return len(replace_all(self._store, self._collection, [{**d, "published": True} for d in documents]))
        except BackendUnavailable as error:
            log.warning("%d reports not marked published (the relay will publish them again): %s",
                        len(documents), error)
            return 0
