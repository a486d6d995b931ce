"""What the router remembers about each case (where it is, its tier, its current owner) and which
events it has reacted to. The effects of a reaction are stored with the new state in one document
write, so a redelivered event gets back exactly the events published the first time (same ids, which
consumers drop) and nothing is decided twice ("interruptions can only cause delays")."""
from __future__ import annotations

from typing import Callable

from shared import json_codec
from shared.errors import BackendUnavailable, Conflict
from shared.events.envelope import Envelope, from_document, to_document
from shared.ports import DocumentStore
from shared.publisher import Publishable

ROUTED_CASES = "router_cases"
KEEP_EFFECTS = 50  # reactions remembered per case; redeliveries come long before that many new events
ATTEMPTS = 5

# record before (None: unknown case) -> (record after, or None to change nothing; events to publish)
Decision = Callable[[dict | None], tuple[dict | None, list[Publishable]]]


def react_once(store: DocumentStore, case_id: str, cause_id: str, decide: Decision) -> tuple[list[Publishable], bool]:
    """The events for this cause, and whether they were decided now (False: remembered from before)."""
    for _ in range(ATTEMPTS):
        record = store.get(ROUTED_CASES, case_id)
        done = json_codec.from_text(record["effects"]) if record else {}
        if cause_id in done:
            return [_decode(item) for item in done[cause_id]], False
        state, outputs = decide(record)
        if state is None:
            return outputs, True
        done[cause_id] = [_encode(item) for item in outputs]
        for stale in list(done)[:-KEEP_EFFECTS]:
            del done[stale]
        document = {**state, "_id": case_id, "effects": json_codec.to_text(done)}
        try:
            if record is None:
                store.insert(ROUTED_CASES, document)
            else:
                store.replace(ROUTED_CASES, {**document, "_v": record["_v"]})
            return outputs, True
        except Conflict:
            continue  # another router instance wrote this case meanwhile: decide again on its state
    raise BackendUnavailable(f"case {case_id}: the routing record kept changing under us")


def dispatched(record: dict | None) -> bool:
    """A case the router dispatched; a merged duplicate has no owner and is never routed again."""
    return record is not None and bool(record.get("owner"))


def state_of(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("_id", "_v", "effects")}


def _encode(item: Publishable) -> dict:
    topic, envelope = item if isinstance(item, tuple) else (None, item)
    return {"topic": topic, "event": to_document(envelope)}


def _decode(item: dict) -> Publishable:
    envelope: Envelope = from_document(item["event"])
    return (item["topic"], envelope) if item["topic"] else envelope
