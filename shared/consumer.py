"""The consume loop every service's worker runs.

For each batch: decode every record, react to the events this service handles, store what the
reactions wrote (one unit of work per batch when the store is a ``BatchingStore``, as
``shared.backends`` builds it: one transaction or bulk write instead of one per write), publish what the
reactions produced, then commit the batch's positions. A crash at any point therefore re-delivers,
never skips; reactions are idempotent (derived event ids, compare-and-set writes), so re-delivery only
repeats work. A record that can never be handled goes to ``deadletter.<group>`` with the error and its
origin, and the partition keeps flowing. When a backend is down the batch is retried with backoff;
after ``max_attempts`` the loop stops loudly (raises) instead of skipping anything. When the batch's
writes are refused at flush because a document changed meanwhile (``StaleBatch``), the batch is redone
at once: as a batch again (``BATCHED_ATTEMPTS`` in all), then write by write without a unit of work, so
the reactions' own conflict handling decides.
"""
from __future__ import annotations

import logging
import random
import time
import traceback
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Callable, ContextManager, Mapping, Sequence

from shared.errors import BackendUnavailable, PoisonMessage, StaleBatch
from shared.events.contracts import dead_letter_topic, validated_data
from shared.events.envelope import Envelope
from shared.events.wire import Message, Record, decode, event_type
from shared.observability import metrics
from shared.observability.logs import log_context
from shared.ports import DocumentStore, EventLog, Subscription
from shared.process import StopFlag
from shared.publisher import EventPublisher, Publishable, envelope_of
from shared.unit_of_work import BATCHED_ATTEMPTS, BatchingStore

log = logging.getLogger(__name__)

Reaction = Callable[[Envelope], Sequence[Publishable]]  # an envelope, or (extra topic, envelope)


