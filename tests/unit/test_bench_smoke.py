"""A tiny run of the real benchmark command on the embedded backend: it starts the whole system, drives
20 reports, and its last line is the JSON summary with sane fields. No timing is asserted."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.system


def test_twenty_cases_on_the_embedded_backend_end_with_a_json_summary(tmp_path):
    port_base = int(os.environ.get("GRIDDESK_TEST_PORT_BASE", "18100")) + 900
    env = {**os.environ, "GRIDDESK_SQLITE_SYNCHRONOUS": "NORMAL", "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "services.cli", "bench", "pipeline", "--backend", "embedded",
                           "--cases", "20", "--connections", "4", "--port-base", str(port_base)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["backend"] == "embedded"
    assert summary["accepted"] == summary["notified"] == 20 and summary["missing"] == 0
    assert summary["cases_per_s"] > 0 and summary["baseline_per_s"] > 0 and 0 < summary["ratio"]
    assert 0 <= summary["p50_ms"] <= summary["p99_ms"]
    assert set(summary["peak_rss_mb"]) == {"intake", "router", "tracker", "notifier"}
    assert all(mb > 0 for mb in summary["peak_rss_mb"].values())
    assert set(summary["cpu_ms_per_case"]) == {"intake", "router", "tracker", "notifier"}
    assert summary["cpu_ms_per_case"]["intake"] > 0
    assert summary["backend_cpu_ms_per_case"] == {}  # the embedded backend runs inside the services
    assert summary["machine_cpu_ms_per_case"] > 0 and 0 < summary["machine_busy_share"] <= 1
    assert not list(tmp_path.glob("griddesk-bench-*")), "the temporary directory was not removed"
