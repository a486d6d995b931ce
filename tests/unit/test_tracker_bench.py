"""A tiny run of ``griddesk bench tracker``'s own code on the embedded backend: every loaded event is
replayed (none fails its contract) and every dashboard query is timed. No timing is asserted."""
from __future__ import annotations

from shared.config import BackendSettings
from services.tracker import bootstrap, handlers
from services.tracker.bench import run_bench
from services.tracker.settings import TrackerSettings


def test_forty_cases_are_loaded_replayed_and_queried(tmp_path):
    tracker = bootstrap.build(TrackerSettings(backend=BackendSettings(
        backend="embedded", data_dir=str(tmp_path / "data"), sqlite_synchronous="OFF")))
    bootstrap.prepare(tracker)
    lines: list[str] = []
    result = run_bench(tracker, 40, 2, lines.append, batch_size=100)
    assert tracker.store.count(handlers.CASES) == 40 and result["events"] > 40 * 3
    assert result["events_per_s"] > 0
    assert set(result["queries"]) >= {"district indicators", "hot spots (growth of 24 grids)"}
    assert any(line.startswith("machine: ") and "load average" in line for line in lines)
    assert any(line.startswith(f"replayed {result['events']} events") for line in lines)
    tracker.log.close()
    tracker.store.close()
