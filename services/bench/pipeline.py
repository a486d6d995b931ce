"""``griddesk bench pipeline``: one run from start-up to figures.

Start the system (and, for kafka, the local broker and FerretDB unless given) → follow its topics →
warm up with a few reports → drive N reports into intake while sampling memory (and profiling) →
wait for every accepted case's NotificationSent → stop the system → measure the transport's own rate
for the same records → print the figures, the last line being one JSON object."""
from __future__ import annotations

import os
import resource
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from shared.backends import build_event_log, discard_namespace
from services.bench import report, statistics
from services.bench.baseline import measure_transport
from services.bench.load import ReportLoad
from services.bench.memory import ResourceSampler
from services.bench.observe import EventWatcher, service_consumers, wait_until_consumed
from services.bench.profiling import SAMPLE_RATE, ServiceProfiler, summarise_file
from services.bench.system import (REPO, LocalBackends, backend_settings, start_system, unit_codes)

WARM_UP_REPORTS = 10


@dataclass(frozen=True)
class PipelineOptions:
    backend: str
    cases: int
    rate: float | None = None
    connections: int = 16
    profile: bool = False
    profile_cpu_only: bool = False
    port_base: int = 18400
    baseline_batch: int = 100
    notify_timeout_s: float = 120.0
    keep_dir: bool = False
    doc_path: Path | None = None
    command: str = "griddesk bench pipeline"


