"""A real Prometheus server scrapes every running service and a griddesk metric is read back through
Prometheus's HTTP API (Debian's prometheus package; installed by deploy/local/ensure-tools.sh)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
import requests

from shared.config import BackendSettings
from tests.system.harness import SERVICES, start_system

pytestmark = pytest.mark.system


@pytest.fixture
def system(tmp_path):
    settings = BackendSettings(backend="embedded", data_dir=str(tmp_path / "var" / "data"), sqlite_synchronous="NORMAL")
    running = start_system(settings, tmp_path / "var", int(os.environ.get("GRIDDESK_TEST_PORT_BASE", "18100")) + 500)
    yield running
    running.stop()


@pytest.fixture
def prometheus(system, tmp_path):
    port = int(system.url("intake").rsplit(":", 1)[1]) + 80
    targets = "\n".join(
        f"  - job_name: {s}\n    static_configs:\n      - targets: ['{system.url(s).split('//')[1]}']" for s in SERVICES)
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 1s\nscrape_configs:\n{targets}\n")
    process = subprocess.Popen(
        [shutil.which("prometheus") or "/usr/bin/prometheus", f"--config.file={config}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(20)


def query(prometheus: str, expression: str) -> list:
    response = requests.get(f"{prometheus}/api/v1/query", params={"query": expression}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]


def test_prometheus_scrapes_every_service_and_reads_a_griddesk_metric_back(system, prometheus):
    response = requests.post(
        f"{system.url('intake')}/api/v1/reports", timeout=10, headers={"X-API-Key": system.demo["api_key"]},
        json={"channel": "hotline", "text": "楼道灯坏了", "location": {"unit_code": "QJ01-G01-01-1"}})
    assert response.status_code == 202
    deadline, up, accepted = time.monotonic() + 60, [], []
    while time.monotonic() < deadline:
        try:
            up = query(prometheus, "up == 1")
            accepted = query(prometheus, 'griddesk_http_requests_total{service="intake", status="202"}')
            consumed = query(prometheus, 'griddesk_events_consumed_total{service="router", outcome="processed"}')
        except requests.RequestException:
            time.sleep(0.5)
            continue
        if len(up) == len(SERVICES) and accepted and consumed:
            break
        time.sleep(0.5)
    assert sorted(r["metric"]["job"] for r in up) == sorted(SERVICES)
    assert float(accepted[0]["value"][1]) >= 1
    assert float(consumed[0]["value"][1]) >= 1  # the router's worker metrics reach the router's /metrics
