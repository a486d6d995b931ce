"""Peak resident memory and CPU time of each service, sampled from /proc: a service is the sum of its
processes (the HTTP server's gunicorn master and workers, and the worker process), found from the
supervisor's ``<var-dir>/run/processes.json`` and their descendants. CPU time (user + system) does not
depend on what else the machine runs as much as rates and latencies do: it is what a case costs."""
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


def family(root: int, table: Mapping[int, tuple[int, int]]) -> set[int]:
    """``root`` and all its descendants that are in the table."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    pending, seen = [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        pending.extend(children.get(pid, ()))
    return seen


def family_rss_kb(root: int, table: Mapping[int, tuple[int, int]]) -> int:
    """Resident kB of ``root`` and all its descendants."""
    return sum(table[pid][1] for pid in family(root, table))


def cpu_ticks(pid: int, proc: str = "/proc") -> int | None:
    """User + system CPU time of a process so far, in clock ticks; None if it has exited."""
    try:
        with open(os.path.join(proc, str(pid), "stat"), encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))


def service_rss_kb(children_pids: Mapping[str, int], table: Mapping[int, tuple[int, int]]) -> dict[str, int]:
    """{service: resident kB} from the supervisor's {"<service>-serve"|"<service>-worker": pid}."""
    per_service: dict[str, int] = {}
    for child, pid in children_pids.items():
        service = child.rsplit("-", 1)[0]
        per_service[service] = per_service.get(service, 0) + family_rss_kb(pid, table)
    return per_service


class ResourceSampler:
    """Samples every ``interval_s`` in a background thread: each service's peak memory, and the CPU time
    its processes used from the first sample to the last."""

    def __init__(self, processes_json: str, interval_s: float = 0.5):
        self._processes_json = processes_json
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.peak_kb: dict[str, int] = {}
        self._first_ticks: dict[tuple[str, int], int] = {}
        self._last_ticks: dict[tuple[str, int], int] = {}
        self._thread = threading.Thread(target=self._sample_until_stopped, name="bench-memory", daemon=True)

    def start(self) -> "ResourceSampler":
        self.sample()
        self._thread.start()
        return self

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds per service between the first and the last sample (a process that started
        between two samples counts from the second)."""
        per_service: dict[str, float] = {}
        ticks_per_s = os.sysconf("SC_CLK_TCK")
        for (service, pid), last in self._last_ticks.items():
            used = (last - self._first_ticks[(service, pid)]) / ticks_per_s
            per_service[service] = per_service.get(service, 0.0) + used
        return per_service

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
        table = process_table()
        for service, kb in service_rss_kb(pids, table).items():
            self.peak_kb[service] = max(self.peak_kb.get(service, 0), kb)
        for child, root in pids.items():
            service = child.rsplit("-", 1)[0]
            for pid in family(root, table):
                ticks = cpu_ticks(pid)
                if ticks is not None:
                    self._first_ticks.setdefault((service, pid), ticks)
                    self._last_ticks[(service, pid)] = ticks

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()
