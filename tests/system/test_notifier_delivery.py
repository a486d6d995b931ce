"""The notifier delivering for real, on both backends: a real SMTP server (aiosmtpd) and local HTTP
servers standing in for the SMS gateway, the WeCom and DingTalk robots and a department's system.
Time is an injected clock: retries, repeats and quiet hours are reached by moving it, never by waiting."""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from shared.events.contracts import NOTIFIER_EVENTS
from shared.events.envelope import Envelope
from shared.events.wire import decode
from shared.org.demo import demo_registry
from shared.org.registry import ORG_UNITS, import_registry
from shared.process import StopFlag
from shared.publisher import EventPublisher
from services.notifier import bootstrap
from services.notifier.planning import CASE_ACTIVITY, NOTIFICATIONS
from services.notifier.settings import ChannelAddresses, NotifierSettings

SMS_TOKEN, DINGTALK_SECRET, DEPT_SECRET = "sms-token-1", "SEC-ding-secret", "dept-secret-9"
DAYTIME = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai: outside quiet hours
WORKER = {"id": "QJ01-G01/grid_worker", "name": "王伟", "role": "grid_worker", "phone": "17000000001",
          "org_code": "QJ01-G01", "level": "grid"}
STEWARD = {"id": "QJ01-G01-01-1/unit_steward", "name": "李娜", "role": "unit_steward", "phone": "17000000002",
           "org_code": "QJ01-G01-01-1", "level": "unit"}
OTHER_STEWARD = {"id": "QJ01-G01-01-2/unit_steward", "name": "赵敏", "role": "unit_steward", "phone": "17000000003",
                 "org_code": "QJ01-G01-01-2", "level": "unit"}
WATER = {"id": "water/department", "name": "自来水公司", "role": "department", "phone": "",
         "org_code": "water", "level": "department"}
ORG = {"district": "XX", "street": "QJ", "community": "QJ01", "grid": "QJ01-G01", "unit": "QJ01-G01-01-1"}


class Clock:
    def __init__(self, now: datetime):
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


class Crash(BaseException):
    """The process dying: not an error the consume loop may catch."""


