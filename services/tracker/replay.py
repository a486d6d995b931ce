"""Rebuild every tracker projection (cases, indicator buckets) from the event log.

The projections are wiped, then every topic is read from its beginning by a fresh consumer group (a
new group starts at the earliest position on both backends) and each event goes through the same fold
(``domain.apply``) and the same indicator facts as live. Stop the tracker's worker first: it would write into the projections while
they are rebuilt. The live group's committed positions are left alone.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Callable

from shared.errors import Conflict, PoisonMessage
from shared.events.contracts import ALL_TOPICS, validated_data
from shared.events.envelope import to_document
from shared.events.wire import decode
from shared.ports import StoreWrite
from services.tracker import domain, handlers, indicators
from services.tracker.bootstrap import Tracker

Progress = Callable[[int, int], None]  # (records handled in this step, records known so far)
# what is left to read is counted again only now and then: on the embedded log a count walks the rest of
# the log's index, so counting after every batch would make the replay quadratic in the log's length
RECOUNT_EVERY = 20


def wipe_projections(tracker: Tracker, batch: int = 1000) -> int:
    removed = 0
    for collection in handlers.TRACKER_COLLECTIONS:
        while True:
            documents = tracker.store.find(collection, limit=batch)
            if not documents:
                break
            removed += sum(tracker.store.delete(collection, d["_id"]) for d in documents)
    return removed


def progress_lines(say: Callable[[str], None], *, every: int, load: Callable[[], str] | None = None) -> Progress:
    """The replay's progress as a line about every ``every`` events, for logs: a progress bar prints nothing
    when the output is not a terminal, and a long replay's log should show how far it is and how fast."""
    started = time.perf_counter()
    done = 0
    next_line = every

    def progress(step: int, total: int) -> None:
        nonlocal done, next_line
        done += step
        if done >= next_line:
            extra = f", load average {load()}" if load else ""
            say(f"  replayed {done} of {total} events ({done / (time.perf_counter() - started):.0f} events/s{extra})")
            next_line = done + every

    return progress


def rebuild(tracker: Tracker, progress: Progress = lambda step, total: None, *, batch_size: int = 5000,
            idle_polls: int = 60) -> dict[str, int]:
    """Wipe and re-project; returns counts of events projected and records skipped as undecodable.

    Faster than live projection, with the same fold: each batch's events are grouped by case, the
    batch's cases are read in one query and each is written once per batch, and the batch's indicator
    changes are summed in memory and added to each bucket once (nothing else writes meanwhile, so no
    pending changes are needed)."""
    wipe_projections(tracker)
    handlers.prepare_store(tracker.store)
    subscription = tracker.log.subscribe(f"tracker-replay-{uuid.uuid4().hex[:12]}", list(ALL_TOPICS))
    projected = skipped = idle = batches = known = 0  # known: records handled + left to read, when last asked
    try:
        while idle < idle_polls:
            records = subscription.poll(1.0, batch_size)
            if not records:
                lag = subscription.lag()
                if lag and not sum(lag.values()):
                    break  # every partition read to its end
                idle += 1  # no partitions assigned yet (a new Kafka group is joining)
                continue
            by_case: dict[str, list] = defaultdict(list)
            for record in records:
                try:
                    event = decode(record.message)
                    by_case[event.subject].append(replace(event, data=validated_data(event.type, event.data)))
                except PoisonMessage:
                    skipped += 1  # the live consumer dead-lettered it too
            projected += _project_batch(tracker, by_case)
            subscription.commit(records)
            batches += 1
            if projected + skipped >= known or batches % RECOUNT_EVERY == 0:
                known = projected + skipped + sum(subscription.lag().values())
            progress(len(records), known)
    finally:
        subscription.close()
    return {"projected": projected, "skipped": skipped}


def _project_batch(tracker: Tracker, by_case: dict[str, list]) -> int:
    """Fold the batch's events into their cases and add the summed indicator changes to the buckets; every
    case and bucket the batch changed is stored in one ``write_batch`` (one SQLite transaction, one bulk
    per collection on MongoDB). The documents are built as stored (versions included) rather than written
    through ``BatchingStore``, whose private copies of each write took a third of the replay's time."""
    store, batch_deltas, projected, writes = tracker.store, {}, 0, []
    known = {case["_id"]: case for case in store.find(handlers.CASES, {"_id": {"$in": list(by_case)}})}
    for case_id, events in by_case.items():
        stored = known.get(case_id)
        case = stored or domain.new_case(case_id)
        before = case.get("facts") or {"counts": {}, "minutes": None, "keys": []}
        for event in events:
            case = domain.apply(case, to_document(event))
            projected += 1
        case = handlers.refreshed(case, tracker.policy)
        case["pending"], case["has_pending"] = [], False
        for key, change in indicators.deltas(before, case["facts"]).items():
            total = batch_deltas.setdefault(key, {"counts": Counter(), "minutes": Counter()})
            total["counts"].update(change["counts"])
            total["minutes"].update(change["minutes"])
        writes.append(_write(handlers.CASES, stored, case))
    change_id = f"replay-{uuid.uuid4().hex}"
    buckets = {b["_id"]: b for b in store.find(handlers.BUCKETS, {"_id": {"$in": list(batch_deltas)}})}
    for key, change in batch_deltas.items():
        updated = handlers.bucket_with(buckets.get(key), key, [({"counts": dict(change["counts"]),
                                                               "minutes": dict(change["minutes"])}, change_id)])
        if updated is not None:
            writes.append(_write(handlers.BUCKETS, buckets.get(key), updated))
    try:
        store.write_batch(writes)
    except Conflict as error:  # nothing else may write meanwhile
        raise RuntimeError(f"the projections changed while they were rebuilt (is the tracker's worker "
                           f"running?): {error}") from error
    return projected


def _write(collection: str, stored: dict | None, document: dict) -> StoreWrite:
    """Insert ``document``, or replace ``stored`` with it if the version read is still the one stored."""
    if stored is None:
        return StoreWrite("insert", collection, document["_id"], {**document, "_v": 1})
    return StoreWrite("replace", collection, document["_id"], {**document, "_v": stored["_v"] + 1},
                      expected_v=stored["_v"])
