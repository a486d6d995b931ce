"""``griddesk route --replay`` on the embedded backend: the verdicts under other rules, nothing written."""
from __future__ import annotations

from datetime import datetime, timezone

import yaml
from click.testing import CliRunner

from shared.backends import build_event_log, build_store
from shared.config import BackendSettings
from shared.events.contracts import ROUTER_EVENTS
from shared.events.envelope import Envelope
from shared.org.demo import demo_registry
from shared.org.registry import flatten, import_registry
from shared.publisher import EventPublisher
from services.cli import main
from services.router.bootstrap import build, prepare
from services.router.routing_rules import default_path
from services.router.settings import RouterSettings

UNIT = next(u for u in flatten(demo_registry()) if u["level"] == "unit" and "unit_steward" in u["people"])


def test_replay_shows_what_new_rules_would_change_and_changes_nothing(tmp_path, monkeypatch):
    backend = BackendSettings(backend="embedded", data_dir=str(tmp_path), sqlite_synchronous="OFF")
    store, log = build_store(backend), build_event_log(backend)
    import_registry(store, demo_registry())
    router = build(RouterSettings(backend=backend), store=store, log=log)
    prepare(router)
    now = datetime.now(timezone.utc)
    EventPublisher(log, "intake").publish([Envelope("CaseReported", "/griddesk/intake", f"r{n}", {
        "case_id": f"r{n}", "channel": "hotline", "text": text, "reporter": {}, "location": {"unit_code": UNIT["code"]},
        "reported_at": now.isoformat()}, time=now) for n, text in enumerate(["楼道灯坏了", "楼上装修噪音太大"])])
    router.consume_loop().run(max_idle_polls=2)
    published = len(log.subscribe("count-before", [ROUTER_EVENTS]).poll(0.1, 1000))
    rules = yaml.safe_load(open(default_path(), encoding="utf-8"))
    rules["departments"]["dispute"] = {"default": "police"}  # try: noise disputes also go to the police
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("GRIDDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRIDDESK_BACKEND", "embedded")
    result = CliRunner().invoke(main, ["route", "--replay", "--config", str(new), "--days", "1", "--all"])
    assert result.exit_code == 0, result.output
    assert "2 reports in the last 1 days; 1 would be routed differently" in result.output
    changed = next(line for line in result.output.splitlines() if line.startswith("* r1"))
    before, after = changed.split("=>")
    assert "coordination -> grid" in before and "police" not in before and "coordination -> grid + police" in after
    assert len(log.subscribe("count-after", [ROUTER_EVENTS]).poll(0.1, 1000)) == published


def test_replay_refuses_a_bad_rules_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 7\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["route", "--replay", "--config", str(bad)])
    assert result.exit_code != 0 and "version must be one of" in result.output
