"""``griddesk bench tracker``: load synthetic cases' events into the log, replay them into the
projections (events/s), then time the dashboard's indicator queries (p50/p95)."""
from __future__ import annotations

import itertools
import os
import statistics
import time
from collections import defaultdict
from datetime import date
from typing import Callable, Iterable

from shared.events.contracts import topic_of
from shared.events.envelope import Envelope
from shared.events.wire import encode
from shared.org.demo import demo_registry
from shared.org.registry import flatten, import_registry
from shared.ports import EventLog
from services.tracker import indicators, queries, synthetic
from services.tracker.bootstrap import Tracker
from services.tracker.replay import progress_lines, rebuild

Say = Callable[[str], None]
PERIOD = (date(2026, 10, 1), date(2026, 11, 29))


def load_events(tracker: Tracker, cases: int, say: Say, *, chunk: int = 5000) -> int:
    """Append the cases' events, ``chunk`` cases per append. They are not checked against their contracts
    here (that was half the loading time): the replay checks every event it reads, and the benchmark
    fails if it had to skip any."""
    registry = demo_registry()
    import_registry(tracker.store, registry)
    chains = [u["chain"] for u in flatten(registry) if u["level"] == "unit"]
    total, started = 0, time.perf_counter()
    histories = synthetic.histories(cases, chains, prefix="GD-B")
    while True:
        batch = list(itertools.chain.from_iterable(itertools.islice(histories, chunk)))
        if not batch:
            return total
        _append(tracker.log, batch)
        total += len(batch)
        say(f"  loaded {total} events ({total / (time.perf_counter() - started):.0f} events/s)")


def _append(log: EventLog, events: Iterable[Envelope]) -> None:
    by_topic: dict[str, list] = defaultdict(list)
    for event in events:
        by_topic[topic_of(event.type)].append(encode(event))
    for topic, messages in by_topic.items():
        log.append(topic, messages)


def time_queries(tracker: Tracker, repeat: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 in milliseconds of each query the dashboard's overview makes."""
    start, end = PERIOD
    store = tracker.store
    units = list(flatten(demo_registry()))
    streets = [u["code"] for u in units if u["level"] == "street"]
    communities = [u["code"] for u in units if u["level"] == "community"]
    grids = [u for u in units if u["level"] == "grid"]
    probes = {
        "district indicators": lambda: queries.summary(store, "*", start, end),
        "street indicators": lambda: queries.summary(store, streets[0], start, end, level="street"),
        "community breakdown (grids)": lambda: [queries.summary(store, c, start, end, level="community")
                                               for c in communities],
        "daily series (district)": lambda: queries.series(store, "*", start, end, "day"),
        "hot spots (growth of 24 grids)": lambda: queries.growing_categories(store, grids, start, end,
                                                                             indicators.GROWTH_MIN_COUNT),
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


def run_bench(tracker: Tracker, cases: int, repeat: int, say: Say, *, batch_size: int = 5000) -> dict:
    say(f"machine: {os.cpu_count()} CPUs, load average {_load()}")
    say(f"loading {cases} cases' events …")
    started = time.perf_counter()
    events = load_events(tracker, cases, say)
    load_s = time.perf_counter() - started
    say(f"loaded {events} events in {load_s:.1f}s: {events / load_s:.0f} events/s; load average {_load()}")
    started = time.perf_counter()
    result = rebuild(tracker, progress_lines(say, every=max(batch_size, events // 20), load=_load),
                     batch_size=batch_size)
    seconds = time.perf_counter() - started
    if result["skipped"] or result["projected"] != events:
        raise RuntimeError(f"the replay projected {result['projected']} of {events} events "
                           f"({result['skipped']} failed their contract)")
    say(f"replayed {result['projected']} events in {seconds:.1f}s: {result['projected'] / seconds:.0f} events/s "
        f"(batches of {batch_size}); load average {_load()}")
    timings = time_queries(tracker, repeat)
    for name, (p50, p95) in timings.items():
        say(f"  {name:<32} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms")
    say(f"load average {_load()}")
    return {"events": events, "load_s": load_s, "replay_s": seconds, "events_per_s": result["projected"] / seconds,
            "queries": timings}


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())
