"""Follows the pipeline's topics through the EventLog port, as one more consumer group would.

Every record is counted (events/s) and kept (the baseline replays the same records); for each case
the first ``NotificationSent`` gives the end of its end-to-end latency. That time is the event's own
``time`` attribute, stamped by the notifier when it reacted (same machine clock as the client's 202);
the time this watcher consumed it is kept too, as a check on the watcher's own lag."""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from shared.errors import BackendUnavailable, PoisonMessage
from shared.events.contracts import INTAKE_EVENTS, NOTIFIER_EVENTS, ROUTER_EVENTS
from shared.events.wire import Message, decode
from shared.ports import EventLog

WATCHED_TOPICS = (INTAKE_EVENTS, ROUTER_EVENTS, NOTIFIER_EVENTS)
NOTIFIED = "NotificationSent"


@dataclass
class Observed:
    notified_at: dict[str, float] = field(default_factory=dict)  # case id -> NotificationSent's own time
    consumed_at: dict[str, float] = field(default_factory=dict)  # case id -> when the watcher read it
    records: list[Message] = field(default_factory=list)
    records_by_topic: dict[str, int] = field(default_factory=dict)
    last_record_at: float = 0.0


class EventWatcher:
    """Reads the watched topics in a background thread until ``stop`` (or ``wait_for`` succeeds)."""

    def __init__(self, log: EventLog, *, group: str | None = None):
        self._log = log
        self._group = group or f"bench-{uuid.uuid4().hex[:8]}"
        self._observed = Observed()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._follow, name="bench-watcher", daemon=True)
        self._subscription = None

    def start(self) -> "EventWatcher":
        self._subscription = self._log.subscribe(self._group, WATCHED_TOPICS)
        self._thread.start()
        return self

    def notified_count(self, case_ids) -> int:
        with self._lock:
            return sum(1 for case in case_ids if case in self._observed.notified_at)

    def wait_for(self, case_ids, timeout_s: float) -> bool:
        """True once every case in ``case_ids`` has its notification, False after ``timeout_s``."""
        wanted = set(case_ids)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._error:
                raise RuntimeError(f"the event watcher failed: {self._error}") from self._error
            if self.notified_count(wanted) == len(wanted):
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> Observed:
        self._stop.set()
        self._thread.join(timeout=30)
        return self._observed

    def _follow(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    records = self._subscription.poll(0.2, 500)
                except BackendUnavailable:
                    time.sleep(0.5)
                    continue
                now = time.time()
                for record in records:
                    self._observe(record.topic, record.message, now)
        except BaseException as error:  # surfaced to the waiting thread
            self._error = error
        finally:
            self._subscription.close()

    def _observe(self, topic: str, message: Message, now: float) -> None:
        envelope = None
        if topic == NOTIFIER_EVENTS:  # only notifications are decoded: the watcher must stay cheap
            try:
                envelope = decode(message)
            except PoisonMessage:
                pass
        with self._lock:
            observed = self._observed
            observed.records.append(message)
            observed.records_by_topic[topic] = observed.records_by_topic.get(topic, 0) + 1
            observed.last_record_at = now
            if envelope is not None and envelope.type == NOTIFIED and envelope.subject not in observed.notified_at:
                observed.notified_at[envelope.subject] = envelope.time.timestamp()
                observed.consumed_at[envelope.subject] = now


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
    last case is notified; a rate that ignored it would reward falling behind."""
    deadline, quiet_since = time.monotonic() + timeout_s, None
    while True:
        try:  # two quiet passes in a row: a group checked early may get records from one checked after it
            checked_at = time.time()
            if not all(log.unconsumed(group, topics) == 0 for group, topics in consumers.items()):
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
