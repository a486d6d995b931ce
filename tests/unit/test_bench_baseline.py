"""The transport baseline on the real embedded log (SqliteEventLog, in a temporary directory)."""
from __future__ import annotations

import itertools

import pytest

from services.bench.baseline import BaselineResult, mean_record_bytes, measure_event_log, measure_transport, record_bytes
from shared.backends import build_event_log
from shared.config import BackendSettings
from shared.events.wire import Message


def messages(n: int) -> list[Message]:
    return [Message(key=f"case-{i}", headers=(("ce_type", b"griddesk.CaseReported"),), value=b'{"n":%d}' % i)
            for i in range(n)]


def test_record_size_counts_key_headers_and_value():
    message = Message(key="abc", headers=(("ce_id", b"12345"),), value=b"0123456789")
    assert record_bytes(message) == 3 + (5 + 5) + 10
    assert mean_record_bytes([message, Message(key=None, headers=(), value=b"xy")]) == (23 + 2) / 2
    assert mean_record_bytes([]) == 0.0


def test_rates_come_from_the_measured_times():
    result = BaselineResult(records=1000, mean_record_bytes=700.0, write_s=0.5, read_s=0.25)
    assert result.write_per_s == 2000.0
    assert result.read_per_s == 4000.0
    assert result.per_s == pytest.approx(1000 / 0.75)
    assert BaselineResult(0, 0.0, 0.0, 0.0).per_s == 0.0


def test_every_record_is_written_and_read_back_through_the_embedded_log(tmp_path):
    settings = BackendSettings(backend="embedded", data_dir=str(tmp_path), sqlite_synchronous="NORMAL")
    log = build_event_log(settings)
    ticks = itertools.count()
    try:
        result = measure_event_log(log, messages(250), batch_size=100, timer=lambda: float(next(ticks)))
        reader = log.subscribe("check", ["bench.baseline"])
        stored = reader.poll(0.5, 1000)
        reader.close()
    finally:
        log.close()
    assert result.records == 250
    assert [r.message for r in stored] == messages(250)  # same keys, headers and values, in order
    # the fake timer ticks once per reading: start, written, read started, finished
    assert (result.write_s, result.read_s) == (1.0, 1.0)


def test_measure_transport_uses_a_scratch_log_for_the_embedded_backend(tmp_path):
    settings = BackendSettings(backend="embedded", data_dir=str(tmp_path / "system"), sqlite_synchronous="NORMAL")
    result = measure_transport(settings, messages(30), tmp_path / "scratch", batch_size=7)
    assert result.records == 30 and result.per_s > 0
    assert (tmp_path / "scratch" / "events.sqlite").exists()
    assert not (tmp_path / "system").exists()  # the system's own log is never touched
