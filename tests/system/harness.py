"""Runs the whole system as ``griddesk run`` does — four HTTP servers, four workers, a supervisor —
in a temporary directory, on the embedded backend or on the real Kafka + FerretDB. The starter is the
benchmark's (services/bench/system.py); the tests add crash and auth helpers to its handle."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from shared.config import BackendSettings
from services.bench import system as bench_system

SERVICES = bench_system.SERVICES


class RunningSystem(bench_system.RunningSystem):
    def kill(self, child: str) -> int:
        pid = self.pids()[child]
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_restarted(self, child: str, old_pid: int, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if self.pids().get(child) not in (None, old_pid):
                    return
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"{child} was not restarted")

    def staff(self, token_key: str = "staff_token") -> dict:
        return {"Authorization": f"Bearer {self.demo[token_key]}"}


def start_system(settings: BackendSettings, var_dir: Path, port_base: int, timeout_s: float = 120) -> RunningSystem:
    extra_env = {
        "GRIDDESK_INTAKE_RELAY_GRACE_S": "1",
        # the product's default rate limits, not the benchmark's "unlimited" (empty = default)
        **{f"GRIDDESK_INTAKE_RATE_{limit}": "" for limit in ("KEY_PER_MINUTE", "PHONE_PER_HOUR", "IP_PER_MINUTE")},
    }
    if settings.backend == "embedded":
        extra_env["GRIDDESK_DATA_DIR"] = str(var_dir / "data")
    return bench_system.start_system(settings, var_dir, port_base, timeout_s, extra_env=extra_env,
                                     system_class=RunningSystem)
