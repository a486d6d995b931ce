"""Reports are marked published off the request's path, in batches; a lost or refused mark is left to
the relay, which publishes the report again (same event id)."""
from __future__ import annotations

import time

from shared.adapters.sqlite_store import SqliteStore
from shared.errors import BackendUnavailable
from services.intake.published_marks import PublishedMarks


def stored_reports(store, count):
    return [store.insert("reports", {"_id": f"GD-{n}", "published": False}) for n in range(count)]


def test_marks_are_written_together(tmp_path):
    store = SqliteStore(str(tmp_path / "s.sqlite"), synchronous="OFF")
    marks = PublishedMarks(store, "reports", interval_s=60)
    for report in stored_reports(store, 3):
        marks.add(report)
    assert store.count("reports", {"published": False}) == 3  # not yet: the request did not wait for it
    assert marks.flush() == 3
    assert store.count("reports", {"published": True}) == 3 and marks.flush() == 0


def test_a_report_the_relay_marked_meanwhile_does_not_stop_the_others(tmp_path):
    store = SqliteStore(str(tmp_path / "s.sqlite"), synchronous="OFF")
    marks = PublishedMarks(store, "reports", interval_s=60)
    reports = stored_reports(store, 3)
    for report in reports:
        marks.add(report)
    store.replace("reports", {**reports[1], "published": True})  # the relay
    assert marks.flush() == 2
    assert store.count("reports", {"published": True}) == 3


def test_the_thread_marks_them_soon(tmp_path):
    store = SqliteStore(str(tmp_path / "s.sqlite"), synchronous="OFF")
    marks = PublishedMarks(store, "reports", interval_s=0.01)
    marks.add(stored_reports(store, 1)[0])
    deadline = time.monotonic() + 5
    while store.count("reports", {"published": True}) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.count("reports", {"published": True}) == 1


class DownStore(SqliteStore):
    def write_batch(self, writes):
        raise BackendUnavailable("store down")


def test_a_store_down_leaves_the_reports_to_the_relay(tmp_path):
    store = DownStore(str(tmp_path / "s.sqlite"), synchronous="OFF")
    marks = PublishedMarks(store, "reports", interval_s=60)
    marks.add(stored_reports(store, 1)[0])
    assert marks.flush() == 0
    assert store.count("reports", {"published": False}) == 1  # the relay's query still finds it