def run_pipeline(options: PipelineOptions, say: Callable[[str], None] = print) -> dict:
    work_dir = Path(tempfile.mkdtemp(prefix="griddesk-bench-"))
    backends = settings = None
    try:
        kafka, mongo = os.environ.get("GRIDDESK_KAFKA_BOOTSTRAP", ""), os.environ.get("GRIDDESK_MONGODB_URI", "")
        if options.backend == "kafka" and not (kafka and mongo):
            say("starting the local Kafka broker and FerretDB (deploy/local/backends.sh) …")
            backends, kafka, mongo = LocalBackends.start(work_dir)
        settings = backend_settings(options.backend, work_dir / "var", kafka, mongo)
        machine = report.machine_description()
        say(f"starting griddesk on the {options.backend} backend in {work_dir} …")
        result, profiles = _measure(options, settings, work_dir, say, backends.pids() if backends else {})
        result["machine"] = machine
        result["finished_at"] = report.utc_now()
        result["commit"] = report.git_commit(REPO)
        for line in report.summary_lines(result) + report.profile_lines(profiles):
            say(line)
        if options.doc_path:
            report.write_doc(options.doc_path, result, profiles, options.command)
            say(f"wrote {options.doc_path}")
        say(report.json_line(result))
        return result
    finally:
        if backends:
            backends.stop()
        elif settings and settings.namespace and not options.keep_dir:
            discard_namespace(settings)  # servers shared with others: give the run's topics and database back
        if options.keep_dir:
            say(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


def _measure(options: PipelineOptions, settings, work_dir: Path, say, backend_pids: dict) -> tuple[dict, dict]:
    system = start_system(settings, work_dir / "var", options.port_base)
    event_log = build_event_log(settings, client_id="griddesk-bench")
    profiler = None
    try:
        watcher = EventWatcher(event_log).start()
        units, api_key = unit_codes(system), system.demo["api_key"]
        warm = ReportLoad(system.url("intake"), api_key, units, cases=WARM_UP_REPORTS, connections=4,
                          first_index=options.cases).run()  # after the load's numbers: no duplicates of it
        if not watcher.wait_for(warm.accepted_at, options.notify_timeout_s):
            raise RuntimeError(f"the warm-up reports were never notified:\n{system.logs()}")
        resources = ResourceSampler(str(system.processes_json), backend_pids=backend_pids).start()
        if options.profile:
            profiler = ServiceProfiler(work_dir / "profiles", cpu_only=options.profile_cpu_only).start(system.pids())
        consumers = service_consumers()  # imports the services' bootstraps: before the bench's CPU is counted
        say(f"driving {options.cases} reports …")
        bench_cpu_started = _own_cpu_s()
        load = ReportLoad(system.url("intake"), api_key, units, cases=options.cases,
                          connections=options.connections, rate=options.rate).run()
        complete = watcher.wait_for(load.accepted_at, options.notify_timeout_s)
        if not complete:
            say(f"gave up waiting after {options.notify_timeout_s:.0f}s for notifications")
        consumed_at = wait_until_consumed(event_log, consumers, options.notify_timeout_s) if complete else None
        client_cpu_s = _own_cpu_s() - bench_cpu_started
        written = profiler.stop() if profiler else {}
        profiler = None
        peak_kb = resources.stop()
        cpu = _CpuUse(resources.cpu_s(), resources.child_cpu_s(), resources.backend_cpu_s(), *resources.machine(),
                      client_cpu_s)
        observed = watcher.stop()
    finally:
        if profiler:
            profiler.stop()
        event_log.close()
        system.stop()
    profiles = {child: summarise_file(path) for child, path in written.items()}
    if written:
        stamp = report.utc_now()[:16].replace(" ", "T").replace(":", "")
        kept = REPO / "var" / "bench" / "profiles" / f"{settings.backend}-{stamp}"
        shutil.copytree(work_dir / "profiles", kept, dirs_exist_ok=True)
        say(f"profiles (py-spy raw collapsed stacks) in {kept}")
    say("measuring the transport's own rate for the same records …")
    baseline = measure_transport(settings, observed.records, work_dir / "baseline", batch_size=options.baseline_batch)
    return _figures(options, load, observed, baseline, peak_kb, cpu, consumed_at), profiles


def _own_cpu_s() -> float:
    """CPU seconds of this process (the HTTP clients, the notification watcher, the samplers): it shares
    the machine with the services, so its cost per case is printed beside theirs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class _CpuUse:
    """CPU seconds of the measured load: per service (and per supervised child), per backend server the
    bench started, the whole machine (and the share of its cores that was busy), and the bench's own process."""
    services: dict
    children: dict
    backends: dict
    machine_s: float
    machine_busy_share: float
    client_s: float


def _figures(options: PipelineOptions, load, observed, baseline, peak_kb: dict, cpu: _CpuUse,
             consumed_at: float | None) -> dict:
    accepted, notified = load.accepted_at, observed.notified_at
    latency = statistics.summarise_latencies(accepted, notified)
    last_notified = max((notified[c] for c in accepted if c in notified), default=load.first_sent)
    measured_records = sum(1 for m in observed.records if m.key in accepted)
    events_per_s = statistics.rate(measured_records, load.first_sent, last_notified)
    return {
        "backend": options.backend, "cases": options.cases, "offered_rate_per_s": options.rate or 0,
        "connections": options.connections, "accepted": len(accepted), "notified": latency.count,
        "missing": latency.missing, "failures": load.failures,
        "accepted_per_s": round(statistics.rate(len(accepted), load.first_sent, load.last_accepted), 1),
        "cases_per_s": round(statistics.sustained_case_rate(load.first_sent, accepted, notified), 1),
        # every consumer done (the tracker too, which is off the notification's path): NaN if never
        "all_consumed_per_s": round(statistics.rate(len(accepted), load.first_sent, consumed_at), 1)
        if consumed_at else float("nan"),
        "all_consumed_after_last_notified_s": round(consumed_at - last_notified, 2) if consumed_at else float("nan"),
        "events_per_s": round(events_per_s, 1),
        "events_per_case": measured_records / len(accepted) if accepted else 0.0,
        "p50_ms": round(latency.p50_ms, 1), "p95_ms": round(latency.p95_ms, 1), "p99_ms": round(latency.p99_ms, 1),
        "max_ms": round(latency.max_ms, 1),
        "http_p50_ms": round(statistics.percentile(load.http_ms, 0.5), 1),
        "http_p99_ms": round(statistics.percentile(load.http_ms, 0.99), 1),
        "latency_clock": "NotificationSent's own time attribute minus the client's wall time at the 202",
        "peak_rss_mb": {service: round(kb / 1024, 1) for service, kb in sorted(peak_kb.items())},
        "cpu_ms_per_case": _per_case(cpu.services, len(accepted)),
        "process_cpu_ms_per_case": _per_case(cpu.children, len(accepted)),
        "backend_cpu_ms_per_case": _per_case(cpu.backends, len(accepted)),
        "client_cpu_ms_per_case": round(1000 * cpu.client_s / max(len(accepted), 1), 2),
        "machine_cpu_ms_per_case": round(1000 * cpu.machine_s / max(len(accepted), 1), 2),
        "machine_busy_share": round(cpu.machine_busy_share, 3),
        "baseline": {"transport": "SqliteEventLog" if options.backend == "embedded" else "kafka-python",
                     "records": baseline.records, "mean_record_bytes": round(baseline.mean_record_bytes, 1),
                     "write_per_s": round(baseline.write_per_s, 1), "read_per_s": round(baseline.read_per_s, 1)},
        "baseline_per_s": round(baseline.per_s, 1),
        "ratio": round(statistics.ratio(events_per_s, baseline.per_s), 3),
        "profile_rate": SAMPLE_RATE, "profile_cpu_only": options.profile_cpu_only,
    }


def _per_case(cpu_s: dict, cases: int) -> dict:
    return {name: round(1000 * seconds / max(cases, 1), 2) for name, seconds in sorted(cpu_s.items())}
