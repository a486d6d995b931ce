"""The consume loop on the embedded log: poison to the dead-letter topic, effects before commits,
retries on an unavailable backend, and a loud stop when it stays down."""
from __future__ import annotations

import pytest

from shared.adapters.sqlite_event_log import SqliteEventLog
from shared.consumer import ConsumeLoop
from shared.errors import BackendUnavailable
from shared.events.contracts import INTAKE_EVENTS, ROUTER_EVENTS, dead_letter_topic
from shared.events.envelope import Envelope
from shared.events.wire import Message, decode, encode

REPORT = {"case_id": "GD-1", "channel": "hotline", "text": "灯坏了", "reporter": {}, "location": {"unit_code": "U"},
          "reported_at": "2026-11-28T08:00:00+00:00"}


@pytest.fixture
def log(tmp_path):
    log = SqliteEventLog(str(tmp_path / "events.sqlite"), synchronous="NORMAL", poll_interval_s=0.005)
    log.ensure_topics([INTAKE_EVENTS, ROUTER_EVENTS, dead_letter_topic("t")])
    return log


def read_all(log, topic):
    subscription = log.subscribe(f"reader-{topic}", [topic])
    try:
        return subscription.poll(0.05, 1000)
    finally:
        subscription.close()


def loop(log, reactions, **kwargs):
    return ConsumeLoop(log, "test", "t", [INTAKE_EVENTS], reactions, poll_timeout_s=0.01, backoff_s=0.001,
                       **kwargs)


def classified(event):
    return [event.caused("CaseClassified", "/t", {"category": "other", "tier": "general", "confidence": 0.5,
                                                   "explanation": {}})]


def test_reactions_publish_their_events_and_the_batch_is_committed(log):
    report = Envelope(type="CaseReported", source="/i", subject="GD-1", data=REPORT)
    log.append(INTAKE_EVENTS, [encode(report)])
    loop(log, {"CaseReported": classified}).run(max_idle_polls=2)
    [out] = read_all(log, ROUTER_EVENTS)
    assert decode(out.message).causation_id == report.id
    seen = []
    loop(log, {"CaseReported": lambda e: seen.append(e) or []}).run(max_idle_polls=2)
    assert seen == []  # committed: a restarted loop does not see it again


def test_poison_goes_to_the_dead_letter_topic_and_the_partition_keeps_flowing(log):
    good = Envelope(type="CaseReported", source="/i", subject="GD-2", data=REPORT)
    invalid = Envelope(type="CaseReported", source="/i", subject="GD-3", data={"case_id": "GD-3"})
    log.append(INTAKE_EVENTS, [Message(key="GD-9", headers=(), value=b"garbage"), encode(invalid), encode(good)])
    failing = Envelope(type="CaseReported", source="/i", subject="GD-4", data=REPORT)
    log.append(INTAKE_EVENTS, [encode(failing)])

    def react(event):
        if event.subject == "GD-4":
            raise KeyError("a bug that fails every time")
        return classified(event)

    loop(log, {"CaseReported": react}).run(max_idle_polls=2)
    dead = read_all(log, dead_letter_topic("t"))
    assert [r.message.key for r in dead] == ["GD-9", "GD-3", "GD-4"]
    errors = [dict(r.message.headers)["dlq_error"].decode() for r in dead]
    assert "undecodable" in errors[0] and "contract" in errors[1] and "KeyError" in errors[2]
    assert dict(dead[0].message.headers)["dlq_origin"].decode().startswith(INTAKE_EVENTS)
    assert [decode(r.message).subject for r in read_all(log, ROUTER_EVENTS)] == ["GD-2"]


def test_an_unavailable_backend_is_retried_then_the_batch_succeeds(log):
    report = Envelope(type="CaseReported", source="/i", subject="GD-1", data=REPORT)
    log.append(INTAKE_EVENTS, [encode(report)])
    attempts = []

    def flaky(event):
        attempts.append(event.id)
        if len(attempts) < 3:
            raise BackendUnavailable("store down")
        return classified(event)

    loop(log, {"CaseReported": flaky}).run(max_idle_polls=2)
    assert len(attempts) == 3
    assert len(read_all(log, ROUTER_EVENTS)) == 1


def test_a_backend_that_stays_down_stops_the_loop_loudly_without_committing(log):
    log.append(INTAKE_EVENTS, [encode(Envelope(type="CaseReported", source="/i", subject="GD-1", data=REPORT))])

    def down(event):
        raise BackendUnavailable("store down")

    with pytest.raises(BackendUnavailable):
        loop(log, {"CaseReported": down}, max_attempts=3).run(max_idle_polls=2)
    seen = []
    loop(log, {"CaseReported": lambda e: seen.append(e) or []}).run(max_idle_polls=2)
    assert len(seen) == 1  # not skipped: the next run gets it


def test_a_retried_batch_dead_letters_its_poison_once(log):
    log.append(INTAKE_EVENTS, [Message(key="GD-9", headers=(), value=b"garbage"),
                               encode(Envelope(type="CaseReported", source="/i", subject="GD-1", data=REPORT))])
    attempts = []

    def flaky(event):
        attempts.append(1)
        if len(attempts) < 3:
            raise BackendUnavailable("store down")
        return []

    loop(log, {"CaseReported": flaky}).run(max_idle_polls=2)
    assert len(read_all(log, dead_letter_topic("t"))) == 1
