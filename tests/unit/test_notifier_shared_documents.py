"""The notifier reads and writes what it knows of a case, and inserts its deliveries, without the unit of
work's copies (``shared=True``, ``handed_over=True``): its reactions must never change such a document. A
full case path, reacted to inside consume-loop batches, holds them to it."""
from __future__ import annotations

from datetime import timedelta

from shared.adapters.sqlite_store import SqliteStore
from shared.events.envelope import Envelope
from shared.org.demo import demo_registry
from shared.org.directory import OrgDirectory
from shared.org.registry import import_registry
from services.notifier import handlers
from services.notifier.planning import NotifierDeps
from services.notifier.routing import Routing
from tests.promise_checking_store import PromiseCheckingStore
from tests.unit.test_notifier_planning import NIGHT, WORKER, Clock, Recording, assignment, event


def test_no_reaction_changes_a_document_it_was_handed_without_a_copy(tmp_path):
    store = PromiseCheckingStore(SqliteStore(str(tmp_path / "store.sqlite"), synchronous="OFF"))
    handlers.prepare_store(store)
    import_registry(store, demo_registry(communities=1))
    deps = NotifierDeps(store=store, clock=Clock(NIGHT - timedelta(hours=10)), public_url="http://t",
                        routing=Routing(), senders={name: Recording(name) for name in ("inbox", "sms", "email")},
                        directory=OrgDirectory(store))
    reported, assigned = assignment("GD-P1", tier="emergency")
    duplicate = event("CaseReported", "GD-P2", {"reporter": {"name": "李四", "phone": "13900002222"}})
    path = [reported, assigned, duplicate,
            Envelope("DuplicateLinked", "/griddesk/router", "GD-P1", {"duplicate_case_id": "GD-P2", "match": "unit",
                                                                     "reason": "r"}),
            event("SlaWarning", "GD-P1", {"assignment_id": "GD-P1/a1", "deadline": "accept",
                                          "due": "2026-11-30T10:00:00+08:00", "level": "grid"}),
            event("SlaBreached", "GD-P1", {"assignment_id": "GD-P1/a1", "deadline": "resolve",
                                           "due": "2026-11-30T10:00:00+08:00", "level": "grid"}),
            event("CaseEscalated", "GD-P1", {"from_level": "grid", "to_level": "community", "reason": "超时未受理",
                                             "assignment_id": "GD-P1/a1"}),
            event("CaseResolved", "GD-P1", {"by": WORKER}),
            event("CaseClosed", "GD-P1", {"by": WORKER})]
    table = handlers.reactions(deps)
    for batch in (path[:3], path[3:6], path[6:]):  # a document read in one batch is handed out again in the next
        with store.batch():
            for e in batch:
                if e.type in table:
                    table[e.type](e)
    assert store.handed_out > 10
    assert store.broken_promises() == []
