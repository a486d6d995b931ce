"""Peak resident memory of each service, sampled from /proc: a service is the sum of its processes
(the HTTP server's gunicorn master and workers, and the worker process), found from the supervisor's
``<var-dir>/run/processes.json`` and their descendants."""
from __future__ import annotations

import json
import os
import threading
from typing import Mapping


def process_table(proc: str = "/proc") -> dict[int, tuple[int, int]]:
    """{pid: (parent pid, resident kB)} of every process readable now."""
    table = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "status"), encoding="ascii", errors="replace") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue  # exited meanwhile
        rss = fields.get("VmRSS", "0 kB").split()[0]
        table[int(entry)] = (int(fields.get("PPid", "0").strip()), int(rss))
    return table


def family_rss_kb(root: int, table: Mapping[int, tuple[int, int]]) -> int:
    """Resident kB of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    total, pending, seen = 0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        total += table[pid][1]
        pending.extend(children.get(pid, ()))
    return total


def service_rss_kb(children_pids: Mapping[str, int], table: Mapping[int, tuple[int, int]]) -> dict[str, int]:
    """{service: resident kB} from the supervisor's {"<service>-serve"|"<service>-worker": pid}."""
    per_service: dict[str, int] = {}
    for child, pid in children_pids.items():
        service = child.rsplit("-", 1)[0]
        per_service[service] = per_service.get(service, 0) + family_rss_kb(pid, table)
    return per_service


class PeakMemorySampler:
    """Samples every ``interval_s`` in a background thread and keeps each service's peak."""

    def __init__(self, processes_json: str, interval_s: float = 0.5):
        self._processes_json = processes_json
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.peak_kb: dict[str, int] = {}
        self._thread = threading.Thread(target=self._sample_until_stopped, name="bench-memory", daemon=True)

    def start(self) -> "PeakMemorySampler":
        self._thread.start()
        return self

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sample()
        return dict(self.peak_kb)

    def sample(self) -> None:
        try:
            with open(self._processes_json, encoding="utf-8") as handle:
                pids = json.load(handle)
        except (OSError, ValueError):
            return
        for service, kb in service_rss_kb(pids, process_table()).items():
            self.peak_kb[service] = max(self.peak_kb.get(service, 0), kb)

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()
