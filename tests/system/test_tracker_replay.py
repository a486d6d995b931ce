"""Replay equals live, on both backends: hundreds of cases' events are published on the real log, the
tracker's consume loop projects them live (events arrive per topic, so out of order across services),
then ``rebuild`` wipes the projections and re-reads every topic from the start."""
from __future__ import annotations

import itertools
from datetime import date

from shared.events.envelope import Envelope
from shared.org.demo import demo_registry
from shared.org.registry import flatten
from shared.publisher import EventPublisher
from services.tracker import bootstrap, handlers, queries, synthetic
from services.tracker.replay import rebuild
from services.tracker.settings import TrackerSettings

CASES = {"embedded": 300, "kafka": 50}  # FerretDB v1 scans a collection on each _id lookup (docs/tracker.md)


def chains() -> list[dict]:
    return [u["chain"] for u in flatten(demo_registry()) if u["level"] == "unit"]


def snapshot(tracker) -> tuple[dict, dict]:
    store = tracker.store
    # a bucket a case passed through (e.g. "no category yet") stays behind empty when its changes come
    # one by one; the replay sums a batch's changes first and may never create it: both count nothing
    buckets = {b["_id"]: (b.get("counts"), b.get("minutes")) for b in store.find(handlers.BUCKETS)
               if b.get("counts") or b.get("minutes")}
    cases = {c["_id"]: (c["state"], c["breaches_open_count"], len(c["timeline"]), c["owner"], c["has_pending"])
             for c in store.find(handlers.CASES)}
    return buckets, cases


def test_rebuilt_projections_equal_the_live_ones(backend_settings):
    cases = CASES[backend_settings.backend]
    tracker = bootstrap.build(TrackerSettings(backend=backend_settings))
    bootstrap.prepare(tracker)
    events: list[Envelope] = list(itertools.chain.from_iterable(synthetic.histories(cases, chains())))
    EventPublisher(tracker.log, "test").publish(events)
    loop = tracker.consume_loop()
    for _ in range(20):  # a Kafka group needs a moment to get its partitions
        loop.run(max_idle_polls=4)
        if tracker.store.count(handlers.CASES) == cases and sum(
                len(c["event_ids"]) for c in tracker.store.find(handlers.CASES)) == len(events):
            break
    while handlers.add_pending_to_buckets(tracker.store):  # what the worker's bucket passes do
        pass
    live_buckets, live_cases = snapshot(tracker)
    assert len(live_cases) == cases
    live_indicators = queries.summary(tracker.store, "*", date(2026, 10, 1), date(2026, 12, 31))["indicators"]
    assert live_indicators["received"] == cases and live_indicators["breaches_open"] > 0

    result = rebuild(tracker)

    assert result == {"projected": len(events), "skipped": 0}
    assert snapshot(tracker) == (live_buckets, live_cases)
    assert queries.summary(tracker.store, "*", date(2026, 10, 1), date(2026, 12, 31))["indicators"] == live_indicators
    tracker.log.close()
    tracker.store.close()
