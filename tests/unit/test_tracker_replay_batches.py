"""The replay's batches on the embedded backend: each batch of events is stored in one ``write_batch``,
the batch size does not change what is rebuilt, the progress adds up to the log, and a replay that finds
the projections changed under it stops instead of carrying on."""
from __future__ import annotations

import itertools

import pytest

from shared.config import BackendSettings
from shared.org.demo import demo_registry
from shared.org.registry import flatten
from shared.publisher import EventPublisher
from services.tracker import bootstrap, handlers, synthetic
from services.tracker.replay import rebuild
from services.tracker.settings import TrackerSettings


class WatchedStore:
    """The real store, with its batch writes counted; ``before_batch`` runs before each one."""

    def __init__(self, store, before_batch=lambda writes: None):
        self._store, self._before_batch, self.batches = store, before_batch, []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def write_batch(self, writes):
        self._before_batch(writes)
        self.batches.append(len(writes))
        self._store.write_batch(writes)


def tracker_with_events(tmp_path, cases: int, **store_options):
    settings = TrackerSettings(backend=BackendSettings(
        backend="embedded", data_dir=str(tmp_path / "data"), sqlite_synchronous="OFF"))
    plain = bootstrap.build(settings)
    tracker = bootstrap.build(settings, store=WatchedStore(plain.store, **store_options), log=plain.log)
    bootstrap.prepare(tracker)
    chains = [u["chain"] for u in flatten(demo_registry()) if u["level"] == "unit"]
    events = list(itertools.chain.from_iterable(synthetic.histories(cases, chains)))
    EventPublisher(tracker.log, "test").publish(events)
    return tracker, len(events)


def projections(tracker) -> tuple[dict, dict]:
    cases = {c["_id"]: {k: v for k, v in c.items() if k != "_v"} for c in tracker.store.find(handlers.CASES)}
    buckets = {b["_id"]: (b["counts"], b["minutes"]) for b in tracker.store.find(handlers.BUCKETS)
               if b["counts"] or b["minutes"]}
    return cases, buckets


def test_each_batch_is_one_write_and_the_batch_size_changes_nothing(tmp_path):
    tracker, events = tracker_with_events(tmp_path, 30)
    steps: list[tuple[int, int]] = []

    result = rebuild(tracker, lambda step, total: steps.append((step, total)), batch_size=25)

    assert result == {"projected": events, "skipped": 0}
    assert len(tracker.store.batches) == len(steps) == -(-events // 25)  # one write per batch of 25 events
    assert sum(step for step, _ in steps) == events and steps[-1][1] == events
    small_batches = projections(tracker)
    assert len(small_batches[0]) == 30 and small_batches[1]

    rebuild(tracker, batch_size=10_000)

    assert tracker.store.batches[len(steps):] == [tracker.store.batches[-1]]  # everything in one write
    assert projections(tracker) == small_batches
    tracker.log.close()
    tracker.store.close()


def test_a_replay_whose_projections_change_under_it_stops(tmp_path):
    def meanwhile(writes):  # the tracker's worker, left running, writes one of the cases first
        case = next((w for w in writes if w.kind == "replace" and w.collection == handlers.CASES), None)
        if case is not None:
            tracker.store.replace(handlers.CASES, tracker.store.get(handlers.CASES, case.id))

    tracker, _ = tracker_with_events(tmp_path, 10, before_batch=meanwhile)

    with pytest.raises(RuntimeError, match="changed while they were rebuilt"):
        rebuild(tracker, batch_size=20)
    tracker.log.close()
    tracker.store.close()
