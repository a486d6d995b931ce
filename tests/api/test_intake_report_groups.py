"""Reports in flight are stored together (one store write, one append), and each request still gets what
it would have got alone — on both backends."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from shared import auth
from shared.errors import BackendUnavailable
from shared.events.contracts import INTAKE_EVENTS
from shared.events.wire import decode
from shared.publisher import EventPublisher
from services.intake import handlers, report_groups

REPORT = {"channel": "hotline", "text": "3号楼楼道灯坏了", "location": {"unit_code": "QJ01-G01-01-1"}}


@pytest.fixture
def intake(backend_settings):
    from services.intake import bootstrap
    from services.intake.settings import IntakeSettings

    # no rate limit: eight threads counting on one key contend for its counter (not what is tested here)
    service = bootstrap.build(IntakeSettings(backend=backend_settings, rate_key_per_minute=0))
    bootstrap.prepare(service)
    yield service
    service.store.close()
    service.log.close()


class Counting:
    """A real adapter that counts the calls of one method."""

    def __init__(self, inner, method: str, fail: Exception | None = None):
        self._inner, self._method, self._fail, self.calls = inner, method, fail, 0

    def __getattr__(self, name):
        if name != self._method:
            return getattr(self._inner, name)

        def counted(*args, **kwargs):
            self.calls += 1
            if self._fail is not None:
                raise self._fail
            return getattr(self._inner, name)(*args, **kwargs)
        return counted


def new_report(intake, text=REPORT["text"], key=None, client="client-1"):
    """The report as the request hands it to the group write (submit_report with a store_report that keeps it)."""
    command = handlers.SubmitReport({**REPORT, "text": text}, client, key)
    return handlers.submit_report(command, clock=intake.clock, secret_key=intake.secret_key,
                                  store_report=lambda report: report)


def store_group(intake, reports, *, store=None, log=None):
    marked = []
    outcomes = report_groups.store_reports(reports, store=store or intake.store,
                                           publisher=EventPublisher(log or intake.log, "intake"),
                                           secret_key=intake.secret_key, mark_published=marked.append)
    return outcomes, marked


def published(intake):
    subscription = intake.log.subscribe("test-reader", [INTAKE_EVENTS])
    try:
        events, deadline = [], 0
        while deadline < 3:  # Kafka: a few polls until the group has its partitions
            batch = subscription.poll(1.0, 1000)
            events += [decode(r.message) for r in batch]
            deadline = deadline + 1 if not batch else deadline
        return events
    finally:
        subscription.close()


def test_a_group_is_one_store_write_and_one_append(intake):
    reports = [new_report(intake, f"第{n}号楼楼道灯坏了", key=f"k{n}" if n % 2 else None) for n in range(5)]
    store, log = Counting(intake.store, "write_batch"), Counting(intake.log, "append")
    outcomes, marked = store_group(intake, reports, store=store, log=log)
    assert [o.case_id for o in outcomes] == [r.document["_id"] for r in reports]
    assert not any(o.replayed for o in outcomes)
    assert store.calls == 1 and log.calls == 1
    assert {e.subject for e in published(intake)} == {o.case_id for o in outcomes}
    assert [d["_id"] for d in marked] == [o.case_id for o in outcomes]
    for outcome in outcomes:
        assert intake.store.get(handlers.REPORTS, outcome.case_id)["published"] is False  # marked a moment later


def test_the_same_key_twice_in_one_group_behaves_as_two_requests_in_a_row(intake):
    first = new_report(intake, key="same")
    retry = new_report(intake, key="same")
    misuse = new_report(intake, text="别的事情", key="same")
    other_client = new_report(intake, key="same", client="client-2")
    outcomes, _ = store_group(intake, [first, retry, misuse, other_client])
    assert not outcomes[0].replayed
    assert outcomes[1].replayed and outcomes[1].case_id == outcomes[0].case_id
    assert outcomes[1].token == outcomes[0].token and outcomes[1].correlation_id == outcomes[0].correlation_id
    assert isinstance(outcomes[2], handlers.IdempotencyMismatch)
    assert not outcomes[3].replayed and outcomes[3].case_id != outcomes[0].case_id  # keys are per client
    assert intake.store.count(handlers.REPORTS) == 2
    assert sorted(e.subject for e in published(intake)) == sorted([outcomes[0].case_id, outcomes[3].case_id])


def test_a_key_stored_meanwhile_makes_only_its_report_a_retry(intake):
    """A retry of a stored report (or another request, e.g. on another HTTP worker, that stored the key
    first): the batch is refused, the retry answered from the stored report, and the others stored together
    in a second write — on MongoDB after a bulk that stored its first reports before stopping."""
    reports = [new_report(intake, "第一件事", key="a"), new_report(intake, "第二件事", key="b"),
               new_report(intake, "第三件事", key="c"), new_report(intake, "第四件事")]
    winner = new_report(intake, "第二件事", key="b")
    store_group(intake, [winner])
    store = Counting(intake.store, "write_batch")
    outcomes, marked = store_group(intake, reports, store=store)
    assert store.calls == 2  # the refused batch, then the three new reports together
    assert outcomes[1].replayed and outcomes[1].case_id == winner.document["_id"]
    assert outcomes[1].token == winner.token
    for n in (0, 2, 3):
        assert not outcomes[n].replayed
        assert intake.store.get(handlers.REPORTS, outcomes[n].case_id)["event"]["id"] == reports[n].document["event"]["id"]
    assert intake.store.count(handlers.REPORTS) == 4
    assert sorted(d["_id"] for d in marked) == sorted(outcomes[n].case_id for n in (0, 2, 3))
    events = [e.subject for e in published(intake)]
    assert sorted(events) == sorted({winner.document["_id"], *(outcomes[n].case_id for n in (0, 2, 3))})


def test_a_reused_key_in_a_group_is_refused_and_the_others_are_stored(intake):
    stored_before = new_report(intake, "第二件事", key="b")
    store_group(intake, [stored_before])
    reports = [new_report(intake, "第一件事", key="a"), new_report(intake, "别的事情", key="b")]
    outcomes, _ = store_group(intake, reports)
    assert not outcomes[0].replayed and isinstance(outcomes[1], handlers.IdempotencyMismatch)
    assert intake.store.count(handlers.REPORTS) == 2


def test_a_store_that_is_down_fails_the_whole_group(intake):
    reports = [new_report(intake, f"第{n}号楼楼道灯坏了") for n in range(3)]
    with pytest.raises(BackendUnavailable):
        store_group(intake, reports, store=Counting(intake.store, "write_batch", BackendUnavailable("down")))
    assert intake.store.count(handlers.REPORTS) == 0


def test_a_log_that_is_down_fails_nobody_and_leaves_the_reports_to_the_relay(intake):
    reports = [new_report(intake, f"第{n}号楼楼道灯坏了") for n in range(3)]
    outcomes, marked = store_group(intake, reports, log=Counting(intake.log, "append", BackendUnavailable("down")))
    assert all(isinstance(o, handlers.Accepted) for o in outcomes) and marked == []
    assert handlers.unpublished_count(intake.store) == 3


def test_concurrent_requests_through_the_api_each_get_their_own_answer(intake):
    from services.intake.bootstrap import create_app

    app, key = create_app(intake), auth.issue_api_key(intake.store, "test client")

    def post(n):
        body = {**REPORT, "text": f"第{n % 12}号楼楼道灯坏了"}
        response = app.test_client().post("/api/v1/reports", json=body,
                                          headers={"X-API-Key": key, "Idempotency-Key": f"key-{n % 12}"})
        assert response.status_code == 202, response.get_json()
        return response.status_code, response.get_json()["case_id"], response.headers.get("Idempotent-Replayed")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(36)))
    assert {status for status, _, _ in answers} == {202}
    by_key: dict[int, set] = {}
    for n, (_, case_id, _) in enumerate(answers):
        by_key.setdefault(n % 12, set()).add(case_id)
    assert all(len(cases) == 1 for cases in by_key.values())  # one case per key, whoever came first
    assert sum(replayed == "true" for _, _, replayed in answers) == 24
    assert intake.store.count(handlers.REPORTS) == 12
    assert intake.report_writes.groups_written < 36  # retries too go through a group: requests share writes
    assert sorted(e.subject for e in published(intake)) == sorted(c for cases in by_key.values() for c in cases)
