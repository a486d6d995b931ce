"""The worker's bucket passes, run by the consume loop between two polls: due at start (a pass a crash
interrupted is finished before anything else is written), then every ``bucket_interval_s``, and at once
again while a pass was full, so a backlog drains."""
from __future__ import annotations

from dataclasses import replace

import pytest

from shared.config import BackendSettings
from shared.errors import BackendUnavailable
from shared.events.envelope import Envelope
from shared.publisher import EventPublisher
from shared.unit_of_work import BatchingStore
from services.tracker import bootstrap, handlers
from services.tracker.settings import TrackerSettings
from services.tracker.worker import PASS_ATTEMPTS, BucketPasses, update_buckets
from tests.store_faults import FailingBatchWrites
from tests.unit.test_tracker_indicators import History


def build(tmp_path, interval_s: float = 3.0):
    settings = TrackerSettings(backend=BackendSettings(backend="embedded", data_dir=str(tmp_path / "data"),
                                                       sqlite_synchronous="NORMAL"), bucket_interval_s=interval_s)
    tracker = bootstrap.build(settings)
    bootstrap.prepare(tracker)
    return tracker


def reported(case_id: str) -> list[Envelope]:
    return History(case_id).reported().events


def pending(tracker) -> int:
    return tracker.store.count(handlers.CASES, {"has_pending": True})


def test_a_pass_is_due_at_start_then_every_interval(tmp_path):
    tracker, now = build(tmp_path), [100.0]
    passes = BucketPasses(tracker, clock=lambda: now[0])
    handlers.project_case(reported("A")[0], tracker.store, tracker.policy)
    passes()
    assert pending(tracker) == 0
    handlers.project_case(reported("B")[0], tracker.store, tracker.policy)
    now[0] += 2.9
    passes()
    assert pending(tracker) == 1
    now[0] += 0.2
    passes()
    assert pending(tracker) == 0


def test_a_full_pass_is_followed_by_another_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(handlers, "BUCKET_PASS_CASES", 2)
    tracker, now = build(tmp_path), [100.0]
    passes = BucketPasses(tracker, clock=lambda: now[0])
    for case_id in ("A", "B", "C"):
        handlers.project_case(reported(case_id)[0], tracker.store, tracker.policy)
    passes()
    assert pending(tracker) == 1
    passes()  # no time passed
    assert pending(tracker) == 0


def test_the_consume_loop_keeps_the_buckets_current_without_a_timer_thread(tmp_path):
    tracker = build(tmp_path, interval_s=0.0)
    events = [event for case_id in ("A", "B") for event in reported(case_id)]
    EventPublisher(tracker.log, "test").publish([replace(e, source="/griddesk/intake") for e in events])
    tracker.consume_loop(between_polls=BucketPasses(tracker)).run(max_idle_polls=2)
    assert pending(tracker) == 0
    buckets = tracker.store.find(handlers.BUCKETS)
    assert sum(b["counts"].get("received", 0) for b in buckets if b["scope"] == "*") == 2


def test_a_pass_waits_for_the_backend_holding_the_loop_then_stops_the_worker(tmp_path):
    tracker = build(tmp_path)
    handlers.project_case(reported("A")[0], tracker.store, tracker.policy)
    flaky = FailingBatchWrites(tracker.store.inner, failures=2)
    tracker.store = BatchingStore(flaky)
    pauses = []
    assert update_buckets(tracker, sleep=pauses.append) == 1 and pauses == [0.5, 1.0]
    assert pending(tracker) == 0
    handlers.project_case(reported("B")[0], tracker.store, tracker.policy)
    flaky.failures = PASS_ATTEMPTS
    with pytest.raises(BackendUnavailable):
        update_buckets(tracker, sleep=pauses.append)
    assert pending(tracker) == 1
