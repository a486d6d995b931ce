"""What a run prints, its last-line JSON, and its section of docs/benchmarks.md.

The doc keeps one generated section per (backend, load mode) between ``<!-- bench:<id> begin -->`` and
``<!-- bench:<id> end -->``; a run replaces only its own section and leaves the rest (the hand-written
analysis included) as it is."""
from __future__ import annotations

import json
import math
import os
import platform
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from services.bench.profiling import ProfileSummary

TARGET_CASES_PER_S = 300.0
TARGET_P99_MS_AT_100 = 1000.0
TARGET_RATIO = 0.3
NEW_SECTIONS_MARKER = "<!-- bench: new sections are inserted above this line -->"


def machine_description() -> dict:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
        with open("/proc/meminfo", encoding="utf-8") as handle:
            mem_kb = int(next(line.split()[1] for line in handle if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1048576, 1),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "kernel": platform.release()}


def git_commit(repo: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def section_id(result: dict) -> str:
    rate = result["offered_rate_per_s"]
    return f"{result['backend']}-{'rate' + format(rate, 'g') if rate else 'max'}"


def targets(result: dict) -> list[tuple[str, bool]]:
    checks = [(f"≥ {TARGET_CASES_PER_S:g} cases/s sustained (notified, and every consumer done)",
               sustained_rate(result) >= TARGET_CASES_PER_S)
              if not result["offered_rate_per_s"] else None,
              (f"p99 < {TARGET_P99_MS_AT_100:g} ms at 100 cases/s", result["p99_ms"] < TARGET_P99_MS_AT_100)
              if result["offered_rate_per_s"] == 100 else None,
              (f"ratio ≥ {TARGET_RATIO:g}", result["ratio"] >= TARGET_RATIO)]
    return [check for check in checks if check]


def sustained_rate(result: dict) -> float:
    """The lower of the notified rate and the every-consumer-done rate (0 when the consumers never caught
    up; a result from before that figure existed: the notified rate)."""
    return min(result["cases_per_s"], _or_zero(result.get("all_consumed_per_s", result["cases_per_s"])))


def _or_zero(value: float) -> float:
    return 0.0 if value is None or math.isnan(value) else value


def _ms(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.0f} ms"


def summary_lines(result: dict) -> list[str]:
    lines = [
        f"backend {result['backend']}: {result['accepted']} of {result['cases']} reports accepted, "
        f"{result['notified']} notified, {result['missing']} missing, failures {result['failures'] or 'none'}",
        f"offered: {('%g reports/s (open loop)' % result['offered_rate_per_s']) if result['offered_rate_per_s'] else 'as fast as intake answers'}"
        f" over {result['connections']} keep-alive connections; intake accepted {result['accepted_per_s']:.1f}/s",
        f"sustained: {result['cases_per_s']:.1f} cases/s, {result['events_per_s']:.1f} events/s "
        f"({result['events_per_case']:.2f} events per case)",
        "every consumer done: " + (
            f"{result['all_consumed_per_s']:.1f} cases/s, {result['all_consumed_after_last_notified_s']:.1f} s "
            "after the last notification" if _or_zero(result.get("all_consumed_per_s")) else "not within the wait"),
        f"latency 202 -> NotificationSent: p50 {_ms(result['p50_ms'])}, p95 {_ms(result['p95_ms'])}, "
        f"p99 {_ms(result['p99_ms'])}, max {_ms(result['max_ms'])}; intake's 202 itself: "
        f"p50 {_ms(result['http_p50_ms'])}, p99 {_ms(result['http_p99_ms'])}",
        "peak RSS: " + ", ".join(f"{s} {mb:.0f} MB" for s, mb in result["peak_rss_mb"].items()),
        "CPU per case (user + system, all its processes): "
        + ", ".join(f"{s} {ms:.1f} ms" for s, ms in result.get("cpu_ms_per_case", {}).items())
        + (f"; the bench's own clients and watcher {result['client_cpu_ms_per_case']:.1f} ms"
           if "client_cpu_ms_per_case" in result else ""),
        *_machine_lines(result),
        f"baseline ({result['baseline']['transport']}, {result['baseline']['records']} records of "
        f"{result['baseline']['mean_record_bytes']:.0f} B): write {result['baseline']['write_per_s']:.0f}/s, "
        f"read {result['baseline']['read_per_s']:.0f}/s, write+read {result['baseline_per_s']:.0f} records/s",
        f"ratio pipeline/baseline (events/s over records/s): {result['ratio']:.3f}",
    ]
    lines += [f"target {name}: {'met' if ok else 'MISSED'}" for name, ok in targets(result)]
    return lines


def _machine_lines(result: dict) -> list[str]:
    """CPU per case by supervised process, by backend server and for the whole machine: how busy the cores
    were, and (full speed) the rate they could carry at this cost per case (what bounds a run that kept
    them busy)."""
    lines = []
    if result.get("process_cpu_ms_per_case"):
        lines.append("  by process: " + ", ".join(f"{s} {ms:.2f} ms" for s, ms in result["process_cpu_ms_per_case"].items()))
    if result.get("backend_cpu_ms_per_case"):
        lines.append("backend servers' CPU per case: "
                     + ", ".join(f"{s} {ms:.1f} ms" for s, ms in result["backend_cpu_ms_per_case"].items()))
    if result.get("machine_cpu_ms_per_case"):
        cores = result.get("machine", {}).get("cores") or os.cpu_count() or 1
        ceiling = ("" if result["offered_rate_per_s"] else  # open loop: idle cores, fixed costs spread thin
                   f"; at that cost the cores carry at most {cpu_bound_rate(result, cores):.0f} cases/s")
        lines.append(f"whole machine: {result['machine_cpu_ms_per_case']:.1f} ms of CPU per case, "
                     f"{result['machine_busy_share']:.0%} of {cores} cores busy{ceiling}")
    return lines


def cpu_bound_rate(result: dict, cores: int) -> float:
    """Cases/s the machine's cores could carry at the run's whole-machine CPU per case."""
    return 1000 * cores / result["machine_cpu_ms_per_case"] if result.get("machine_cpu_ms_per_case") else 0.0


def profile_lines(profiles: dict[str, ProfileSummary]) -> list[str]:
    lines = []
    for child, summary in sorted(profiles.items()):
        lines.append(f"profile {child} ({summary.samples} samples):")
        lines += [f"  {share:5.1%}  under {frame}" for frame, share in summary.hottest_own[:5]]
        lines += [f"  {share:5.1%}  innermost {frame}" for frame, share in summary.hottest_self[:3]]
    return lines


def json_line(result: dict) -> str:
    keys = ("backend", "cases", "cases_per_s", "all_consumed_per_s", "events_per_s", "p50_ms", "p95_ms", "p99_ms",
            "baseline_per_s", "ratio", "offered_rate_per_s", "accepted", "notified", "missing", "peak_rss_mb",
            "cpu_ms_per_case", "client_cpu_ms_per_case", "backend_cpu_ms_per_case", "machine_cpu_ms_per_case",
            "machine_busy_share")
    clean = {k: (None if isinstance(result[k], float) and math.isnan(result[k]) else result[k])
             for k in keys if k in result}
    return json.dumps(clean, ensure_ascii=False, sort_keys=False)


def doc_section(result: dict, profiles: dict[str, ProfileSummary], command: str) -> str:
    machine = result["machine"]
    rows = "\n".join(f"| {name} | {'met' if ok else '**missed**'} |" for name, ok in targets(result))
    memory = "\n".join(f"| {service} | {mb:.0f} MB |" for service, mb in result["peak_rss_mb"].items())
    profile_text = "\n".join(f"    {line}" for line in profile_lines(profiles)) or "    (run with --profile)"
    return f"""### {result['backend']}, {('open loop at %g reports/s' % result['offered_rate_per_s']) if result['offered_rate_per_s'] else 'as fast as it sustains'}

Generated by `{command}` on {result['finished_at']} (commit {result['commit']}).
Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB, Python {machine['python']};
load average when the run started {machine['load_average_at_start']} (other work on the machine moves the figures).

```
{chr(10).join(summary_lines(result))}
```

| target | this run |
|---|---|
{rows}

| service | peak RSS (all its processes) |
|---|---|
{memory}

Profile (py-spy, {result['profile_rate']} Hz, per supervised child with its subprocesses; share of its samples,
{"of threads holding the GIL only (Python's own CPU time)" if result.get("profile_cpu_only") else "which here include threads waiting on locks, fsync and sockets"} — "under": the deepest griddesk frame of the
stack and all it called; "innermost": the frame the sample sat in):

{profile_text}

    {json_line(result)}
"""


def write_doc(path: Path, result: dict, profiles: dict[str, ProfileSummary], command: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Benchmarks\n\n{NEW_SECTIONS_MARKER}\n"
    sid = section_id(result)
    begin, end = f"<!-- bench:{sid} begin -->", f"<!-- bench:{sid} end -->"
    block = f"{begin}\n{doc_section(result, profiles, command)}{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    elif NEW_SECTIONS_MARKER in text:
        text = text.replace(NEW_SECTIONS_MARKER, f"{block}\n\n{NEW_SECTIONS_MARKER}")
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, for a benchmark's log: on a shared machine they
    say how much of it the run had."""
    return " ".join(f"{n:.2f}" for n in os.getloadavg())