class HttpStandIn:
    """One local HTTP server for all stand-ins; ``failures[path]`` answers 503 that many times (-1: always)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.failures: dict[str, int] = {}
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    @Request.application
    def app(self, request: Request) -> Response:
        body = request.get_data()
        self.requests.append({"path": request.path, "query": dict(request.args), "headers": dict(request.headers),
                              "body": body, "json": json.loads(body or b"null")})
        remaining = self.failures.get(request.path, 0)
        if remaining:
            self.failures[request.path] = remaining - 1 if remaining > 0 else remaining
            return Response("gateway busy", status=503)
        answer = {"errcode": 0, "errmsg": "ok"} if request.path in ("/wecom", "/dingtalk") else {"ok": True}
        return Response(json.dumps(answer), content_type="application/json")

    def at(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def close(self):
        self.server.shutdown()


class MailRecorder:
    def __init__(self):
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append({"from": envelope.mail_from, "to": envelope.rcpt_tos, "subject": parsed["Subject"],
                              "headers": dict(parsed.items()), "content": parsed.get_content()})
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def http():
    stand_in = HttpStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture(scope="module")
def smtp():
    recorder = MailRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


@pytest.fixture
def make_notifier(backend_settings, http, smtp, tmp_path):
    http.requests.clear()
    http.failures.clear()
    smtp[0].messages.clear()
    routing = tmp_path / "routing.yaml"
    routing.write_text(yaml.safe_dump({
        "channels": {"CaseAssigned": {"grid_worker": ["inbox", "sms", "email", "wecom", "dingtalk"],
                                      "unit_steward": ["sms>email"], "department": ["webhook"]}},
        "departments": {"water": {"url": f"{http.url}/dept/water", "secret": DEPT_SECRET}},
    }, allow_unicode=True))
    settings = NotifierSettings(
        backend=backend_settings, routing_file=str(routing), schedule=False, retry_attempts=4, retry_base_s=10,
        retry_max_s=60, retry_jitter=0.0, emergency_repeat_s=300, emergency_max_repeats=5, send_lease_s=120,
        channels=ChannelAddresses(sms_url=f"{http.url}/sms", sms_token=SMS_TOKEN, smtp_host="127.0.0.1",
                                  smtp_port=smtp[1], smtp_security="none", smtp_from="griddesk@example.org",
                                  wecom_url=f"{http.url}/wecom?key=robot-key",
                                  dingtalk_url=f"{http.url}/dingtalk?access_token=ding-token",
                                  dingtalk_secret=DINGTALK_SECRET, timeout_s=5))
    clock = Clock(DAYTIME)
    built = []

    def make(**overrides):
        notifier = bootstrap.build(replace(settings, **overrides) if overrides else settings, clock=clock)
        bootstrap.prepare(notifier)
        if not built:
            import_registry(notifier.store, demo_registry(communities=1))
            register_email(notifier.store, WORKER, "wangwei@example.org")
        built.append(notifier)
        return notifier

    yield make, clock
    for notifier in built:
        notifier.log.close()
        notifier.store.close()


def register_email(store, person: dict, email: str) -> None:
    """The org registry knows e-mail addresses; events carry only names and phones."""
    unit = store.get(ORG_UNITS, person["org_code"])
    people = {**unit["people"], person["role"]: {**person, "email": email}}
    store.replace(ORG_UNITS, {**unit, "people": people})


def reported(case_id: str) -> Envelope:
    return Envelope(type="CaseReported", source="/griddesk/intake", subject=case_id, time=DAYTIME,
                    id=f"{case_id}-reported",
                    data={"case_id": case_id, "channel": "hotline", "text": "3号楼楼道灯坏了",
                          "reporter": {"name": "张三丰", "phone": "13800001111"},
                          "location": {"unit_code": ORG["unit"]}, "reported_at": DAYTIME.isoformat()})


def assigned(case_id: str, assignee: dict, *, tier: str = "general", assignment_id: str = "",
             parallel: bool = False, level: str | None = None) -> Envelope:
    return reported(case_id).caused("CaseAssigned", "/griddesk/router", {
        "assignee": assignee, "level": level or assignee["level"], "tier": tier, "category": "facility", "org": ORG,
        "location_resolved": True, "reason": "test", "summary": "3号楼楼道灯坏了", "assignment_id": assignment_id,
        "parallel": parallel, "department": assignee["org_code"] if assignee["level"] == "department" else None},
        purpose=assignment_id or assignee["id"])


def publish(notifier, *events: Envelope) -> None:
    EventPublisher(notifier.log, "test").publish(list(events))


def consume(notifier, until, timeout_s: float = 15.0, attempts: int = 3) -> None:
    """Run the notifier's consume loop until ``until()`` holds (bounded; fails if it never does). On
    Kafka a group that joins right after its topics were created may get no partitions until the next
    metadata refresh (minutes), so a stalled attempt is repeated with a fresh subscription."""
    for _ in range(attempts):
        stop = StopFlag()
        loop = notifier.consume_loop()
        loop.poll_timeout_s = 0.2
        thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not until() and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(30)
        if until():
            return
    raise AssertionError("the notifier did not take the events in time")


def planned(notifier) -> int:
    return notifier.store.count(NOTIFICATIONS)


def published(notifier, types: str | tuple[str, ...], want: int) -> list[Envelope]:
    """The distinct events of these ``types`` on notifier.events: read until ``want`` are there (bounded — a new
    Kafka consumer group takes a while to join), then a little longer, so that extra ones show too."""
    subscription = notifier.log.subscribe(f"reader-{time.monotonic_ns()}", [NOTIFIER_EVENTS])
    unique: dict[str, Envelope] = {}  # the log is at-least-once; consumers dedupe by id
    deadline, idle = time.monotonic() + 45, 0
    try:
        while time.monotonic() < deadline and (len(unique) < want or idle < 3):
            records = subscription.poll(0.5, 500)
            idle = 0 if records else idle + 1
            unique.update({e.id: e for e in (decode(r.message) for r in records) if e.type in types})
    finally:
        subscription.close()
    return list(unique.values())


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_channel_gets_its_own_payload_format(make_notifier, http, smtp):
    make, clock = make_notifier
    notifier = make()
    publish(notifier, reported("GD-CH-1"))  # the router assigns only after the report (topics are not ordered)
    consume(notifier, lambda: notifier.store.get(CASE_ACTIVITY, "GD-CH-1") is not None)
    publish(notifier, assigned("GD-CH-1", WORKER), assigned("GD-CH-2", WATER, level="department"))
    consume(notifier, lambda: planned(notifier) == 6)
    assert notifier.delivery_step().run_once() == 6

    [sms] = http.at("/sms")
    assert sms["headers"]["Authorization"] == f"Bearer {SMS_TOKEN}"
    assert sms["json"]["to"] == WORKER["phone"] and "GD-CH-1" in sms["json"]["text"]
    assert set(sms["json"]) == {"to", "text", "reference", "urgent"} and sms["json"]["urgent"] is False
    assert "张三丰 13800001111" in sms["json"]["text"]  # a grid worker calls the resident back

    [wecom] = http.at("/wecom")
    assert wecom["query"] == {"key": "robot-key"}
    assert wecom["json"]["msgtype"] == "text" and wecom["json"]["text"]["mentioned_mobile_list"] == [WORKER["phone"]]
    assert "张**" in wecom["json"]["text"]["content"] and "13800001111" not in wecom["json"]["text"]["content"]

    [ding] = http.at("/dingtalk")
    timestamp = ding["query"]["timestamp"]
    expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert ding["query"]["access_token"] == "ding-token" and ding["query"]["sign"] == expected
    assert ding["json"]["msgtype"] == "text" and ding["json"]["at"] == {"atMobiles": [WORKER["phone"]],
                                                                       "isAtAll": False}

    [dept] = http.at("/dept/water")
    signature = "sha256=" + hmac.new(DEPT_SECRET.encode(), dept["headers"]["X-Griddesk-Timestamp"].encode()
                                     + b"." + dept["body"], hashlib.sha256).hexdigest()
    assert dept["headers"]["X-Griddesk-Signature"] == signature
    assert dept["json"]["case_id"] == "GD-CH-2" and dept["json"]["event_type"] == "CaseAssigned"
    assert dept["headers"]["X-Griddesk-Notification"] == dept["json"]["notification_id"]

    [mail] = smtp[0].messages
    assert mail["to"] == ["wangwei@example.org"] and mail["from"] == "griddesk@example.org"
    assert "GD-CH-1" in mail["content"] and mail["subject"] == "新案件GD-CH-1"
    assert mail["headers"]["X-Griddesk-Notification"] == sms["json"]["reference"] or mail["headers"]["X-Griddesk-Notification"]

    sent = published(notifier, "NotificationSent", 6)
    assert sorted(e.data["channel"] for e in sent) == ["dingtalk", "email", "inbox", "sms", "webhook", "wecom"]
    assert {e.subject for e in sent} == {"GD-CH-1", "GD-CH-2"}


def test_redelivery_and_a_restart_mid_batch_send_nothing_twice(make_notifier, http):
    make, clock = make_notifier
    events = [assigned(f"GD-RD-{n}", STEWARD) for n in range(5)]
    first = make()
    publish(first, *events)
    inserts = {"n": 0}
    real_insert = first.store.insert

    def dying_insert(collection, document, **options):
        if collection == NOTIFICATIONS:
            inserts["n"] += 1
            if inserts["n"] == 4:
                raise Crash()  # the worker dies mid-batch: three planned in its unit of work, none stored
        return real_insert(collection, document, **options)

    first.store.insert = dying_insert
    with pytest.raises(Crash):
        first.consume_loop().run(StopFlag(), max_idle_polls=60)
    first.store.insert = real_insert
    assert planned(first) == 0

    real_subscribe = first.log.subscribe

    def dying_at_commit(group, topics):
        subscription = real_subscribe(group, topics)
        subscription.commit = lambda records: (_ for _ in ()).throw(Crash())
        return subscription

    first.log.subscribe = dying_at_commit  # it dies again: the batch stored, its positions not committed
    with pytest.raises(Crash):
        first.consume_loop().run(StopFlag(), max_idle_polls=60)
    first.log.subscribe = real_subscribe
    assert planned(first) == 5

    # the delivery thread had sent one of them and was killed while sending a second
    step = first.delivery_step(batch=1)
    assert step.run_once() == 1
    real_send = first.senders["sms"].send

    def dying_send(message):
        real_send(message)
        raise Crash()

    first.senders["sms"].send = dying_send
    with pytest.raises(Crash):
        first.delivery_step(batch=1).run_once()
    assert len(http.at("/sms")) == 2

    second = make()  # the restarted worker: the batch is redelivered, and the same events are published again
    publish(second, *events)
    consume(second, lambda: planned(second) == 5)
    second.delivery_step().run_once()
    clock.advance(600)  # past the send lease: the interrupted send is found, and not repeated
    second.delivery_step().run_once()

    references = [r["json"]["reference"] for r in http.at("/sms")]
    assert len(references) == len(set(references)) == 5
    states = sorted(d["state"] for d in second.store.find(NOTIFICATIONS))
    assert states == ["sent"] * 4 + ["uncertain"]
    [failed] = published(second, "NotificationFailed", 1)
    assert failed.data["final"] is True and "interrupted" in failed.data["error"]
    assert len(published(second, "NotificationSent", 4)) == 4


def test_a_gateway_failing_three_times_then_succeeding_yields_one_message(make_notifier, http):
    make, clock = make_notifier
    notifier = make()
    http.failures["/sms"] = 3
    retried = metric("griddesk_notifications_total", channel="sms", outcome="retried")
    publish(notifier, assigned("GD-RT-1", STEWARD))
    consume(notifier, lambda: planned(notifier) == 1)
    step = notifier.delivery_step()
    for _ in range(6):
        step.run_once()
        clock.advance(60)  # the longest pause these settings allow
    assert [r["json"]["to"] for r in http.at("/sms")] == [STEWARD["phone"]] * 4
    assert metric("griddesk_notifications_total", channel="sms", outcome="retried") - retried == 3
    [sent] = published(notifier, ("NotificationSent", "NotificationFailed"), 1)  # and no failure
    assert sent.type == "NotificationSent" and sent.data["attempts"] == 4 and sent.data["channel"] == "sms"


def test_an_always_failing_gateway_falls_back_then_dead_letters(make_notifier, http, smtp):
    make, clock = make_notifier
    notifier = make()
    http.failures["/sms"] = -1
    dead_before = metric("griddesk_notifications_total", channel="sms", outcome="dead_lettered")
    register_email(notifier.store, OTHER_STEWARD, "li@example.org")
    publish(notifier, assigned("GD-DL-1", STEWARD), assigned("GD-DL-2", OTHER_STEWARD))
    consume(notifier, lambda: planned(notifier) == 2)
    step = notifier.delivery_step()
    for _ in range(6):
        step.run_once()
        clock.advance(60)
    assert len(http.at("/sms")) == 8  # four attempts for each
    [mail] = smtp[0].messages  # the one with an e-mail address got it there instead
    assert mail["to"] == ["li@example.org"] and "GD-DL-2" in mail["content"]
    [dead] = notifier.store.find(NOTIFICATIONS, {"state": "dead_lettered"})
    assert dead["case_id"] == "GD-DL-1" and "503" in dead["error"]
    assert metric("griddesk_notifications_total", channel="sms", outcome="dead_lettered") - dead_before == 1
    assert metric("griddesk_notification_dead_letters") == 1
    failures = {(e.subject, e.data["final"]) for e in published(notifier, "NotificationFailed", 2)}
    assert failures == {("GD-DL-1", True), ("GD-DL-2", False)}


def test_an_emergency_repeats_until_acknowledged_then_stops(make_notifier, http):
    make, clock = make_notifier
    clock.moment = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)  # 23:30 in Shanghai: quiet hours
    notifier = make()
    owner = assigned("GD-EM-1", STEWARD, tier="emergency", assignment_id="GD-EM-1/a1")
    water = assigned("GD-EM-1", WATER, tier="emergency", assignment_id="GD-EM-1/a2", parallel=True,
                     level="department")
    publish(notifier, owner, water)
    consume(notifier, lambda: planned(notifier) == 2)
    step = notifier.delivery_step()
    step.run_once()
    assert (len(http.at("/sms")), len(http.at("/dept/water"))) == (1, 1)  # at once, quiet hours or not
    assert http.at("/sms")[0]["json"]["urgent"] is True

    clock.advance(300)
    step.run_once()
    assert (len(http.at("/sms")), len(http.at("/dept/water"))) == (2, 2)

    by = {**STEWARD}
    publish(notifier, owner.caused("CaseAcknowledged", "/griddesk/intake",
                                   {"by": by, "assignment_id": "GD-EM-1/a1"}))
    consume(notifier, lambda: notifier.store.count("emergency_alerts", {"acknowledged": True}) == 1)
    clock.advance(300)
    step.run_once()
    assert (len(http.at("/sms")), len(http.at("/dept/water"))) == (2, 3)

    publish(notifier, water.caused("ArrivedOnSite", "/griddesk/intake", {"by": WATER, "assignment_id": "GD-EM-1/a2"}))
    consume(notifier, lambda: notifier.store.count("emergency_alerts", {"acknowledged": True}) == 2)
    for _ in range(3):
        clock.advance(300)
        step.run_once()
    assert (len(http.at("/sms")), len(http.at("/dept/water"))) == (2, 3)
    assert "第2次通知" in http.at("/sms")[1]["json"]["text"]
