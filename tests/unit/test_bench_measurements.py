"""The benchmark's profile summary, memory aggregation and its section of docs/benchmarks.md."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from services.bench import report
from services.bench.memory import (ResourceSampler, cpu_ticks, family_rss_kb, machine_busy_ticks, process_table,
                                   service_rss_kb)
from services.bench.profiling import parse_collapsed, short_frame, summarise

RAW = """\
process 1:"python -m services.cli worker tracker";run (services/launcher.py:80);_react (shared/consumer.py:120);write (/x/shared/adapters/sqlite_connection.py:56) 6
process 1:"python -m services.cli worker tracker";run (services/launcher.py:80);_react (shared/consumer.py:120);load (/venv/lib/marshmallow/schema.py:700);deepcopy (/usr/lib/python3.11/copy.py:128) 3
process 1:"python -m services.cli worker tracker";select (/usr/lib/python3.11/selectors.py:468) 1
not a stack line
"""


def test_collapsed_stacks_are_parsed_root_first_with_their_counts():
    stacks = parse_collapsed(RAW.splitlines())
    assert [count for _, count in stacks] == [6, 3, 1]
    assert stacks[0][0][-1] == "write (/x/shared/adapters/sqlite_connection.py:56)"


def test_frames_are_shortened_and_griddesk_frames_keep_package_and_line():
    assert short_frame("write (/x/shared/adapters/sqlite_connection.py:56)") == \
        "write (shared/adapters/sqlite_connection.py:56)"
    assert short_frame("deepcopy (/usr/lib/python3.11/copy.py:128)") == "deepcopy (copy.py)"
    assert short_frame("<no file>") == "<no file>"


def test_the_summary_names_where_cpu_goes_and_which_of_our_code_paths_cost_most():
    summary = summarise(parse_collapsed(RAW.splitlines()))
    assert summary.samples == 10
    assert summary.hottest_self[0] == ("write (shared/adapters/sqlite_connection.py:56)", 0.6)
    assert ("deepcopy (copy.py)", 0.3) in summary.hottest_self
    # the deepest griddesk frame takes what it calls: _react for the marshmallow stack
    assert dict(summary.hottest_own) == {"write (shared/adapters/sqlite_connection.py:56)": 0.6,
                                         "_react (shared/consumer.py:120)": 0.3}
    assert summarise([]).samples == 0


def test_a_services_memory_is_the_sum_of_its_process_families():
    table = {10: (1, 100), 11: (10, 50), 12: (10, 50), 13: (11, 5),  # intake-serve: master, 2 workers, a child
             20: (1, 70),  # intake-worker
             30: (1, 80), 31: (99, 1000)}  # router-serve; 31 is someone else's
    assert family_rss_kb(10, table) == 205
    assert family_rss_kb(404, table) == 0  # exited
    assert service_rss_kb({"intake-serve": 10, "intake-worker": 20, "router-serve": 30}, table) == \
        {"intake": 275, "router": 80}


def test_the_process_table_of_this_machine_includes_this_process_with_its_rss_and_cpu_time():
    parent, rss_kb, ticks = process_table()[os.getpid()]
    assert parent == os.getppid() and rss_kb > 0
    assert 0 < ticks <= cpu_ticks(os.getpid())
    measured = process_table(roots=[os.getpid()])
    assert measured[os.getpid()][1] > 0 and measured[os.getppid()][1] == 0  # only the roots' families


def test_a_process_cpu_time_grows_as_it_works_and_is_none_once_it_has_exited():
    before = cpu_ticks(os.getpid())
    deadline = os.times().elapsed + 0.3
    while os.times().elapsed < deadline:
        sum(range(10_000))
    assert cpu_ticks(os.getpid()) > before
    assert cpu_ticks(2 ** 22 + 12345) is None


def _burn(seconds: float) -> None:
    deadline = os.times().elapsed + seconds
    while os.times().elapsed < deadline:
        sum(range(10_000))


def test_a_backend_servers_cpu_is_counted_apart_from_the_services_and_the_machine_counts_all(tmp_path):
    burner = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 0.6\nwhile time.time() < end: sum(range(9999))"])
    try:
        processes_json = tmp_path / "processes.json"
        processes_json.write_text(json.dumps({"intake-serve": os.getpid()}))
        sampler = ResourceSampler(str(processes_json), interval_s=0.05, backend_pids={"ferretdb": burner.pid})
        sampler.start()
        _burn(0.4)
        burner.wait(10)
        sampler.stop()
    finally:
        burner.kill()
    assert set(sampler.cpu_s()) == {"intake"} and sampler.cpu_s()["intake"] > 0.1
    assert set(sampler.backend_cpu_s()) == {"ferretdb"} and sampler.backend_cpu_s()["ferretdb"] > 0.1
    machine_s, busy_share = sampler.machine()
    assert machine_s >= 0.2 and 0 < busy_share <= 1


def test_the_machine_is_busy_for_part_of_all_its_ticks():
    busy, total = machine_busy_ticks()
    _burn(0.2)
    later_busy, later_total = machine_busy_ticks()
    assert 0 < busy <= total and later_busy > busy and later_total > total


def test_the_summary_says_what_the_cores_could_carry_at_the_runs_cost_per_case():
    lines = report.summary_lines(result(machine_cpu_ms_per_case=40.0, machine_busy_share=0.9,
                                        backend_cpu_ms_per_case={"ferretdb": 25.0, "kafka": 5.0}))
    assert "backend servers' CPU per case: ferretdb 25.0 ms, kafka 5.0 ms" in lines
    assert ("whole machine: 40.0 ms of CPU per case, 90% of 2 cores busy; at that cost the cores carry at most "
            "50 cases/s") in lines
    at_a_rate = report.summary_lines(result(offered_rate_per_s=100, machine_cpu_ms_per_case=40.0, machine_busy_share=0.4))
    assert "whole machine: 40.0 ms of CPU per case, 40% of 2 cores busy" in at_a_rate


def result(**overrides) -> dict:
    base = {"backend": "embedded", "cases": 100, "offered_rate_per_s": 0, "connections": 4, "accepted": 100,
            "notified": 100, "missing": 0, "failures": {}, "accepted_per_s": 90.0, "cases_per_s": 80.0,
            "events_per_s": 320.0, "events_per_case": 4.0, "p50_ms": 300.0, "p95_ms": 700.0, "p99_ms": 900.0,
            "max_ms": 950.0, "http_p50_ms": 20.0, "http_p99_ms": math.nan, "peak_rss_mb": {"intake": 150.0},
            "baseline": {"transport": "SqliteEventLog", "records": 400, "mean_record_bytes": 700.0,
                         "write_per_s": 5000.0, "read_per_s": 9000.0},
            "baseline_per_s": 3200.0, "ratio": 0.1, "profile_rate": 50, "finished_at": "2026-11-28 22:00 UTC",
            "commit": "abc1234", "machine": {"cpu": "a CPU", "cores": 2, "memory_gb": 23.5,
                                             "load_average_at_start": [2.0, 1.9, 1.8], "python": "3.11.7"}}
    return {**base, **overrides}


def test_the_last_line_is_one_json_object_with_the_required_fields_and_no_nan():
    line = report.json_line(result(p99_ms=math.nan))
    data = json.loads(line)
    assert {"cases_per_s", "p50_ms", "p99_ms", "baseline_per_s", "ratio"} <= set(data)
    assert data["p99_ms"] is None and data["cases_per_s"] == 80.0


def test_targets_depend_on_the_load_mode():
    assert [name for name, _ in report.targets(result())] == [
        "≥ 300 cases/s sustained (notified, and every consumer done)", "ratio ≥ 0.3"]
    at_100 = report.targets(result(offered_rate_per_s=100))
    assert at_100 == [("p99 < 1000 ms at 100 cases/s", True), ("ratio ≥ 0.3", False)]


def test_a_run_replaces_only_its_own_section_of_the_doc(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nhand-written analysis\n\n{report.NEW_SECTIONS_MARKER}\n", encoding="utf-8")
    report.write_doc(doc, result(cases_per_s=81.5), {}, "griddesk bench pipeline --backend embedded")
    report.write_doc(doc, result(offered_rate_per_s=100, cases_per_s=99.0), {}, "griddesk bench pipeline --rate 100")
    report.write_doc(doc, result(cases_per_s=123.4), {}, "griddesk bench pipeline --backend embedded")
    text = doc.read_text(encoding="utf-8")
    assert text.count("<!-- bench:embedded-max begin -->") == 1
    assert text.count("<!-- bench:embedded-rate100 begin -->") == 1
    assert "123.4 cases/s" in text and "99.0 cases/s" in text and "81.5 cases/s" not in text
    assert text.index("hand-written analysis") < text.index("embedded-max") < text.index(report.NEW_SECTIONS_MARKER)


def test_the_load_never_repeats_a_problem_in_a_unit_before_each_text_went_to_every_unit():
    from services.bench.load import SAMPLE_TEXTS, report_body
    for unit_count in (402, 401, 7):  # the demo district has 402; an odd count once made pairs repeat early
        units = [f"U{n}" for n in range(unit_count)]
        bodies = [report_body(index, units) for index in range(len(SAMPLE_TEXTS) * unit_count)]
        pairs = {(body["location"]["unit_code"], body["text"].split("（")[0]) for body in bodies}
        assert len(pairs) == len(bodies)


def test_the_sustained_rate_counts_only_once_every_consumer_is_done():
    assert report.targets(result(cases_per_s=310.0, all_consumed_per_s=320.0))[0][1] is True
    assert report.targets(result(cases_per_s=310.0, all_consumed_per_s=280.0))[0][1] is False  # the tracker lagged
    assert report.targets(result(cases_per_s=310.0, all_consumed_per_s=float("nan")))[0][1] is False  # never done
