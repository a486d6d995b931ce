"""Publishing events: check each against its contract, encode it and append it to its topic.

An item is an envelope (published on its producer's topic) or a ``(topic, envelope)`` pair, for a
copy on an extra topic such as a department's ``assignments.<department>``."""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence, Union

from shared.events.contracts import topic_of, validated_data
from shared.events.envelope import Envelope
from shared.events.wire import encode
from shared.observability import metrics
from shared.ports import EventLog

Publishable = Union[Envelope, tuple[str, Envelope]]


def envelope_of(item: Publishable) -> Envelope:
    return item[1] if isinstance(item, tuple) else item


class EventPublisher:
    def __init__(self, log: EventLog, service: str):
        self._log = log
        self._service = service

    def publish(self, items: Sequence[Publishable]) -> None:
        by_topic: dict[str, list] = defaultdict(list)
        envelopes = []
        for item in items:
            topic, envelope = item if isinstance(item, tuple) else (topic_of(item.type), item)
            validated_data(envelope.type, envelope.data)  # a producer never emits what breaks a contract
            by_topic[topic].append(encode(envelope))
            envelopes.append(envelope)
        for topic, messages in by_topic.items():
            self._log.append(topic, messages)
        for envelope in envelopes:
            metrics.labelled(metrics.EVENTS_PUBLISHED, self._service, envelope.type).inc()
