"""Runs the whole system as ``griddesk run`` does — four HTTP servers, four workers, a supervisor —
in a temporary directory, on the embedded backend or on the real Kafka + FerretDB."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from shared.config import BackendSettings
from tests.conftest import ROOT, settings_env

SERVICES = ("intake", "router", "tracker", "notifier")


@dataclass
class RunningSystem:
    process: subprocess.Popen
    var_dir: Path
    demo: dict
    log_path: Path

    def url(self, service: str) -> str:
        return self.demo[f"{service}_url"]

    def pids(self) -> dict[str, int]:
        return json.loads((self.var_dir / "run" / "processes.json").read_text())

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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


def start_system(settings: BackendSettings, var_dir: Path, port_base: int, timeout_s: float = 120) -> RunningSystem:
    env = {**os.environ, **settings_env(settings), "PYTHONUNBUFFERED": "1",
           "GRIDDESK_INTAKE_RELAY_GRACE_S": "1"}
    for offset, service in enumerate(SERVICES, start=1):
        env[f"GRIDDESK_{service.upper()}_PORT"] = str(port_base + offset)
    if settings.backend == "embedded":
        env["GRIDDESK_DATA_DIR"] = str(var_dir / "data")
    log_path = var_dir / "system.log"
    var_dir.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "services.cli", "run", "--demo", "--var-dir", str(var_dir)],
                                   env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    system = RunningSystem(process, var_dir, {}, log_path)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"griddesk run exited with {process.returncode}:\n{system.logs()}")
            demo_path = var_dir / "demo.json"
            if demo_path.exists() and (var_dir / "run" / "processes.json").exists():
                system.demo = json.loads(demo_path.read_text())
                if all(_ready(system.url(s)) for s in SERVICES):
                    return system
            time.sleep(0.3)
        raise AssertionError(f"the system did not become ready in {timeout_s}s:\n{system.logs()}")
    except BaseException:
        system.stop()
        raise


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
