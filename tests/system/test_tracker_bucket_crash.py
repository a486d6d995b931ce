"""A crash between a bucket pass's bucket writes and its case writes, on both backends: neither lost nor
counted twice. The store adapter is made to store only the first writes of the pass — in the order a
MongoDB bulk per collection stores them: every bucket, then every case — and then to fail, like a worker
killed part-way; the restarted worker's passes must give the indicators of a run that never crashed."""
from __future__ import annotations

from datetime import date

import pytest

from shared.adapters.sqlite_store import SqliteStore
from shared.backends import build_store
from shared.deadline_rules import load_deadline_rules
from shared.errors import BackendUnavailable
from shared.unit_of_work import BatchingStore, in_one_batch
from shared.working_time import WorkingCalendar
from services.tracker import handlers, queries
from services.tracker.sla import SlaPolicy
from tests.store_faults import FailingBatchWrites
from tests.unit.test_tracker_indicators import History

# FerretDB v1 scans a collection on each lookup (docs/tracker.md): fewer cases there. On the embedded
# backend a pass takes more than APPLIED_WINDOW changes into one bucket (three per case), so the test
# fails if a bucket remembers changes instead of cases.
CASES = {"embedded": handlers.BUCKET_PASS_CASES, "kafka": 30}


def stories(n: int) -> list:
    """Cases reported, assigned, acknowledged and resolved before the worker's pass: three changes each
    to the same buckets."""
    return [History(f"K{i:04d}").reported().assigned(0, assignment_id=f"k{i}", ack_due=1, resolve_due=24)
            .did("CaseAcknowledged", 0.5).did("CaseResolved", 2, result="ok") for i in range(n)]


def project(store, histories) -> None:
    policy = SlaPolicy(WorkingCalendar(), load_deadline_rules())
    events = [event for history in histories for event in history.events]
    in_one_batch(store, lambda: [handlers.project_case(event, store, policy) for event in events])


def indicators(store) -> dict:
    return queries.summary(store, "*", date(2026, 11, 1), date(2026, 11, 3))["indicators"]


def run_passes(store) -> None:
    while in_one_batch(store, lambda: handlers.add_pending_to_buckets(store, batch=handlers.BUCKET_PASS_CASES)):
        pass


@pytest.mark.parametrize("survivors", ["half the buckets", "every bucket", "every bucket and half the cases"])
def test_a_crash_between_the_bucket_and_case_writes_neither_loses_nor_doubles(backend_settings, tmp_path,
                                                                                survivors):
    n = CASES[backend_settings.backend]
    reference = SqliteStore(str(tmp_path / "reference.sqlite"), synchronous="OFF")
    handlers.prepare_store(reference)
    project(reference, stories(n))
    run_passes(reference)
    expected = indicators(reference)
    assert expected["received"] == n and expected["on_time_rate"] == 1.0

    store = build_store(backend_settings)
    try:
        handlers.prepare_store(store)
        project(store, stories(n))
        pending = store.find(handlers.CASES, {"has_pending": True})
        keys = {key for case in pending for change in case["pending"] for key in change["deltas"]}
        survive = {"half the buckets": len(keys) // 2, "every bucket": len(keys),
                   "every bucket and half the cases": len(keys) + n // 2}[survivors]
        adapter = FailingBatchWrites(store.inner, survive=survive)
        crashing = BatchingStore(adapter)
        with pytest.raises(BackendUnavailable):
            in_one_batch(crashing, lambda: handlers.add_pending_to_buckets(crashing, batch=handlers.BUCKET_PASS_CASES))
        assert adapter.collections == [handlers.BUCKETS, handlers.CASES]  # buckets before the cases they clear
        assert store.count(handlers.CASES, {"has_pending": True}) == (n - n // 2 if "cases" in survivors else n)

        run_passes(store)  # the restarted worker

        assert indicators(store) == expected
        assert store.count(handlers.CASES, {"has_pending": True}) == 0
    finally:
        store.close()
