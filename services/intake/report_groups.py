"""Storing the reports in flight together: the write behind a group of 202s (``shared.group_commit``).

A group's new reports are inserted in one ``DocumentStore.write_batch`` (one SQLite transaction, one
MongoDB bulk) and their CaseReported events published in one append, instead of two durable writes per
report. Each report's request still gets exactly what it would have got alone, in arrival order:

- two reports of one group with the same Idempotency-Key: the first is stored, the second is then
  answered as a retry of it (the same case, ``replayed``) or refused (IdempotencyMismatch) — as if it had
  come after the first;
- a report the batch could not store (its key or case id taken meanwhile, e.g. by a retry that reached the
  other HTTP worker): the group is stored report by report, as without grouping, so only that report is
  answered as a retry (or with a new case id) and the others are stored;
- a store that is down fails the whole group (503 for each; nothing was acknowledged); a log that is down
  fails nobody: the reports are stored, and the relay publishes them later.
"""
from __future__ import annotations

import logging
from typing import Callable, Sequence

from shared.errors import BackendUnavailable, Conflict, PoisonMessage
from shared.events.envelope import from_document
from shared.ports import DocumentStore, StoreWrite
from shared.publisher import EventPublisher
from services.intake.metrics import REPORT_GROUP_SIZE
from services.intake.handlers import REPORTS, Accepted, NewReport, accepted, earlier_report, new_report

log = logging.getLogger(__name__)

Outcome = Accepted | Exception


def store_reports(reports: Sequence[NewReport], *, store: DocumentStore, publisher: EventPublisher,
                  secret_key: bytes, mark_published: Callable[[dict], None]) -> list[Outcome]:
    """Store the reports durably (all of them together if none is a retry; else the retries answered and
    the others together again; after a second conflict each on its own), publish the stored ones, and say
    for each what its request answers."""
    REPORT_GROUP_SIZE.observe(len(reports))
    outcomes: list[Outcome | None] = [None] * len(reports)
    leaders, followers = _first_of_each_key(reports)
    stored: list[dict] = []
    try:
        _store_together(reports, leaders, store, stored, outcomes)
    except Conflict:  # a key or a case id is taken: most likely a retry of a stored report
        new = [i for i in leaders if not _answered_from_store(reports[i], i, store, secret_key, stored, outcomes)]
        try:
            _store_together(reports, new, store, stored, outcomes)
        except Conflict:  # taken meanwhile again: each on its own, as without grouping
            for i in new:
                outcomes[i] = _store_alone(reports[i], store, secret_key, stored)
    for i in followers:  # after the first with its key was stored: a retry of it, or a mismatch
        outcomes[i] = _store_alone(reports[i], store, secret_key, stored)
    _publish(stored, publisher, mark_published)
    if stored and log.isEnabledFor(logging.INFO):  # one line per group, not per request: ~5 % of intake's CPU
        log.info("stored %d reports", len(stored),
                 extra={"fields": {"stored": [[d["_id"], d["event"]["correlation_id"]] for d in stored]}})
    return outcomes  # type: ignore[return-value]


def _store_together(reports: Sequence[NewReport], chosen: list[int], store: DocumentStore, stored: list[dict],
                    outcomes: list[Outcome | None]) -> None:
    """The chosen reports in one write (Conflict, and none of them answered, if any is taken)."""
    writes = [StoreWrite("insert", REPORTS, reports[i].document["_id"], {**reports[i].document, "_v": 1})
              for i in chosen]
    store.write_batch(writes)
    for i, write in zip(chosen, writes):
        stored.append(write.document)
        outcomes[i] = accepted(write.document, reports[i].token, replayed=False)


def _answered_from_store(report: NewReport, i: int, store: DocumentStore, secret_key: bytes, stored: list[dict],
                         outcomes: list[Outcome | None]) -> bool:
    """Whether the store already answers this report: its key stored by an earlier request (a retry, or a
    mismatch), or the report itself stored by a refused MongoDB bulk before it stopped."""
    if not report.command.idempotency_key:
        return False
    try:
        earlier = earlier_report(store, report.command, report.fingerprint, secret_key)
    except Exception as error:  # a mismatch, or the store down: this report's answer
        outcomes[i] = error
        return True
    if earlier is None:
        return False
    if earlier.case_id == report.document["_id"]:
        stored.append({**report.document, "_v": 1})
        earlier = accepted(report.document, report.token, replayed=False)
    outcomes[i] = earlier
    return True


def _first_of_each_key(reports: Sequence[NewReport]) -> tuple[list[int], list[int]]:
    """The positions of the first report with each idempotency value, and of the later ones."""
    seen: set[str] = set()
    leaders, followers = [], []
    for i, report in enumerate(reports):
        key = report.document["idempotency"]
        (followers if key in seen else leaders).append(i)
        seen.add(key)
    return leaders, followers


def _store_alone(report: NewReport, store: DocumentStore, secret_key: bytes, stored: list[dict]) -> Outcome:
    """Store one report as a request on its own would; appends it to ``stored`` if it was stored now."""
    command = report.command
    try:
        for _ in range(5):
            if command.idempotency_key:
                earlier = earlier_report(store, command, report.fingerprint, secret_key)  # or a mismatch
                if earlier is not None and earlier.case_id != report.document["_id"]:
                    return earlier  # the key was stored first: by the group's first report with it, or a retry
            try:
                inserted = store.insert(REPORTS, report.document)
            except Conflict:
                if not _holds(store, report.document):
                    # the case id was taken, or the key (which the next round answers): another case id
                    report = new_report(command, report.fingerprint, report.received_at, secret_key)
                    continue
                inserted = {**report.document, "_v": 1}  # a refused MongoDB bulk had stored it before stopping
            stored.append(inserted)
            return accepted(inserted, report.token, replayed=False)
        return RuntimeError("could not allocate a unique case id")
    except Exception as error:  # this report's own failure (a mismatch, the store down): its request's answer
        return error


def _holds(store: DocumentStore, document: dict) -> bool:
    found = store.get(REPORTS, document["_id"])
    return found is not None and found["event"]["id"] == document["event"]["id"]


def _publish(stored: list[dict], publisher: EventPublisher, mark_published: Callable[[dict], None]) -> None:
    """Publish the stored reports' events in one append and have them marked published; if the log is down
    they stay unpublished, for the relay."""
    if not stored:
        return
    try:
        publisher.publish([from_document(d["event"]) for d in stored])
    except (BackendUnavailable, Conflict, PoisonMessage) as error:
        log.warning("%d reports stored; publishing deferred to the relay: %s", len(stored), error)
        return
    for document in stored:
        mark_published(document)
