"""The EventLog port's contract, run against the embedded SQLite log and a real Kafka broker."""
from __future__ import annotations

import time

import pytest

from shared.backends import build_event_log
from shared.events.wire import Message

TOPIC = "contract.events"
OTHER = "contract.other"


def message(key: str, n: int) -> Message:
    return Message(key=key, headers=(("ce_id", f"{key}-{n}".encode()), ("x", b"\x00\xff")),
                   value=f'{{"n":{n}}}'.encode())


def drain(subscription, want: int, timeout_s: float = 30.0):
    records, deadline = [], time.monotonic() + timeout_s
    while len(records) < want and time.monotonic() < deadline:
        records += subscription.poll(0.5, 500)
    return records


@pytest.fixture
def log(backend_settings):
    log = build_event_log(backend_settings)
    log.ensure_topics([TOPIC, OTHER])
    yield log
    log.close()


def test_records_come_back_with_key_headers_and_value(log):
    log.append(TOPIC, [message("GD-1", 1)])
    subscription = log.subscribe("g1", [TOPIC])
    try:
        [record] = drain(subscription, 1)
    finally:
        subscription.close()
    assert record.topic == TOPIC
    assert record.message == message("GD-1", 1)


def test_one_key_keeps_its_order_across_topics_polls(log):
    log.append(TOPIC, [message("GD-1", n) for n in range(20)])
    log.append(TOPIC, [message("GD-2", n) for n in range(20)])
    log.append(OTHER, [message("GD-3", 0)])
    subscription = log.subscribe("g-order", [TOPIC, OTHER])
    try:
        records = drain(subscription, 41)
    finally:
        subscription.close()
    assert len(records) == 41
    for key in ("GD-1", "GD-2"):
        values = [r.message.value for r in records if r.message.key == key]
        assert values == [message(key, n).value for n in range(20)]
    partitions = {r.partition for r in records if r.message.key == "GD-1"}
    assert len(partitions) == 1


def test_a_quiet_topic_that_speaks_later_is_still_read(log):
    """Polls while one topic stays quiet, then the quiet topic gets a record: it comes,
    and so does what the busy topic got meanwhile (the embedded log moves a quiet topic's position on)."""
    log.append(TOPIC, [message("GD-1", n) for n in range(6)])
    subscription = log.subscribe("g-quiet", [OTHER, TOPIC])
    try:
        first = drain(subscription, 6)
        log.append(OTHER, [message("GD-2", 0)])
        log.append(TOPIC, [message("GD-1", 6)])
        later = drain(subscription, 2)
    finally:
        subscription.close()
    assert [r.message.value for r in first] == [message("GD-1", n).value for n in range(6)]
    assert sorted(r.message.key for r in later) == ["GD-1", "GD-2"]


def test_a_new_member_resumes_after_the_last_commit(log):
    log.append(TOPIC, [message("GD-1", n) for n in range(10)])
    first = log.subscribe("g-resume", [TOPIC])
    try:
        records = drain(first, 10)
        first.commit(records[:4])
    finally:
        first.close()
    second = log.subscribe("g-resume", [TOPIC])
    try:
        again = drain(second, 6)
    finally:
        second.close()
    assert [r.message.value for r in again] == [message("GD-1", n).value for n in range(4, 10)]


def test_rewind_redelivers_what_was_not_committed(log):
    log.append(TOPIC, [message("GD-1", n) for n in range(5)])
    subscription = log.subscribe("g-rewind", [TOPIC])
    try:
        records = drain(subscription, 5)
        subscription.commit(records[:2])
        subscription.rewind()
        again = drain(subscription, 3)
    finally:
        subscription.close()
    assert [r.message.value for r in again] == [message("GD-1", n).value for n in range(2, 5)]


def test_groups_are_independent(log):
    log.append(TOPIC, [message("GD-1", 1)])
    for group in ("g-a", "g-b"):
        subscription = log.subscribe(group, [TOPIC])
        try:
            records = drain(subscription, 1)
            subscription.commit(records)
        finally:
            subscription.close()
        assert len(records) == 1


def test_lag_counts_what_is_not_committed(log):
    log.append(TOPIC, [message("GD-1", n) for n in range(6)])
    subscription = log.subscribe("g-lag", [TOPIC])
    try:
        records = drain(subscription, 6)
        subscription.commit(records[:2])
        assert sum(subscription.lag().values()) == 4
        subscription.commit(records)
        assert sum(subscription.lag().values()) == 0
    finally:
        subscription.close()


def test_positions_survive_a_new_log_instance(backend_settings, log):
    log.append(TOPIC, [message("GD-1", n) for n in range(3)])
    subscription = log.subscribe("g-durable", [TOPIC])
    try:
        subscription.commit(drain(subscription, 3))
    finally:
        subscription.close()
    log.append(TOPIC, [message("GD-1", 3)])
    reopened = build_event_log(backend_settings)
    try:
        again = reopened.subscribe("g-durable", [TOPIC])
        try:
            records = drain(again, 1)
            assert [r.message.value for r in records] == [message("GD-1", 3).value]
        finally:
            again.close()
    finally:
        reopened.close()


def test_ensure_topics_is_idempotent_and_ping_answers(log):
    log.ensure_topics([TOPIC, OTHER])
    log.ping()


def test_what_a_group_has_not_consumed_is_counted_from_outside_the_group(log):
    log.append(TOPIC, [message("GD-7", n) for n in range(10)])
    log.append(OTHER, [message("GD-8", n) for n in range(3)])
    member = log.subscribe("g-unconsumed", [TOPIC, OTHER])
    try:
        records = drain(member, 13)
        member.commit([r for r in records if r.topic == TOPIC][:4] + [r for r in records if r.topic == OTHER])
        assert log.unconsumed("g-unconsumed", [TOPIC, OTHER]) == 6
        assert log.unconsumed("g-never-seen", [OTHER]) == 3
        assert drain(member, 0, timeout_s=0) == []  # the member was not disturbed: it still holds the topics
    finally:
        member.close()
