"""Rebuild every tracker projection (cases, indicator buckets) from the event log.

The projections are wiped, then every topic is read from its beginning by a fresh consumer group (a
new group starts at the earliest position on both backends) and each event goes through the same
``project_case`` as live. Stop the tracker's worker first: it would write into the projections while
they are rebuilt. The live group's committed positions are left alone.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Callable

from shared.errors import PoisonMessage
from shared.events.contracts import ALL_TOPICS, validated_data
from shared.events.wire import decode
from services.tracker import handlers
from services.tracker.bootstrap import Tracker

Progress = Callable[[int, int], None]  # (records handled in this step, records known so far)


def wipe_projections(tracker: Tracker, batch: int = 1000) -> int:
    removed = 0
    for collection in handlers.TRACKER_COLLECTIONS:
        while True:
            documents = tracker.store.find(collection, limit=batch)
            if not documents:
                break
            removed += sum(tracker.store.delete(collection, d["_id"]) for d in documents)
    return removed


def rebuild(tracker: Tracker, progress: Progress = lambda step, total: None, *, batch_size: int = 500,
            idle_polls: int = 3) -> dict[str, int]:
    """Wipe and re-project; returns counts of events projected and records skipped as undecodable."""
    wipe_projections(tracker)
    handlers.prepare_store(tracker.store)
    subscription = tracker.log.subscribe(f"tracker-replay-{uuid.uuid4().hex[:12]}", list(ALL_TOPICS))
    reactions = handlers.reactions(tracker.store, tracker.policy)
    projected = skipped = idle = 0
    try:
        while idle < idle_polls:
            records = subscription.poll(1.0, batch_size)
            if not records:
                idle = idle + 1 if not sum(subscription.lag().values()) else 0
                continue
            idle = 0
            for record in records:
                try:
                    event = decode(record.message)
                    reaction = reactions.get(event.type)
                    if reaction is not None:
                        reaction(replace(event, data=validated_data(event.type, event.data)))
                        projected += 1
                except PoisonMessage:
                    skipped += 1  # the live consumer dead-lettered it too
            subscription.commit(records)
            progress(len(records), projected + skipped + sum(subscription.lag().values()))
    finally:
        subscription.close()
    return {"projected": projected, "skipped": skipped}
