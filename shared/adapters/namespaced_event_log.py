"""Prefixes every topic and consumer group, so several deployments (or test runs) can share a broker."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from shared.events.wire import Message, Record
from shared.ports import EventLog, Subscription


class NamespacedEventLog:
    def __init__(self, inner: EventLog, prefix: str):
        self._inner = inner
        self._prefix = prefix

    def ensure_topics(self, topics: Iterable[str]) -> None:
        self._inner.ensure_topics([self._prefix + t for t in topics])

    def append(self, topic: str, messages: Sequence[Message]) -> None:
        self._inner.append(self._prefix + topic, messages)

    def subscribe(self, group: str, topics: Sequence[str]) -> Subscription:
        inner = self._inner.subscribe(self._prefix + group, [self._prefix + t for t in topics])
        return _NamespacedSubscription(inner, self._prefix)

    def unconsumed(self, group: str, topics: Sequence[str]) -> int:
        return self._inner.unconsumed(self._prefix + group, [self._prefix + t for t in topics])

    def ping(self) -> None:
        self._inner.ping()

    def close(self) -> None:
        self._inner.close()


class _NamespacedSubscription:
    def __init__(self, inner: Subscription, prefix: str):
        self._inner = inner
        self._prefix = prefix

    def _outer(self, record: Record) -> Record:
        return replace(record, topic=record.topic[len(self._prefix):])

    def _inner_record(self, record: Record) -> Record:
        return replace(record, topic=self._prefix + record.topic)

    def poll(self, timeout_s: float, max_records: int) -> list[Record]:
        return [self._outer(r) for r in self._inner.poll(timeout_s, max_records)]

    def commit(self, records: Sequence[Record]) -> None:
        self._inner.commit([self._inner_record(r) for r in records])

    def rewind(self) -> None:
        self._inner.rewind()

    def lag(self) -> dict[tuple[str, int], int]:
        return {(t[len(self._prefix):], p): n for (t, p), n in self._inner.lag().items()}

    def close(self) -> None:
        self._inner.close()
