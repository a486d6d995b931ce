"""The tracker's reactions: every case event is folded into the case's document, and the change in the
case's contribution to the indicators is added to the indicator buckets."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Callable

from shared.errors import BackendUnavailable, Conflict
from shared.events.envelope import Envelope, to_document
from shared.ports import Clock, DocumentStore
from shared.publisher import EventPublisher
from services.tracker import domain, indicators, metrics
from services.tracker.sla import SlaPolicy, sla_event

log = logging.getLogger(__name__)

CASES = "cases"
BUCKETS = "indicator_buckets"
TRACKER_COLLECTIONS = (CASES, BUCKETS)
# few indexes: FerretDB updates every one of them on each write of a case
CASE_INDEXES = (["reported_at"], ["state"], ["next_sla_check"], ["has_pending"], ["breaches_open_count"], ["owner.id"],
                ["org.street"], ["org.community"], ["org.grid"], ["org.unit"])
BUCKET_INDEXES = (["scope", "day"],)
# A bucket remembers, for each of the last APPLIED_WINDOW cases whose changes it took, the number of the
# case's latest change it took (a case's changes are numbered in the order they were projected and are
# added in that order), so a change repeated after a crash between a pass's bucket and case writes counts
# once. The repeat comes in the very next pass of the same cases, so the window must hold one pass's cases.
APPLIED_WINDOW = 300
BUCKET_PASS_CASES = 200  # cases a bucket pass takes at most (the worker's passes, docs/indicators.md)
ATTEMPTS = 50


def prepare_store(store: DocumentStore) -> None:
    for fields in CASE_INDEXES:
        store.ensure_index(CASES, fields)
    for fields in BUCKET_INDEXES:
        store.ensure_index(BUCKETS, fields)


def project_case(event: Envelope, store: DocumentStore, policy: SlaPolicy) -> list[Envelope]:
    """Fold the event into its case. The event id, the case's new indicator facts and the pending bucket
    change are recorded in one compare-and-set write, so a redelivered event changes nothing. The
    buckets are brought up to date off this path, by ``add_pending_to_buckets`` (the worker's bucket
    pass, between two polls of the same loop), so projecting an event costs one read and one write."""
    document = to_document(event)
    for _ in range(ATTEMPTS):
        # shared: the fold builds a new case and never changes the one it read (test_case_projection)
        case = store.get(CASES, event.subject, shared=True)
        if case is not None and domain.already_applied(case, event.id):
            return []
        before = case or domain.new_case(event.subject)
        if domain.only_in_timeline(before, document):  # facts, deadlines and breaches as they were
            after, deltas = domain.apply(before, document), {}
        else:
            after = refreshed(domain.apply(before, document), policy)
            deltas = indicators.deltas(before.get("facts") or _no_facts(), after["facts"])
        if deltas:
            change = {"id": f"{event.subject}#{len(after['event_ids'])}", "deltas": deltas}
            after["pending"] = [*(before.get("pending") or []), change]
        after["has_pending"] = bool(after.get("pending"))
        try:
            # handed over: ``after`` and what it shares with ``before`` (a private copy) are never changed again
            if case is None:
                store.insert(CASES, after, handed_over=True)
            else:
                store.replace(CASES, after, handed_over=True)
            return []
        except Conflict:
            continue
    # Contention, not a bad event: retry the batch (never dead-letter a case's event for being busy).
    raise BackendUnavailable(f"case {event.subject} kept changing while projecting {event.id}")


def refreshed(case: dict, policy: SlaPolicy) -> dict:
    """The derived fields every write keeps current: facts, the next SLA check, open breaches."""
    case["facts"] = indicators.facts(case)
    case["next_sla_check"] = policy.next_check(case)
    case["breaches_open_count"] = len(case.get("breaches_open") or [])
    return case


def _no_facts() -> dict:
    return {"counts": {}, "minutes": None, "keys": []}


Change = tuple[dict, str]  # (what to add to one bucket, the id of the case's change it comes from)


def add_pending_to_buckets(store: DocumentStore, *, batch: int = 500) -> int:
    """Add the cases' pending changes to the indicator buckets, then clear them (the worker's bucket pass,
    in its consume loop's thread; tests call it before reading indicators). Each bucket remembers the
    latest change it took of each recent case, so a change repeated after a crash between the two steps
    counts once. Every bucket is read and written once per pass with all its changes, in the cases' order
    (a hot bucket, the whole deployment's of the day, takes a change of nearly every case), and before
    the cases it clears. Returns the cases done."""
    cases = store.find(CASES, {"has_pending": True}, sort=[("_id", 1)], limit=batch)
    by_bucket: dict[str, list[Change]] = {}
    for case in cases:
        for change in case.get("pending") or []:
            for key, delta in change["deltas"].items():
                by_bucket.setdefault(key, []).append((delta, change["id"]))
    for key, changes in by_bucket.items():
        add_to_bucket(store, key, changes)
    for case in cases:
        _clear_pending(store, case, {c["id"] for c in case.get("pending") or []})
    return len(cases)


def _clear_pending(store: DocumentStore, case: dict, flushed: set[str]) -> None:
    for _ in range(ATTEMPTS):
        left = [c for c in case.get("pending") or [] if c["id"] not in flushed]
        try:
            store.replace(CASES, {**case, "pending": left, "has_pending": bool(left)}, handed_over=True)
            return
        except Conflict:
            case = store.get(CASES, case["_id"])
            if case is None:
                return
    raise RuntimeError(f"case {case['_id']} kept changing while clearing its pending changes")


def add_to_bucket(store: DocumentStore, key: str, changes: list[Change]) -> None:
    for _ in range(ATTEMPTS):
        bucket = store.get(BUCKETS, key)
        updated = bucket_with(bucket, key, changes)
        try:
            if bucket is None:
                store.insert(BUCKETS, updated)
            elif updated is not None:
                store.replace(BUCKETS, updated)
            return
        except Conflict:
            continue
    raise RuntimeError(f"indicator bucket {key} kept changing")


def bucket_with(bucket: dict | None, key: str, changes: list[Change]) -> dict | None:
    """The bucket ``key`` (None: not stored yet) with the changes it has not taken yet added in order and
    their ids remembered, at the version it was read at; None when it took all of them already."""
    window = _Window((bucket or {}).get("applied", []))
    counts, minutes = Counter((bucket or {}).get("counts", {})), Counter((bucket or {}).get("minutes", {}))
    for change, change_id in changes:
        if not window.took(change_id):
            counts.update(change["counts"])
            minutes.update(change["minutes"])
            window.remember(change_id)
    if not window.added:
        return None
    base = bucket if bucket is not None else {"_id": key, **indicators.bucket_fields(key)}
    return {**base, "counts": {k: v for k, v in counts.items() if v},
            "minutes": {k: v for k, v in minutes.items() if v}, "applied": window.remembered()}


class _Window:
    """What a bucket remembers of the changes it took (its ``applied`` list): a change counts as taken by
    its id, or for a case's numbered change (``<case>#<n>``) when the bucket remembers a change of that
    case numbered ``n`` or later. Remembering a case's change forgets its earlier ones; the newest
    ``APPLIED_WINDOW`` are kept. The list is searched as one string (a hot bucket's 300 entries take a
    change of nearly every case of a pass), not entry by entry for each change."""

    def __init__(self, applied: list[str]):
        self.applied = applied
        self.text = "\n" + "\n".join(applied) + "\n"
        self.forgotten: set[str] = set()  # entries of ``applied`` a newer change of their case replaced
        self.added: dict[str, str] = {}  # case id (the replay's plain ids: the id itself) -> change id

    def took(self, change_id: str) -> bool:
        case_id, number = _numbered(change_id)
        if case_id is None:
            return change_id in self.added or f"\n{change_id}\n" in self.text
        if case_id in self.added:
            return _numbered(self.added[case_id])[1] >= number
        return any(_numbered(entry)[1] >= number for entry in self._entries(case_id))

    def remember(self, change_id: str) -> None:
        case_id, _ = _numbered(change_id)
        if case_id is not None:
            self.forgotten.update(self._entries(case_id))
        slot = change_id if case_id is None else case_id
        self.added.pop(slot, None)
        self.added[slot] = change_id

    def remembered(self) -> list[str]:
        kept = [entry for entry in self.applied if entry not in self.forgotten] if self.forgotten else self.applied
        return [*kept, *self.added.values()][-APPLIED_WINDOW:]

    def _entries(self, case_id: str) -> list[str]:
        """The entries of ``applied`` of this case (one, unless written before the window held cases)."""
        found, needle = [], f"\n{case_id}#"
        at = self.text.find(needle)
        while at >= 0:
            end = self.text.index("\n", at + 1)
            entry = self.text[at + 1:end]
            if _numbered(entry)[0] == case_id and entry not in self.forgotten:
                found.append(entry)
            at = self.text.find(needle, end)
        return found


def _numbered(change_id: str) -> tuple[str | None, int]:
    """(case id, number) of a case's numbered change id, else (None, 0)."""
    case_id, _, number = change_id.rpartition("#")
    return (case_id, int(number)) if case_id and number.isdigit() else (None, 0)


def mark_sla_published(store: DocumentStore, case_id: str, marks: list[str], policy: SlaPolicy) -> None:
    """Record, with a conditional update on the case, that the sweep published these SLA events."""
    for _ in range(ATTEMPTS):
        case = store.get(CASES, case_id)
        if case is None:
            return
        case["sla_marks"] = sorted(set(case.get("sla_marks") or []) | set(marks))
        case["next_sla_check"] = policy.next_check(case)
        try:
            store.replace(CASES, case)
            return
        except Conflict:
            continue
    raise RuntimeError(f"case {case_id} kept changing while marking its SLA events")


def sweep_deadlines(store: DocumentStore, publisher: EventPublisher, clock: Clock, policy: SlaPolicy,
                    *, batch: int = 500) -> int:
    """The SLA sweep (a timer in the worker): publish every SlaWarning / SlaBreached now due, then mark
    them on the case. Publishing first means a crash repeats an event (same derived id), never loses it."""
    now = clock.now()
    published = 0
    for case in store.find(CASES, {"next_sla_check": {"$lte": now.isoformat()}}, sort=[("next_sla_check", 1)],
                           limit=batch):
        due = sorted((c for c in policy.checkpoints(case) if c["at"] <= now),
                     key=lambda c: (c["at"], c["kind"] != "warning"))
        if due:
            publisher.publish([sla_event(case, c) for c in due])
            published += len(due)
            for checkpoint in due:
                if checkpoint["kind"] == "breach":
                    metrics.count_breach(case, checkpoint["deadline"])
        mark_sla_published(store, case["case_id"], [c["mark"] for c in due], policy)
    if published:
        log.info("SLA sweep published %d events", published)
    return published


def reactions(store: DocumentStore, policy: SlaPolicy) -> dict[str, Callable[[Envelope], list[Envelope]]]:
    """The tracker's whole behaviour at a glance: every event of every producer is projected."""
    project = lambda event: project_case(event, store, policy)  # noqa: E731
    return {
        # intake
        "CaseReported": project,
        "CaseAcknowledged": project,
        "CaseStarted": project,
        "ProgressNoted": project,
        "PartyMembersCalled": project,
        "ArrivedOnSite": project,
        "CaseAwaitingResident": project,
        "CaseResumed": project,
        "ExtensionRequested": project,
        "ExtensionDecided": project,
        "CaseReturned": project,
        "CaseReclassified": project,
        "CaseResolved": project,
        "CaseVerified": project,
        "CaseClosed": project,
        "FeedbackGiven": project,
        "CaseReopened": project,
        "CaseWithdrawn": project,
        "CaseRejected": project,
        "CaseMerged": project,
        # router
        "CaseClassified": project,
        "CaseAssigned": project,
        "CaseInformed": project,
        "CaseEscalated": project,
        "CaseClustered": project,
        "DeliberationRequested": project,
        "DuplicateMerged": project,
        "DuplicateLinked": project,
        # tracker (the SLA sweep's own events)
        "SlaWarning": project,
        "SlaBreached": project,
        # notifier
        "NotificationSent": project,
        "NotificationFailed": project,
    }
