"""``griddesk bench tracker``: load synthetic cases' events into the log, replay them into the
projections (events/s), then time the dashboard's indicator queries (p50/p95)."""
from __future__ import annotations

import itertools
import statistics
import time
from datetime import date
from typing import Callable

from shared.org.demo import demo_registry
from shared.org.registry import flatten, import_registry
from shared.publisher import EventPublisher
from services.tracker import queries, synthetic
from services.tracker.bootstrap import Tracker
from services.tracker.replay import rebuild

Say = Callable[[str], None]
PERIOD = (date(2026, 10, 1), date(2026, 11, 29))


def load_events(tracker: Tracker, cases: int, say: Say, *, chunk: int = 5000) -> int:
    registry = demo_registry()
    import_registry(tracker.store, registry)
    chains = [u["chain"] for u in flatten(registry) if u["level"] == "unit"]
    publisher = EventPublisher(tracker.log, "bench")
    total = 0
    histories = synthetic.histories(cases, chains, prefix="GD-B")
    while True:
        batch = list(itertools.chain.from_iterable(itertools.islice(histories, chunk)))
        if not batch:
            return total
        publisher.publish(batch)
        total += len(batch)
        say(f"  loaded {total} events")


def time_queries(tracker: Tracker, repeat: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 in milliseconds of each query the dashboard's overview makes."""
    start, end = PERIOD
    store = tracker.store
    streets = [u["code"] for u in flatten(demo_registry()) if u["level"] == "street"]
    communities = [u["code"] for u in flatten(demo_registry()) if u["level"] == "community"]
    probes = {
        "district indicators": lambda: queries.summary(store, "*", start, end),
        "street indicators": lambda: queries.summary(store, streets[0], start, end, level="street"),
        "community breakdown (grids)": lambda: [queries.summary(store, c, start, end, level="community")
                                               for c in communities],
        "daily series (district)": lambda: queries.series(store, "*", start, end, "day"),
    }
    result = {}
    for name, probe in probes.items():
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            probe()
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        result[name] = (statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)])
    return result


def run_bench(tracker: Tracker, cases: int, repeat: int, say: Say) -> dict:
    say(f"loading {cases} cases' events …")
    events = load_events(tracker, cases, say)
    started = time.perf_counter()
    result = rebuild(tracker)
    seconds = time.perf_counter() - started
    say(f"replayed {result['projected']} events in {seconds:.1f}s: {result['projected'] / seconds:.0f} events/s")
    timings = time_queries(tracker, repeat)
    for name, (p50, p95) in timings.items():
        say(f"  {name:<30} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms")
    return {"events": events, "replay_s": seconds, "events_per_s": result["projected"] / seconds, "queries": timings}