@dataclass
class ConsumeLoop:
    log: EventLog
    service: str
    group: str
    topics: Sequence[str]
    reactions: Mapping[str, Reaction]
    batch_size: int = 200
    poll_timeout_s: float = 0.5
    max_attempts: int = 8
    backoff_s: float = 0.5
    lag_interval_s: float = 5.0
    store: DocumentStore | None = None  # the reactions' store: its writes are batched per poll if it can
    after_batch: Callable[[], None] | None = None  # called once a batch is committed
    # called in the loop's own thread once subscribed (before the first poll) and after every poll, handled
    # or empty: work that must never run while a batch is being written (the tracker's bucket pass). It
    # paces itself and handles what it can; what it raises stops the loop, like a backend that stays down
    between_polls: Callable[[], None] | None = None

    def run(self, stop: StopFlag | None = None, *, max_idle_polls: int | None = None) -> None:
        """Consume until ``stop`` is set; with ``max_idle_polls`` also return after that many empty polls."""
        stop = stop or StopFlag()
        publisher = EventPublisher(self.log, self.service)
        subscription = self.log.subscribe(self.group, self.topics)
        idle = 0
        next_lag_report = 0.0
        try:
            if self.between_polls is not None:
                self.between_polls()
            while not stop.is_set():
                records = subscription.poll(self.poll_timeout_s, self.batch_size)
                if records:
                    idle = 0
                    self._handle_with_retries(subscription, publisher, records)
                else:
                    idle += 1
                    if max_idle_polls is not None and idle >= max_idle_polls:
                        return
                if self.between_polls is not None:
                    self.between_polls()
                if time.monotonic() >= next_lag_report:
                    self._report_lag(subscription)
                    next_lag_report = time.monotonic() + self.lag_interval_s
        finally:
            subscription.close()

    def _handle_with_retries(self, subscription: Subscription, publisher: EventPublisher,
                             records: list[Record]) -> None:
        batched, stale = True, 0
        for attempt in range(1, self.max_attempts + 1):
            try:
                dead_letters: list[Message] = []
                handled: list[tuple[str, str, str]] = []  # (case id, correlation id, event type), for the log
                with self._unit_of_work(batched):  # the writes are stored when the block ends
                    outputs = [out for record in records for out in self._react(record, dead_letters, handled)]
                publisher.publish(outputs)
                if dead_letters:  # written with the batch, so a retried batch does not write them twice
                    self.log.append(dead_letter_topic(self.group), dead_letters)
                subscription.commit(records)
                _log_batch(records, outputs, handled)
                if self.after_batch is not None:
                    self.after_batch()
                return
            except StaleBatch as error:
                stale += 1
                batched = stale < BATCHED_ATTEMPTS
                log.info("a batch's writes went stale (%s); redoing it %s", error,
                         "as a batch" if batched else "write by write")
                metrics.STALE_BATCHES.labels(self.service).inc()
            except BackendUnavailable as error:
                if attempt == self.max_attempts:
                    log.critical("backend still unavailable after %d attempts; stopping", attempt)
                    raise
                pause = self.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random())
                log.warning("backend unavailable (%s); retrying batch in %.1fs", error, pause)
                time.sleep(pause)
            subscription.rewind()
            records = subscription.poll(self.poll_timeout_s, self.batch_size) or records
        raise BackendUnavailable(f"batch not handled after {self.max_attempts} attempts")

    def _unit_of_work(self, batched: bool) -> ContextManager:
        if batched and isinstance(self.store, BatchingStore):
            return self.store.batch()
        return nullcontext()

    def _react(self, record: Record, dead_letters: list[Message],
               handled: list[tuple[str, str, str]]) -> Sequence[Publishable]:
        started = time.perf_counter()
        named = event_type(record.message)
        if named is not None and named not in self.reactions:  # not ours to handle: no need to decode it
            metrics.labelled(metrics.EVENTS_CONSUMED, self.service, named, "ignored").inc()
            return []
        try:
            envelope = decode(record.message)
        except PoisonMessage as error:
            dead_letters.append(self._dead_letter(record, str(error), "undecodable"))
            return []
        reaction = self.reactions.get(envelope.type)
        if reaction is None:
            metrics.labelled(metrics.EVENTS_CONSUMED, self.service, envelope.type, "ignored").inc()
            return []
        with log_context(case_id=envelope.subject, correlation_id=envelope.correlation_id,
                         event_id=envelope.id, event_type=envelope.type):
            try:
                # reactions see the data as the contract loads it, defaults included
                outputs = reaction(replace(envelope, data=validated_data(envelope.type, envelope.data)))
            except (BackendUnavailable, StaleBatch):
                raise  # the whole batch is retried
            except PoisonMessage as error:
                dead_letters.append(self._dead_letter(record, str(error), envelope.type))
                return []
            except Exception as error:  # a reaction that fails for this event will fail every time
                log.exception("reaction to %s failed; dead-lettering it", envelope.type)
                dead_letters.append(self._dead_letter(
                    record, f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}", envelope.type))
                return []
            metrics.labelled(metrics.EVENTS_CONSUMED, self.service, envelope.type, "processed").inc()
            handled.append((envelope.subject, envelope.correlation_id, envelope.type))
            if log.isEnabledFor(logging.DEBUG):  # one line per event: ~7 % of a worker's CPU, so not at INFO
                log.debug("handled %s from %s", envelope.type, record.origin,
                          extra={"fields": {"caused": [f"{e.type}:{e.id}" for e in map(envelope_of, outputs)]}})
            metrics.labelled(metrics.HANDLING_LATENCY, self.service, envelope.type).observe(time.perf_counter() - started)
            return outputs

    def _dead_letter(self, record: Record, error: str, event_type: str) -> Message:
        log.error("dead-lettering %s: %s", record.origin, error.splitlines()[0] if error else "")
        headers = record.message.headers + (
            ("dlq_error", error.encode()), ("dlq_origin", record.origin.encode()),
            ("dlq_group", self.group.encode()))
        metrics.labelled(metrics.EVENTS_CONSUMED, self.service, event_type, "dead_lettered").inc()
        return Message(key=record.message.key, headers=headers, value=record.message.value)

    def _report_lag(self, subscription: Subscription) -> None:
        try:
            for (topic, partition), lag in subscription.lag().items():
                metrics.CONSUMER_LAG.labels(self.service, topic, str(partition)).set(lag)
        except Exception as error:  # lag is for dashboards; never let it stop consumption
            log.warning("could not measure consumer lag: %s", error)


def _log_batch(records: Sequence[Record], outputs: Sequence[Publishable],
               handled: Sequence[tuple[str, str, str]]) -> None:
    """One line per stored batch at INFO: the records by type, where they came from, the events published,
    and each event handled as ``[case id, correlation id, type]`` — so ``grep`` on a correlation id still
    finds the case in every service's log, at a fraction of a line per event's cost (that line, with the
    event's id and what it caused, is at DEBUG: ``GRIDDESK_LOG_LEVEL=debug``)."""
    if log.isEnabledFor(logging.INFO):
        by_type = Counter(event_type(record.message) or "unknown" for record in records)
        log.info("handled %d records from %s to %s", len(records), records[0].origin, records[-1].origin,
                 extra={"fields": {"records_by_type": dict(by_type), "published": len(outputs),
                                   "handled": [list(event) for event in handled]}})
