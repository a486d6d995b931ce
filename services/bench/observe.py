"""Follows the pipeline's topics through the EventLog port, as one more consumer group would.

Every record is counted (events/s) and kept (the baseline replays the same records); for each case
the first ``NotificationSent`` gives the end of its end-to-end latency. That time is the event's own
``time`` attribute, stamped by the notifier when it reacted (same machine clock as the client's 202);
the time this watcher consumed it is kept too, as a check on the watcher's own lag.

The watcher shares the cores with the system it measures, so it stays cheap: it decodes only the
``NotificationSent`` records (their ``ce_type`` header says which they are), handles a poll's records
under one lock, and after a poll that did not fill up it pauses ``pause_s`` so the next poll carries
more records (on Kafka each poll is a fetch round trip; ~50 a second cost the bench ~1 ms per case)."""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Iterable

from shared.errors import BackendUnavailable, PoisonMessage
from shared.events.contracts import INTAKE_EVENTS, NOTIFIER_EVENTS, ROUTER_EVENTS
from shared.events.wire import Message, Record, decode, event_type
from shared.ports import EventLog

WATCHED_TOPICS = (INTAKE_EVENTS, ROUTER_EVENTS, NOTIFIER_EVENTS)
NOTIFIED = "NotificationSent"
POLL_RECORDS = 1000
POLL_PAUSE_S = 0.05  # adds at most this to when the last notification is seen: far below the runs' spans


@dataclass
class Observed:
    notified_at: dict[str, float] = field(default_factory=dict)  # case id -> NotificationSent's own time
    consumed_at: dict[str, float] = field(default_factory=dict)  # case id -> when the watcher read it
    records: list[Message] = field(default_factory=list)
    records_by_topic: dict[str, int] = field(default_factory=dict)
    last_record_at: float = 0.0


class EventWatcher:
    """Reads the watched topics in a background thread until ``stop`` (or ``wait_for`` succeeds)."""

    def __init__(self, log: EventLog, *, group: str | None = None, pause_s: float = POLL_PAUSE_S):
        self._log = log
        self._group = group or f"bench-{uuid.uuid4().hex[:8]}"
        self._pause_s = pause_s
        self._observed = Observed()
        self._notified_order: list[str] = []  # case ids in the order their first notification was read
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._follow, name="bench-watcher", daemon=True)
        self._subscription = None

    def start(self) -> "EventWatcher":
        self._subscription = self._log.subscribe(self._group, WATCHED_TOPICS)
        self._thread.start()
        return self

    def notified_count(self, case_ids: Iterable[str]) -> int:
        with self._changed:
            return sum(1 for case in case_ids if case in self._observed.notified_at)

    def wait_for(self, case_ids: Iterable[str], timeout_s: float) -> bool:
        """True once every case in ``case_ids`` has its notification, False after ``timeout_s``. Woken by
        the watcher when notifications arrive; each wake-up looks only at the ones new since the last."""
        missing = set(case_ids)
        deadline = time.monotonic() + timeout_s
        with self._changed:
            missing.difference_update(self._observed.notified_at)
            seen = len(self._notified_order)
            while missing:
                if self._error:
                    raise RuntimeError(f"the event watcher failed: {self._error}") from self._error
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 1.0))
                missing.difference_update(self._notified_order[seen:])
                seen = len(self._notified_order)
        return True

    def stop(self) -> Observed:
        self._stop.set()
        self._thread.join(timeout=30)
        return self._observed

    def _follow(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    records = self._subscription.poll(0.2, POLL_RECORDS)
                except BackendUnavailable:
                    time.sleep(0.5)
                    continue
                self._observe(records, time.time())
                if len(records) < POLL_RECORDS:
                    self._stop.wait(self._pause_s)
        except BaseException as error:  # surfaced to the waiting thread
            self._error = error
            with self._changed:
                self._changed.notify_all()
        finally:
            self._subscription.close()

    def _observe(self, records: list[Record], now: float) -> None:
        if not records:
            return
        notifications = [envelope for envelope in map(_notification, records) if envelope is not None]
        counts: dict[str, int] = {}
        for record in records:
            counts[record.topic] = counts.get(record.topic, 0) + 1
        with self._changed:
            observed = self._observed
            observed.records.extend(record.message for record in records)
            for topic, count in counts.items():
                observed.records_by_topic[topic] = observed.records_by_topic.get(topic, 0) + count
            observed.last_record_at = now
            for envelope in notifications:
                if envelope.subject not in observed.notified_at:
                    observed.notified_at[envelope.subject] = envelope.time.timestamp()
                    observed.consumed_at[envelope.subject] = now
                    self._notified_order.append(envelope.subject)
            if notifications:
                self._changed.notify_all()


def _notification(record: Record):
    """The envelope of a ``NotificationSent`` record, None for any other: the type is read from the
    ``ce_type`` header, and only these records are decoded."""
    if record.topic != NOTIFIER_EVENTS or event_type(record.message) != NOTIFIED:
        return None
    try:
        return decode(record.message)
    except PoisonMessage:
        return None


def service_consumers() -> dict[str, tuple[str, ...]]:
    """Each service worker's consumer group and the topics it reads (as its bootstrap wires them)."""
    from services.intake import bootstrap as intake
    from services.notifier import bootstrap as notifier
    from services.router import bootstrap as router
    from services.tracker import bootstrap as tracker
    return {module.SERVICE: tuple(module.CONSUMED_TOPICS) for module in (intake, router, tracker, notifier)}


def wait_until_consumed(log: EventLog, consumers: dict[str, tuple[str, ...]], timeout_s: float,
                        interval_s: float = 0.1) -> float | None:
    """The wall time at which every group had consumed everything on its topics (None: not within
    ``timeout_s``). A consumer off the notification's path — the tracker — may still be working when the
    last case is notified; a rate that ignored it would reward falling behind.

    A pass stops at the first group with records left, and that group is asked first next time: while
    one consumer is behind, a pass is one question (on Kafka each costs ~2 ms of the bench's CPU)."""
    deadline, quiet_since = time.monotonic() + timeout_s, None
    groups = list(consumers.items())
    while True:
        try:  # two quiet passes in a row: a group checked early may get records from one checked after it
            checked_at = time.time()
            behind = next((n for n, (group, topics) in enumerate(groups) if log.unconsumed(group, topics)), None)
            if behind is not None:
                groups.insert(0, groups.pop(behind))
                quiet_since = None
            elif quiet_since is None:
                quiet_since = checked_at
            else:
                return quiet_since
        except BackendUnavailable:
            quiet_since = None
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval_s)
