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
    progress = [line for line in lines if line.startswith("  replayed ")]
    assert progress and all(" events/s, load average " in line for line in progress)
    tracker.log.close()
    tracker.store.close()


def test_griddesk_replay_writes_progress_lines_when_its_output_is_not_a_terminal(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from services.cli import main
    from services.tracker import replay
    from services.tracker.bench import load_events

    monkeypatch.setenv("GRIDDESK_BACKEND", "embedded")
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(tmp_path / "data"))
    tracker = bootstrap.build()
    bootstrap.prepare(tracker)
    events = load_events(tracker, 30, lambda line: None)
    tracker.log.close()
    tracker.store.close()
    real = replay.progress_lines
    monkeypatch.setattr(replay, "progress_lines", lambda say, every, **kw: real(say, every=50, **kw))
    result = CliRunner().invoke(main, ["replay", "--yes"])
    assert result.exit_code == 0, result.output
    progress = [line for line in result.output.splitlines() if line.startswith("  replayed ")]
    assert progress and all(" of " in line and "events/s" in line for line in progress)
    assert f"projected {events} events (0 undecodable skipped)" in result.output
