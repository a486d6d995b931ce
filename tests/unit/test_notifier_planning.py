"""Planning and sending with an embedded store and recording channels (the real channels are proven in
tests/system/test_notifier_delivery.py): who is told about what, quiet hours and their digest,
scheduled messages and their timetable."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.adapters.sqlite_store import SqliteStore
from shared.events.envelope import Envelope
from shared.org.demo import demo_registry
from shared.org.directory import OrgDirectory
from shared.org.registry import import_registry
from services.notifier import handlers, scheduled_messages
from services.notifier.channels import Outgoing
from services.notifier.delivery import DeliveryStep
from services.notifier.planning import NOTIFICATIONS, NotifierDeps
from services.notifier.routing import Routing
from services.notifier.scheduler import triggers
from services.notifier.settings import NotifierSettings

NIGHT = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)  # 23:00 in Shanghai
ORG = {"district": "XX", "street": "QJ", "community": "QJ01", "grid": "QJ01-G01"}
WORKER = {"id": "QJ01-G01/grid_worker", "name": "王伟", "role": "grid_worker", "phone": "17000000001",
          "org_code": "QJ01-G01", "level": "grid"}


class Clock:
    def __init__(self, now):
        self.moment = now

    def now(self):
        return self.moment


class Recording:
    def __init__(self, name):
        self.name, self.sent = name, []

    def can_reach(self, recipient):
        address = {"sms": "phone", "email": "email"}.get(self.name)
        return address is None or bool(recipient.get(address))

    def send(self, message: Outgoing):
        self.sent.append(message)


class Published:
    def __init__(self):
        self.events = []

    def publish(self, envelopes):
        self.events += envelopes


@pytest.fixture
def deps(tmp_path):
    store = SqliteStore(str(tmp_path / "store.sqlite"), synchronous="NORMAL")
    handlers.prepare_store(store)
    import_registry(store, demo_registry(communities=1))
    senders = {name: Recording(name) for name in ("inbox", "sms", "email")}
    yield NotifierDeps(store=store, clock=Clock(NIGHT), public_url="http://t", routing=Routing(), senders=senders,
                       directory=OrgDirectory(store))
    store.close()


def event(type, case_id, data, *, at=NIGHT, cause=None):
    if cause is not None:
        return cause.caused(type, "/griddesk/test", data, time=at)
    return Envelope(type=type, source="/griddesk/test", subject=case_id, data=data, time=at, id=f"{case_id}-{type}")


def assignment(case_id, assignee=WORKER, tier="general", at=NIGHT):
    reported = event("CaseReported", case_id, {"reporter": {"name": "张三", "phone": "13800001111"}}, at=at)
    return reported, event("CaseAssigned", case_id, {
        "assignee": assignee, "level": assignee["level"], "tier": tier, "category": "facility", "org": ORG,
        "location_resolved": True, "reason": "t", "summary": "灯坏了", "assignment_id": f"{case_id}/a1"},
        cause=reported, at=at)


def react(deps, *events):
    table = handlers.reactions(deps)
    for e in events:
        table[e.type](e)


def test_quiet_hours_hold_the_phone_and_bundle_the_night_into_one_digest(deps):
    react(deps, *assignment("GD-Q1"), *assignment("GD-Q2"))
    published = Published()
    step = DeliveryStep(deps, published)
    step.run_once()
    assert len(deps.senders["inbox"].sent) == 2 and deps.senders["sms"].sent == []  # the inbox does not ring
    deps.clock.moment = NIGHT + timedelta(hours=8)  # 07:00 in Shanghai
    step.run_once()
    [digest] = deps.senders["sms"].sent
    assert "2条" in digest.subject and "GD-Q1" in digest.text and "GD-Q2" in digest.text
    sent = [e for e in published.events if e.type == "NotificationSent" and e.data["channel"] == "sms"]
    assert sorted(e.subject for e in sent) == ["GD-Q1", "GD-Q2"]


def test_an_emergency_ignores_quiet_hours(deps):
    react(deps, *assignment("GD-E1", tier="emergency"))
    DeliveryStep(deps, Published()).run_once()
    [sms] = deps.senders["sms"].sent
    assert sms.urgent and sms.text.startswith("【紧急】")


def test_a_breach_tells_the_assignee_and_the_community_secretary(deps):
    reported, assigned = assignment("GD-B1")
    deps.clock.moment = NIGHT - timedelta(hours=10)  # daytime
    react(deps, reported, assigned, event("SlaBreached", "GD-B1", {
        "assignment_id": "GD-B1/a1", "deadline": "resolve", "due": "2026-11-30T10:00:00+08:00", "level": "grid"}))
    breach = deps.store.find(NOTIFICATIONS, {"about_event_type": "SlaBreached"})
    assert {d["recipient"]["role"] for d in breach} == {"grid_worker", "community_secretary"}
    assert all("已超时" in d["subject"] for d in breach)


def test_escalation_and_closure_reach_the_right_people(deps):
    deps.clock.moment = NIGHT - timedelta(hours=10)
    reported, assigned = assignment("GD-C1")
    react(deps, reported, assigned,
          event("CaseEscalated", "GD-C1", {"from_level": "grid", "to_level": "community", "reason": "超时未受理",
                                           "assignment_id": "GD-C1/a1"}),
          event("CaseClosed", "GD-C1", {"by": WORKER}))
    escalated = deps.store.find(NOTIFICATIONS, {"about_event_type": "CaseEscalated", "channel": "inbox"})
    assert {d["recipient"]["id"] for d in escalated} == {WORKER["id"], "QJ01/community_secretary"}
    [closure] = deps.store.find(NOTIFICATIONS, {"about_event_type": "CaseClosed"})
    assert closure["channel"] == "sms" and closure["recipient"]["phone"] == "13800001111"
    assert "已办结" in closure["message"]


def test_the_reporters_of_merged_duplicates_are_told_of_the_closure_once_per_phone(deps):
    deps.clock.moment = NIGHT - timedelta(hours=10)
    reported, assigned = assignment("GD-S1")
    duplicates = [event("CaseReported", case_id, {"reporter": reporter}) for case_id, reporter in (
        ("GD-D1", {"name": "李四", "phone": "13900002222"}), ("GD-D2", {"name": "张三", "phone": "13800001111"}),
        ("GD-D3", {"name": "王五"}))]
    linked = [Envelope("DuplicateLinked", "/griddesk/router", "GD-S1", {"duplicate_case_id": d.subject,
                                                                         "match": "unit", "reason": "r"},
                       id=f"link-{d.subject}", time=NIGHT) for d in duplicates]
    react(deps, reported, assigned, *duplicates, *linked, linked[0], event("CaseClosed", "GD-S1", {"by": WORKER}))
    told = deps.store.find(NOTIFICATIONS, {"about_event_type": "CaseClosed"})
    # the survivor's reporter and GD-D1's; GD-D2 is the same phone as the survivor's, GD-D3 left none
    assert sorted((d["recipient"]["id"], d["recipient"]["phone"]) for d in told) == [
        ("resident/GD-D1", "13900002222"), ("resident/GD-S1", "13800001111")]
    assert all(d["case_id"] == "GD-S1" for d in told)
    assert "GD-D1" in next(d["message"] for d in told if d["recipient"]["id"] == "resident/GD-D1")


def test_a_concentrated_case_asks_the_branch_secretary_to_convene_the_forum(deps):
    deps.clock.moment = NIGHT - timedelta(hours=10)
    secretary = {"id": "QJ01-B1/branch_secretary", "name": "周红", "role": "branch_secretary", "phone": "170",
                 "org_code": "QJ01-B1", "level": "branch"}
    react(deps, event("DeliberationRequested", "GD-K3", {
        "cluster_id": "K1", "case_ids": ["GD-K1", "GD-K2", "GD-K3"], "compound": "QJ01-C1", "convener": secretary,
        "reason": "同一小区多人反映电梯故障"}))
    [message] = deps.store.find(NOTIFICATIONS, {"about_event_type": "DeliberationRequested", "channel": "inbox"})
    assert message["recipient"]["id"] == secretary["id"] and "3位居民" in message["message"]
    assert "居民议事园" in message["message"] and "电梯故障" in message["message"]


def test_daily_digests_count_the_day_and_go_out_once_a_day(deps):
    day = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)  # 18:00 in Shanghai
    deps.clock.moment = day - timedelta(hours=3)
    for n in range(3):
        react(deps, *assignment(f"GD-D{n}", at=day - timedelta(hours=3)))
    react(deps, event("CaseResolved", "GD-D0", {"by": WORKER, "result": "修好了"}, at=day - timedelta(hours=2)),
          event("SlaBreached", "GD-D1", {"assignment_id": "GD-D1/a1", "deadline": "resolve", "due": "x",
                                         "level": "grid"}, at=day - timedelta(hours=1)))
    deps.clock.moment = day
    assert scheduled_messages.send_daily_digests(deps, day) == 1  # one community, inbox (no e-mail known)
    assert scheduled_messages.send_daily_digests(deps, day + timedelta(minutes=5)) == 0
    [digest] = deps.store.find(NOTIFICATIONS, {"kind": "DailyDigest"})
    assert digest["recipient"]["role"] == "community_secretary"
    assert "新增3件" in digest["message"] and "办结1件" in digest["message"] and "超时未办1件" in digest["message"]
    published = Published()
    DeliveryStep(deps, published).run_once()
    assert deps.store.get(NOTIFICATIONS, digest["_id"])["state"] == "sent"
    assert [e for e in published.events if e.data["about_event_id"] == digest["about_event_id"]] == []


def test_reminders_reach_every_branch_secretary_and_grid_worker_once_per_period(deps):
    now = datetime(2026, 1, 1, 1, 0, tzinfo=timezone.utc)
    branches = scheduled_messages.send_meeting_reminders(deps, now)
    workers = scheduled_messages.send_visit_reminders(deps, now)
    assert branches == 3 * 2 and workers == 8 * 2  # each on the inbox and by SMS
    assert scheduled_messages.send_meeting_reminders(deps, now + timedelta(days=40)) == 0  # same quarter
    assert scheduled_messages.send_visit_reminders(deps, now + timedelta(days=40)) == workers  # next month


def test_the_timetable_of_scheduled_messages():
    plan = triggers(NotifierSettings(daily_digest_at="18:00", weekly_digest_day="mon", reminders_at="09:00"))
    start = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)  # a Saturday, 20:00 in Shanghai
    next_fire = {name: trigger.get_next_fire_time(None, start).isoformat() for name, trigger in plan.items()}
    assert next_fire == {"daily_digest": "2026-11-29T18:00:00+08:00", "weekly_digest": "2026-11-30T18:00:00+08:00",
                         "meeting_reminder": "2027-01-01T09:00:00+08:00", "visit_reminder": "2026-12-01T09:00:00+08:00"}


def test_due_deliveries_of_every_due_state_come_oldest_first_up_to_the_batch(deps):
    # asked one state at a time (FerretDB pushes only equality down), merged back into one order
    from services.notifier.delivery import _due_deliveries
    from services.notifier.domain import DEAD_LETTER_STATES, DUE_STATES, SENT, stamp

    at = [stamp(NIGHT + timedelta(minutes=m)) for m in range(6)]
    rows = [("n5", DUE_STATES[0], at[5]), ("n1", DUE_STATES[1], at[1]), ("n0", DUE_STATES[0], at[0]),
            ("n2", DUE_STATES[0], at[2]), ("n3", DUE_STATES[1], at[3]), ("s0", SENT, at[0]),
            ("d0", DEAD_LETTER_STATES[0], at[0]), ("d1", DEAD_LETTER_STATES[1], at[0])]
    for id, state, next_attempt in rows:
        deps.store.insert(NOTIFICATIONS, {"_id": id, "state": state, "next_attempt_at": next_attempt})
    assert [d["_id"] for d in _due_deliveries(deps.store, at[4], limit=3)] == ["n0", "n1", "n2"]
    assert [d["_id"] for d in _due_deliveries(deps.store, at[4], limit=10)] == ["n0", "n1", "n2", "n3"]
    assert DeliveryStep(deps, Published()).report_dead_letters() == 2


class StoreOnly(Recording):
    store_only = True  # as the inbox: delivered by the write that marks it sent


class Refusing:
    def publish(self, envelopes):
        raise ConnectionError("the log is down")


def test_inbox_deliveries_are_written_sent_and_their_outcomes_published_once_even_after_an_outage(deps):
    deps.senders = {"inbox": StoreOnly("inbox")}
    react(deps, *assignment("GD-I1"), *assignment("GD-I2"))
    with pytest.raises(ConnectionError):
        DeliveryStep(deps, Refusing()).run_once()  # sent, but the outcomes could not be published
    pending = deps.store.find(NOTIFICATIONS, {"outbox_pending": True})
    assert sorted(d["case_id"] for d in pending) == ["GD-I1", "GD-I2"] and {d["state"] for d in pending} == {"sent"}
    published = Published()
    step = DeliveryStep(deps, published)
    step.run_once()  # the outboxes left behind are published by the next pass
    react(deps, *assignment("GD-I3"))
    step.run_once()  # a delivery resolved in this pass: published from the write, without reading it back
    step.run_once()
    assert sorted(e.subject for e in published.events if e.type == "NotificationSent") == ["GD-I1", "GD-I2", "GD-I3"]
    stored = deps.store.find(NOTIFICATIONS, {})
    assert {(d["state"], d["outbox_pending"], len(d["outbox"])) for d in stored} == {("sent", False, 0)}
