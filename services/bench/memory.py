"""Peak resident memory and CPU time of each service, sampled from /proc: a service is the sum of its
processes (the HTTP server's gunicorn master and workers, and the worker process), found from the
supervisor's ``<var-dir>/run/processes.json`` and their descendants. CPU time (user + system) does not
depend on what else the machine runs as much as rates and latencies do: it is what a case costs.

The same is sampled for the backend servers the bench started (Kafka's JVM, FerretDB, PostgreSQL with its
backends), and the whole machine's busy time from ``/proc/stat``: together they say whether a run was
bound by the cores and who spent them."""
from __future__ import annotations

import json
import os
import threading
from typing import Iterable, Mapping


def process_table(proc: str = "/proc", roots: Iterable[int] | None = None) -> dict[int, tuple[int, int, int]]:
    """{pid: (parent pid, resident kB, user + system CPU clock ticks)} of every process readable now;
    with ``roots``, the resident kB of the processes outside their families is left at 0.

    The sampler reads this twice a second inside the bench's own process, whose CPU counts as the
    client's: every process's short ``stat`` line gives the tree and the CPU time, and ``status`` (whose
    VmRSS is exact, where ``stat``'s rss is a per-CPU approximation) is read only for the processes
    measured. Parsing every ``status`` file, as before, cost ~6 ms a sample with ~180 processes."""
    table = {}
    for entry in os.listdir(proc):
        if entry.isdigit():
            fields = _stat_fields(os.path.join(proc, entry, "stat"))
            if fields is not None:  # None: exited meanwhile
                table[int(entry)] = (int(fields[1]), 0, int(fields[11]) + int(fields[12]))
    measured = table if roots is None else set().union(*(family(root, table) for root in roots))
    for pid in measured:
        parent, _, ticks = table[pid]
        table[pid] = (parent, _resident_kb(os.path.join(proc, str(pid), "status")), ticks)
    return table


def _stat_fields(path: str) -> list[bytes] | None:
    """The fields of a ``stat`` file after the command name (which may hold spaces and parentheses):
    [0] is the state, field 3 of proc(5); so the parent pid is [1], utime [11], stime [12]."""
    try:
        with open(path, "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _resident_kb(status_path: str) -> int:
    try:
        with open(status_path, "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass  # exited meanwhile
    return 0  # a kernel thread, or gone


def family(root: int, table: Mapping[int, tuple]) -> set[int]:
    """``root`` and all its descendants that are in the table."""
    children: dict[int, list[int]] = {}
    for pid, row in table.items():
        children.setdefault(row[0], []).append(pid)
    pending, seen = [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        pending.extend(children.get(pid, ()))
    return seen


def family_rss_kb(root: int, table: Mapping[int, tuple]) -> int:
    """Resident kB of ``root`` and all its descendants."""
    return sum(table[pid][1] for pid in family(root, table))


def cpu_ticks(pid: int, proc: str = "/proc") -> int | None:
    """User + system CPU time of a process so far, in clock ticks; None if it has exited."""
    fields = _stat_fields(os.path.join(proc, str(pid), "stat"))
    return None if fields is None else int(fields[11]) + int(fields[12])


def machine_busy_ticks(proc: str = "/proc") -> tuple[int, int]:
    """(busy, total) clock ticks of all cores so far, from /proc/stat's first line: busy is everything
    but idle, iowait and steal (time the hypervisor gave another guest; guest time is inside user)."""
    with open(os.path.join(proc, "stat"), encoding="ascii") as handle:
        ticks = [int(value) for value in handle.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = ticks
    busy = user + nice + system + irq + softirq
    return busy, busy + idle + iowait + steal


def service_rss_kb(children_pids: Mapping[str, int], table: Mapping[int, tuple]) -> dict[str, int]:
    """{service: resident kB} from the supervisor's {"<service>-serve"|"<service>-worker": pid}."""
    per_service: dict[str, int] = {}
    for child, pid in children_pids.items():
        service = child.rsplit("-", 1)[0]
        per_service[service] = per_service.get(service, 0) + family_rss_kb(pid, table)
    return per_service


class ResourceSampler:
    """Samples every ``interval_s`` in a background thread: each service's peak memory, and the CPU time
    its processes used from the first sample to the last; the same CPU time for each of ``backend_pids``
    ({name: root pid}, counted with its descendants) and for the whole machine."""

    def __init__(self, processes_json: str, interval_s: float = 0.5, backend_pids: Mapping[str, int] | None = None):
        self._processes_json = processes_json
        self._backend_pids = dict(backend_pids or {})
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.peak_kb: dict[str, int] = {}
        self._first_ticks: dict[tuple[str, int], int] = {}
        self._last_ticks: dict[tuple[str, int], int] = {}
        self._machine_first: tuple[int, int] | None = None
        self._machine_last: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._sample_until_stopped, name="bench-memory", daemon=True)

    def start(self) -> "ResourceSampler":
        self.sample()
        self._thread.start()
        return self

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds per service between the first and the last sample (a process that started
        between two samples counts from the second)."""
        per_service: dict[str, float] = {}
        for child, seconds in self.child_cpu_s().items():
            service = child.rsplit("-", 1)[0]
            per_service[service] = per_service.get(service, 0.0) + seconds
        return per_service

    def child_cpu_s(self) -> dict[str, float]:
        """CPU seconds per supervised child ("intake-serve", "intake-worker", …), as ``cpu_s`` counts them."""
        return {name: seconds for name, seconds in self._cpu_s_by_name().items() if name not in self._backend_pids}

    def backend_cpu_s(self) -> dict[str, float]:
        """CPU seconds per backend server, as ``cpu_s`` counts them."""
        return {name: seconds for name, seconds in self._cpu_s_by_name().items() if name in self._backend_pids}

    def machine(self) -> tuple[float, float]:
        """(CPU seconds the whole machine was busy, share of its cores busy) between the first and the
        last sample."""
        if not (self._machine_first and self._machine_last):
            return 0.0, 0.0
        busy = self._machine_last[0] - self._machine_first[0]
        total = self._machine_last[1] - self._machine_first[1]
        return busy / os.sysconf("SC_CLK_TCK"), busy / total if total else 0.0

    def _cpu_s_by_name(self) -> dict[str, float]:
        per_name: dict[str, float] = {}
        ticks_per_s = os.sysconf("SC_CLK_TCK")
        for (name, pid), last in self._last_ticks.items():
            used = (last - self._first_ticks[(name, pid)]) / ticks_per_s
            per_name[name] = per_name.get(name, 0.0) + used
        return per_name

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
        self._machine_last = machine_busy_ticks()
        self._machine_first = self._machine_first or self._machine_last
        table = process_table(roots=pids.values())  # the services' memory; the backends' CPU time only
        for service, kb in service_rss_kb(pids, table).items():
            self.peak_kb[service] = max(self.peak_kb.get(service, 0), kb)
        for name, root in [*pids.items(), *self._backend_pids.items()]:
            for pid in family(root, table):
                ticks = table[pid][2]
                self._first_ticks.setdefault((name, pid), ticks)
                self._last_ticks[(name, pid)] = ticks

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()
