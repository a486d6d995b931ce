"""``griddesk run``: every service's HTTP server and worker as child processes of one supervisor.

A child that dies is restarted with backoff (a crash must not stop the district); Ctrl-C or SIGTERM
stops every child cleanly. Each service gets its own Prometheus multiprocess directory, emptied at
start, shared by its HTTP workers and its worker process. Child PIDs are kept in
``var/run/processes.json`` for operators and for the fault tests.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from shared.observability.metrics import mark_process_dead
from services.launcher import SERVICES

RESTART_BACKOFF_MAX_S = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        # Own session: a terminal's Ctrl-C reaches only the supervisor, which then stops the children in
        # order (SIGTERM, graceful) instead of every process receiving SIGINT at once.
        self.process = subprocess.Popen(self.argv, env=self.env, start_new_session=True)
        self.started_at = time.monotonic()


def children(var_dir: str, base_env: dict) -> list[Child]:
    result = []
    for service in SERVICES:
        metrics_dir = os.path.join(var_dir, "metrics", service)
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.makedirs(metrics_dir, exist_ok=True)
        env = {**base_env, "PROMETHEUS_MULTIPROC_DIR": os.path.abspath(metrics_dir)}
        for kind in ("serve", "worker"):
            result.append(Child(f"{service}-{kind}", [sys.executable, "-m", "services.cli", kind, service], env))
    return result


def _write_pids(var_dir: str, running: list[Child]) -> None:
    os.makedirs(os.path.join(var_dir, "run"), exist_ok=True)
    path = os.path.join(var_dir, "run", "processes.json")
    with open(path + ".tmp", "w") as handle:
        json.dump({c.name: c.process.pid for c in running if c.process}, handle, indent=2)
    os.replace(path + ".tmp", path)


def supervise(var_dir: str, env: dict, on_started=None) -> int:
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    running = children(var_dir, env)
    for child in running:
        child.start()
    _write_pids(var_dir, running)
    if on_started:
        on_started()
    while not stopping:
        time.sleep(0.2)
        changed = False
        for child in running:
            if child.process is None and time.monotonic() >= child.next_start:
                child.start()
                changed = True
            elif child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                lived = time.monotonic() - child.started_at
                child.restarts = 0 if lived > 60 else child.restarts + 1
                delay = min(RESTART_BACKOFF_MAX_S, 0.5 * 2 ** child.restarts)
                print(f"[griddesk] {child.name} exited with {code}; restarting in {delay:.1f}s", file=sys.stderr)
                mark_process_dead(child.process.pid, child.env["PROMETHEUS_MULTIPROC_DIR"])
                child.process = None
                child.next_start = time.monotonic() + delay
        if changed:
            _write_pids(var_dir, running)
    print("[griddesk] stopping…", file=sys.stderr)
    for child in running:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in running:
        if child.process:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
    print("[griddesk] stopped", file=sys.stderr)
    return 0
