"""The consume loop on the embedded log: poison to the dead-letter topic, effects before commits,
retries on an unavailable backend, and a loud stop when it stays down."""
from __future__ import annotations

import threading

import pytest

from shared.adapters.sqlite_event_log import SqliteEventLog
from shared.adapters.sqlite_store import SqliteStore
from shared.consumer import ConsumeLoop
from shared.errors import BackendUnavailable, Conflict
from shared.events.contracts import INTAKE_EVENTS, ROUTER_EVENTS, dead_letter_topic
from shared.events.envelope import Envelope
from shared.events.wire import Message, decode, encode
from shared.unit_of_work import BatchingStore

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


@pytest.fixture
def store(tmp_path):
    store = BatchingStore(SqliteStore(str(tmp_path / "store.sqlite"), synchronous="OFF"))
    store.insert("seen", {"_id": "all", "ids": []})
    return store


def record_and_classify(store, event):
    """A reaction in griddesk's style: the applied event id is recorded in the document it changes."""
    for _ in range(5):
        document = store.get("seen", "all")
        if event.id in document["ids"]:
            break
        try:
            store.replace("seen", {**document, "ids": document["ids"] + [event.id]})
            break
        except Conflict:
            continue
    return classified(event)


def test_a_batch_is_one_unit_of_work_stored_before_its_events_are_published(log, store):
    reports = [Envelope(type="CaseReported", source="/i", subject=f"GD-{n}", data=REPORT) for n in range(3)]
    log.append(INTAKE_EVENTS, [encode(r) for r in reports])
    visible_to_others = []

    def react(event):
        visible_to_others.append(threading_get(store)["_v"])
        return record_and_classify(store, event)

    loop(log, {"CaseReported": react}, store=store).run(max_idle_polls=2)
    assert visible_to_others == [1, 1, 1]  # nothing stored while the batch ran
    assert store.get("seen", "all") == {"_id": "all", "ids": [r.id for r in reports], "_v": 4}
    assert len(read_all(log, ROUTER_EVENTS)) == 3


def in_another_thread(work):
    """What ``work`` returns when another thread of the worker (a timer) runs it, outside any batch."""
    found = {}
    thread = threading.Thread(target=lambda: found.update(result=work()))
    thread.start()
    thread.join(10)
    return found["result"]


def threading_get(store):
    return in_another_thread(lambda: store.get("seen", "all"))


def threading_stamp(store, stamp):
    """A timer thread rewrites the seen document meanwhile (stored at once: it is not in the batch)."""
    in_another_thread(lambda: store.replace("seen", {**store.get("seen", "all"), "timer": stamp}))


def test_a_conflict_at_flush_redoes_the_batch_and_publishes_nothing_twice(log, store):
    reports = [Envelope(type="CaseReported", source="/i", subject=f"GD-{n}", data=REPORT) for n in range(2)]
    log.append(INTAKE_EVENTS, [encode(r) for r in reports])
    calls = []

    def react(event):
        calls.append(event.id)
        outputs = record_and_classify(store, event)
        if len(calls) == 1:  # meanwhile a timer thread of the same worker writes the same document
            threading_stamp(store, True)
        return outputs

    committed = []
    loop(log, {"CaseReported": react}, store=store, after_batch=lambda: committed.append(1)).run(max_idle_polls=2)
    assert calls == [reports[0].id, reports[1].id] * 2  # the batch was redone once
    published = read_all(log, ROUTER_EVENTS)
    assert sorted(decode(r.message).causation_id for r in published) == sorted(r.id for r in reports)
    document = store.get("seen", "all")
    assert document["ids"] == [r.id for r in reports] and document["timer"] is True
    assert committed == [1]
    seen = []
    loop(log, {"CaseReported": lambda e: seen.append(e) or []}).run(max_idle_polls=2)
    assert seen == []  # committed after the redo


def test_a_batch_that_goes_stale_twice_is_redone_write_by_write(log, store):
    reports = [Envelope(type="CaseReported", source="/i", subject=f"GD-{n}", data=REPORT) for n in range(2)]
    log.append(INTAKE_EVENTS, [encode(r) for r in reports])
    batched = []

    def react(event):
        batched.append(store.in_batch)
        outputs = record_and_classify(store, event)
        if len(batched) in (1, 3):  # a timer writes the same document during each of the batched attempts
            threading_stamp(store, len(batched))
        return outputs

    loop(log, {"CaseReported": react}, store=store).run(max_idle_polls=2)
    assert batched == [True, True, True, True, False, False]  # twice as a batch, then write by write
    document = store.get("seen", "all")
    assert document["ids"] == [r.id for r in reports] and document["timer"] == 3
    assert sorted(decode(r.message).causation_id for r in read_all(log, ROUTER_EVENTS)) == sorted(r.id for r in reports)


class FlakyFlushStore(SqliteStore):
    def __init__(self, path, failures):
        super().__init__(path, synchronous="OFF")
        self.failures = failures

    def write_batch(self, writes):
        if self.failures:
            self.failures -= 1
            raise BackendUnavailable("store down at flush")
        super().write_batch(writes)


def test_a_store_down_at_flush_retries_the_batch_buffered_and_loses_nothing(log, tmp_path):
    store = BatchingStore(FlakyFlushStore(str(tmp_path / "flaky.sqlite"), failures=2))
    store.insert("seen", {"_id": "all", "ids": []})
    report = Envelope(type="CaseReported", source="/i", subject="GD-1", data=REPORT)
    log.append(INTAKE_EVENTS, [encode(report)])
    loop(log, {"CaseReported": lambda e: record_and_classify(store, e)}, store=store).run(max_idle_polls=2)
    assert store.get("seen", "all")["ids"] == [report.id]
    assert len(read_all(log, ROUTER_EVENTS)) == 1



def test_work_between_polls_runs_in_the_loops_thread_before_the_first_poll_and_after_each_poll(log):
    reports = [Envelope(type="CaseReported", source="/i", subject=f"GD-{i}", data=REPORT) for i in range(2)]
    log.append(INTAKE_EVENTS, [encode(r) for r in reports])
    steps = []
    reactions = {"CaseReported": lambda event: steps.append(("react", threading.current_thread())) or []}
    loop(log, reactions, between_polls=lambda: steps.append(("between", threading.current_thread()))).run(
        max_idle_polls=2)
    me = threading.current_thread()
    # once subscribed; never while a batch is handled; after it, after the first empty poll (the second ends
    # the run)
    assert steps == [("between", me), ("react", me), ("react", me), ("between", me), ("between", me)]
