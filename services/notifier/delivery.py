"""The delivery step the notifier's worker runs every ``delivery_interval_s`` (and tests call directly).

Each run: publish outcomes still in an outbox; mark sends interrupted by a crash; plan due emergency
repeats; then send every due delivery. A delivery is claimed (state ``sending``, compare-and-set) in
the store BEFORE the channel is called and resolved after, together with the event announcing the
outcome (an outbox on the document, published right after and again by the next run if that failed).
Deliveries held in quiet hours for the same person and channel go out as one digest.

A crash between claim and resolution leaves the delivery ``sending``; once ``send_lease_s`` has passed
it becomes ``uncertain``: the channel may or may not have taken it, so it is NOT sent again (at most
once) but dead-lettered with NotificationFailed(final) for an operator to check.
"""
from __future__ import annotations

import logging
import random
from collections import defaultdict
from datetime import timedelta
from typing import Callable

from shared.errors import Conflict
from shared.events.envelope import Envelope, derived_id, from_document, to_document
from shared.ports import DocumentStore
from shared.publisher import EventPublisher
from shared.unit_of_work import replace_all
from services.notifier import emergencies, messages, metrics
from services.notifier.channels import ChannelError, Outgoing
from services.notifier.domain import (DEAD_LETTER_STATES, DEAD_LETTERED, DUE_STATES, FAILED, RETRY, SENDING,
                                      SENT, UNCERTAIN, stamp)
from services.notifier.planning import NOTIFICATIONS, Cause, NotifierDeps, store_delivery

log = logging.getLogger(__name__)
SOURCE = "/griddesk/notifier"


