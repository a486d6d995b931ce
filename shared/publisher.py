"""Publishing events: check each against its contract, encode it and append it to its topic."""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from shared.events.contracts import topic_of, validated_data
from shared.events.envelope import Envelope
from shared.events.wire import encode
from shared.observability import metrics
from shared.ports import EventLog


class EventPublisher:
    def __init__(self, log: EventLog, service: str):
        self._log = log
        self._service = service

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        by_topic: dict[str, list] = defaultdict(list)
        for envelope in envelopes:
            validated_data(envelope.type, envelope.data)  # a producer never emits what breaks a contract
            by_topic[topic_of(envelope.type)].append(encode(envelope))
        for topic, messages in by_topic.items():
            self._log.append(topic, messages)
        for envelope in envelopes:
            metrics.EVENTS_PUBLISHED.labels(self._service, envelope.type).inc()
