"""The alert rules, their rule tests, the Prometheus configuration and the Grafana dashboard, checked
with Debian's promtool (installed by deploy/local/ensure-tools.sh in `make test`)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "griddesk-operations.json"
METRIC = re.compile(r"\b(griddesk_[a-z_]+)")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)


def defined_metric_names() -> set[str]:
    """Every griddesk metric family the code defines, with the series names Prometheus derives."""
    names = set()
    for path in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("services/**/*.py")]:
        for name in re.findall(r'"(griddesk_[a-z_]+)"', path.read_text(encoding="utf-8")):
            names |= {name, f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def test_alert_rules_are_valid():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_rule_test_that_fires_it():
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = {r["alert"] for g in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
              for r in g["rules"]}
    tested = {case["alertname"] for t in yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
              for case in t.get("alert_rule_test", []) if case.get("exp_alerts")}
    assert alerts == tested


def test_prometheus_configuration_is_valid():
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_and_dashboard_only_use_metrics_the_code_defines():
    used = set(METRIC.findall((PROMETHEUS / "alerts.yml").read_text()))
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= set(METRIC.findall(target["expr"]))
    assert used and used - defined_metric_names() == set()


def test_every_alert_points_at_an_existing_runbook():
    for group in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]:
        for rule in group["rules"]:
            assert (ROOT / rule["annotations"]["runbook"]).exists(), rule["alert"]
