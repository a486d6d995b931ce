"""The bench's event watcher on the real embedded log, and its wait for every consumer group."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.bench.observe import EventWatcher, wait_until_consumed
from shared.backends import build_event_log
from shared.config import BackendSettings
from shared.events.contracts import INTAKE_EVENTS, NOTIFIER_EVENTS, ROUTER_EVENTS
from shared.events.envelope import Envelope
from shared.events.wire import Message, encode

SENT_AT = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)


def event(type: str, case: str, *, source: str = "/griddesk/notifier", at: datetime = SENT_AT) -> Message:
    return encode(Envelope(type=type, source=source, subject=case, data={"case_id": case}, time=at))


@pytest.fixture
def log(tmp_path):
    log = build_event_log(BackendSettings(backend="embedded", data_dir=str(tmp_path), sqlite_synchronous="NORMAL"))
    log.ensure_topics([INTAKE_EVENTS, ROUTER_EVENTS, NOTIFIER_EVENTS])
    yield log
    log.close()


def test_the_watcher_keeps_every_record_and_takes_each_cases_first_notification_time(log):
    watcher = EventWatcher(log, pause_s=0.01).start()
    log.append(INTAKE_EVENTS, [event("CaseReported", "c1", source="/griddesk/intake"),
                               event("CaseReported", "c2", source="/griddesk/intake")])
    log.append(ROUTER_EVENTS, [event("CaseRouted", "c1", source="/griddesk/router")])
    poison = Message(key="c2", headers=(("ce_type", b"griddesk.NotificationSent"),), value=b"not json")
    later = SENT_AT + timedelta(seconds=5)
    log.append(NOTIFIER_EVENTS, [event("NotificationQueued", "c2"), poison, event("NotificationSent", "c1"),
                                 event("NotificationSent", "c1", at=later)])
    assert watcher.wait_for(["c1"], timeout_s=10)
    assert not watcher.wait_for(["c1", "c2"], timeout_s=0.3)  # c2's only "notification" is poison
    log.append(NOTIFIER_EVENTS, [event("NotificationSent", "c2", at=later)])
    assert watcher.wait_for(["c1", "c2"], timeout_s=10)
    observed = watcher.stop()
    assert observed.notified_at == {"c1": SENT_AT.timestamp(), "c2": later.timestamp()}
    assert set(observed.consumed_at) == {"c1", "c2"}
    assert observed.records_by_topic == {INTAKE_EVENTS: 2, ROUTER_EVENTS: 1, NOTIFIER_EVENTS: 5}
    assert len(observed.records) == 8 and poison in observed.records  # the baseline replays all of them
    assert watcher.notified_count(["c1", "c2", "c3"]) == 2


class ScriptedLog:
    """``unconsumed`` answers from a script per group; records which groups were asked, pass by pass."""

    def __init__(self, script: dict[str, list[int]]):
        self._script = script
        self.asked: list[str] = []

    def unconsumed(self, group, topics):
        self.asked.append(group)
        answers = self._script[group]
        return answers.pop(0) if len(answers) > 1 else answers[0]


def test_the_wait_asks_the_group_still_behind_first_and_ends_after_two_quiet_passes():
    log = ScriptedLog({"intake": [0], "router": [0], "tracker": [5, 3, 0]})
    consumers = {"intake": ("a",), "router": ("b",), "tracker": ("c",)}
    done_at = wait_until_consumed(log, consumers, timeout_s=10, interval_s=0.001)
    assert done_at is not None
    assert log.asked == ["intake", "router", "tracker",  # behind: asked first from now on
                         "tracker",  # still behind: the pass stops there
                         "tracker", "intake", "router",  # quiet
                         "tracker", "intake", "router"]  # quiet again: done, as of the first quiet pass


def test_the_wait_gives_up_after_its_timeout():
    assert wait_until_consumed(ScriptedLog({"tracker": [1]}), {"tracker": ("c",)}, timeout_s=0.05,
                               interval_s=0.01) is None