class DeliveryStep:
    def __init__(self, deps: NotifierDeps, publisher: EventPublisher, *, batch: int = 100,
                 draw: Callable[[], float] = random.random):
        self.deps, self.publisher, self.batch, self.draw = deps, publisher, batch, draw

    def run_once(self) -> int:
        """One pass; the number of deliveries attempted."""
        self.flush_outboxes()
        self.mark_interrupted()
        emergencies.repeat_due_alerts(self.deps)
        now = stamp(self.deps.clock.now())
        due = _due_deliveries(self.deps.store, now, self.batch)
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for delivery in due:
            key = (delivery["recipient"]["id"], delivery["channel"]) if delivery["held"] else (delivery["_id"],)
            groups[key].append(delivery)
        stored = self.deliver_stored([g for g in groups.values() if self._store_only(g)])
        for group in groups.values():
            if not self._store_only(group):
                self.deliver(group)
        self._empty_outboxes(stored)  # as written: no need to read them back
        self.flush_outboxes()
        self.report_dead_letters()
        return len(due)

    def _store_only(self, group: list[dict]) -> bool:
        return getattr(self.deps.senders.get(group[0]["channel"]), "store_only", False)

    def deliver_stored(self, groups: list[list[dict]]) -> list[dict]:
        """Deliver messages that never leave the store (the inbox): nothing leaves it, so no claim is
        needed, and one write delivers each — all of them written together (one transaction or bulk);
        if one was delivered by another worker meanwhile, the rest are written one by one. The
        deliveries as stored, their outcomes in their outboxes."""
        deliveries = [{**d, "attempts": d["attempts"] + 1} for group in groups for d in group]
        if not deliveries:
            return []
        resolved = [self._sent_state(d, digest_of=1) for d in deliveries]
        stored = replace_all(self.deps.store, NOTIFICATIONS, resolved)  # not those another worker sent
        for delivery in stored:
            metrics.NOTIFICATIONS.labels(delivery["channel"], "sent").inc()
        return stored

    def deliver(self, group: list[dict]) -> None:
        if self._store_only(group):
            self.deliver_stored([group])
            return
        claimed = [c for c in (self._claim(d) for d in group) if c is not None]
        if not claimed:
            return
        first = claimed[0]
        if len(claimed) == 1:
            subject, text = first["subject"], first["message"]
        else:
            subject, text = messages.quiet_digest(self.deps.routing.language, [d["message"] for d in claimed])
        outgoing = Outgoing(notification_id=first["_id"], recipient=first["recipient"], subject=subject, text=text,
                            urgent=first["urgent"], case_id=first["case_id"],
                            facts={"event_type": first["about_event_type"], "event_id": first["about_event_id"],
                                   "link": first["facts"].get("link", "")})
        sender = self.deps.senders.get(first["channel"])
        try:
            if sender is None:
                raise ChannelError(f"channel {first['channel']} is not configured any more")
            sender.send(outgoing)
        except ChannelError as error:
            for delivery in claimed:
                self._failed(delivery, str(error))
            return
        except Exception as error:  # a bug in an adapter must not stop the worker; treat it as a failure
            log.exception("channel %s raised unexpectedly", first["channel"])
            for delivery in claimed:
                self._failed(delivery, f"{type(error).__name__}: {error}")
            return
        for delivery in claimed:
            self._sent(delivery, digest_of=len(claimed))

    def _claim(self, delivery: dict) -> dict | None:
        now = self.deps.clock.now()
        try:
            return self.deps.store.replace(NOTIFICATIONS, {**delivery, "state": SENDING, "sending_since": stamp(now),
                                                           "attempts": delivery["attempts"] + 1})
        except Conflict:
            return None  # another worker took it

    def _sent(self, delivery: dict, *, digest_of: int) -> None:
        self.deps.store.replace(NOTIFICATIONS, self._sent_state(delivery, digest_of=digest_of))
        metrics.NOTIFICATIONS.labels(delivery["channel"], "sent").inc()

    def _sent_state(self, delivery: dict, *, digest_of: int) -> dict:
        now = self.deps.clock.now()
        announce = self._event(delivery, "NotificationSent", {
            "notification_id": delivery["_id"], "recipient": delivery["recipient"], "channel": delivery["channel"],
            "message": delivery["message"], "about_event_id": delivery["about_event_id"],
            "attempts": delivery["attempts"]})
        return _resolved(delivery, {"state": SENT, "sent_at": stamp(now), "error": "", "digest_of": digest_of},
                         announce)

    def _failed(self, delivery: dict, error: str) -> None:
        now = self.deps.clock.now()
        policy = self.deps.retry
        if delivery["attempts"] < policy.attempts:
            pause = policy.delay_s(delivery["attempts"], self.draw())
            self._resolve(delivery, {"state": RETRY, "error": error,
                                     "next_attempt_at": stamp(now + timedelta(seconds=pause))}, None)
            metrics.NOTIFICATIONS.labels(delivery["channel"], "retried").inc()
            return
        fallback = self._plan_fallback(delivery)
        final = fallback is None
        announce = self._event(delivery, "NotificationFailed", {
            "notification_id": delivery["_id"], "recipient": delivery["recipient"], "channel": delivery["channel"],
            "error": error[:500], "attempts": delivery["attempts"], "about_event_id": delivery["about_event_id"],
            "final": final})
        self._resolve(delivery, {"state": DEAD_LETTERED if final else FAILED, "error": error,
                                 "fallback_id": fallback or ""}, announce)
        metrics.NOTIFICATIONS.labels(delivery["channel"], "dead_lettered" if final else "failed").inc()

    def _plan_fallback(self, delivery: dict) -> str | None:
        """The next channel of the chain that the person can be reached on and that was not used for this
        message yet (its delivery id is then new); None when there is none left."""
        remaining = list(delivery["fallback"])
        cause = Cause(basis=delivery["basis"], about_event_id=delivery["about_event_id"],
                      about_event_type=delivery["about_event_type"], case_id=delivery["case_id"],
                      correlation_id=delivery["correlation_id"], case_org=delivery["case_org"])
        while remaining:
            channel = remaining.pop(0)
            sender = self.deps.senders.get(channel)
            if sender is None or not sender.can_reach(delivery["recipient"]):
                continue
            created = store_delivery(self.deps, cause, delivery["recipient"], delivery["kind"], delivery["facts"],
                                     channel, remaining, urgent=delivery["urgent"], repeat=delivery["repeat"])
            if created is not None:
                return created
        return None

    def _event(self, delivery: dict, type: str, data: dict) -> Envelope | None:
        if not delivery["case_id"]:
            return None  # scheduled messages concern no case, and every event's subject is a case
        return Envelope(type=type, source=SOURCE, subject=delivery["case_id"], data=data,
                        id=derived_id(delivery["_id"], type), time=self.deps.clock.now(),
                        correlation_id=delivery["correlation_id"], causation_id=delivery["about_event_id"])

    def _resolve(self, delivery: dict, change: dict, announce: Envelope | None) -> None:
        self.deps.store.replace(NOTIFICATIONS, _resolved(delivery, change, announce))

    def flush_outboxes(self) -> None:
        """Publish the outcomes waiting in outboxes (in one append per topic), then empty the outboxes
        (in one batch write). A crash or a conflict in between publishes some again later: the event ids
        are the same, so consumers drop the repeats."""
        self._empty_outboxes(self.deps.store.find(NOTIFICATIONS, {"outbox_pending": True}, limit=self.batch))

    def _empty_outboxes(self, deliveries: list[dict]) -> None:
        """``flush_outboxes`` for deliveries at hand, each as stored (its ``_v``): those just resolved are
        published without reading them back (if emptying one conflicts, the next flush publishes it again)."""
        pending = [delivery for delivery in deliveries if delivery["outbox_pending"]]
        if not pending:
            return
        self.publisher.publish([from_document(d) for delivery in pending for d in delivery["outbox"]])
        replace_all(self.deps.store, NOTIFICATIONS,
                    [{**delivery, "outbox": [], "outbox_pending": False} for delivery in pending])

    def mark_interrupted(self) -> None:
        cutoff = stamp(self.deps.clock.now() - timedelta(seconds=self.deps.send_lease_s))
        for delivery in self.deps.store.find(NOTIFICATIONS, {"state": SENDING, "sending_since": {"$lt": cutoff}},
                                             limit=self.batch):
            log.error("delivery %s was interrupted mid-send; not resending it (at most once)", delivery["_id"])
            announce = self._event(delivery, "NotificationFailed", {
                "notification_id": delivery["_id"], "recipient": delivery["recipient"],
                "channel": delivery["channel"], "attempts": delivery["attempts"],
                "error": "interrupted while sending: the outcome is unknown, so it is not sent again",
                "about_event_id": delivery["about_event_id"], "final": True})
            try:
                self._resolve(delivery, {"state": UNCERTAIN, "error": "interrupted while sending"}, announce)
            except Conflict:
                continue
            metrics.NOTIFICATIONS.labels(delivery["channel"], "dead_lettered").inc()

    def report_dead_letters(self) -> int:
        count = sum(self.deps.store.count(NOTIFICATIONS, {"state": state}) for state in DEAD_LETTER_STATES)
        metrics.DEAD_LETTERS.set(count)
        return count


# The delivery loop asks for notifications by state with one equality per state rather than one
# {"$in": [...]}: a MongoDB serves both from the state index, but FerretDB v1 (the local test backend)
# pushes only equality down to its storage and tests an $in in Go against every notification ever stored,
# twice per pass (deploy/local/README.md, "Lookup indexes").
def _due_deliveries(store: DocumentStore, now: str, limit: int) -> list[dict]:
    found = [delivery for state in DUE_STATES
             for delivery in store.find(NOTIFICATIONS, {"state": state, "next_attempt_at": {"$lte": now}},
                                        sort=[("next_attempt_at", 1)], limit=limit)]
    return sorted(found, key=lambda d: (d["next_attempt_at"], d["_id"]))[:limit]


def _resolved(delivery: dict, change: dict, announce: Envelope | None) -> dict:
    outbox = [to_document(announce)] if announce is not None else []
    return {**delivery, **change, "outbox": outbox, "outbox_pending": bool(outbox)}

