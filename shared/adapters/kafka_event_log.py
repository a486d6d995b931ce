"""The production event log on Apache Kafka (kafka-python).

Topics are created explicitly with a fixed partition count; records are keyed by case id, so all of
a case's events share a partition and keep their order. The producer waits for all in-sync replicas
(acks=all, idempotent). Consumers never auto-commit: offsets are committed only after a batch is
handled, so a crash re-delivers and never skips.
"""
from __future__ import annotations

import logging
from typing import Iterable, Sequence

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from shared.errors import BackendUnavailable
from shared.events.wire import Message, Record

log = logging.getLogger(__name__)


class KafkaEventLog:
    def __init__(self, bootstrap: str, *, partitions: int = 3, replication: int = 1,
                 client_id: str = "griddesk", timeout_s: float = 10.0):
        self._bootstrap = bootstrap.split(",")
        self._partitions = partitions
        self._replication = replication
        self._client_id = client_id
        self._timeout_s = timeout_s
        self._producer: KafkaProducer | None = None
        self._offsets: KafkaConsumer | None = None  # for ``unconsumed``, with the admin client below
        self._offsets_admin: KafkaAdminClient | None = None

    def _admin(self) -> KafkaAdminClient:
        try:
            return KafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=self._client_id,
                                    request_timeout_ms=int(self._timeout_s * 1000))
        except KafkaError as error:
            raise BackendUnavailable(f"Kafka admin: {error}") from error

    def ensure_topics(self, topics: Iterable[str]) -> None:
        admin = self._admin()
        try:
            existing = set(admin.list_topics())
            missing = [NewTopic(name=t, num_partitions=self._partitions, replication_factor=self._replication)
                       for t in topics if t not in existing]
            for topic in missing:  # one by one, so a topic created meanwhile by another process is fine
                try:
                    admin.create_topics([topic])
                except TopicAlreadyExistsError:
                    pass
        except KafkaError as error:
            raise BackendUnavailable(f"Kafka topics: {error}") from error
        finally:
            admin.close()

    def delete_topics(self, prefix: str) -> list[str]:
        """Delete every topic whose name starts with ``prefix`` (a namespace given up); the deleted names."""
        if not prefix:
            raise ValueError("refusing to delete every topic of the broker")
        admin = self._admin()
        try:
            doomed = [t for t in admin.list_topics() if t.startswith(prefix)]
            if doomed:
                admin.delete_topics(doomed, timeout_ms=int(self._timeout_s * 1000))
            return doomed
        except KafkaError as error:
            raise BackendUnavailable(f"Kafka topic deletion: {error}") from error
        finally:
            admin.close()

    def _the_producer(self) -> KafkaProducer:
        if self._producer is None:  # created lazily: never before a server process forks
            try:
                self._producer = KafkaProducer(
                    bootstrap_servers=self._bootstrap, client_id=self._client_id, acks="all",
                    linger_ms=2, max_block_ms=int(self._timeout_s * 1000),
                    request_timeout_ms=int(self._timeout_s * 1000))
            except KafkaError as error:
                raise BackendUnavailable(f"Kafka producer: {error}") from error
        return self._producer

    def append(self, topic: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        producer = self._the_producer()
        try:
            futures = [producer.send(topic, key=m.key.encode() if m.key else None, value=m.value,
                                     headers=list(m.headers)) for m in messages]
            # wait for these records' acknowledgements only (no flush(), which waits for every thread's
            # records): concurrent requests then share the producer's batches (linger_ms) instead of
            # each forcing its own
            for future in futures:
                future.get(timeout=self._timeout_s)
        except KafkaError as error:
            raise BackendUnavailable(f"Kafka append to {topic}: {error}") from error

    def subscribe(self, group: str, topics: Sequence[str]) -> "KafkaSubscription":
        return KafkaSubscription(self._bootstrap, group, list(topics), self._client_id)

    def unconsumed(self, group: str, topics: Sequence[str]) -> int:
        try:
            if self._offsets is None:  # a consumer outside any group, kept for these reads (one thread: the bench's)
                self._offsets = KafkaConsumer(bootstrap_servers=self._bootstrap, client_id=self._client_id,
                                              group_id=None, enable_auto_commit=False)
            partitions = [TopicPartition(topic, partition) for topic in topics
                          for partition in sorted(self._offsets.partitions_for_topic(topic) or ())]
            if not partitions:
                return 0
            ends = self._offsets.end_offsets(partitions)
            starts = self._offsets.beginning_offsets(partitions)
            if self._offsets_admin is None:
                self._offsets_admin = self._admin()
            committed = self._offsets_admin.list_group_offsets({group: partitions}).get(group, {})
        except KafkaError as error:
            raise BackendUnavailable(f"Kafka offsets: {error}") from error
        return sum(max(0, ends[tp] - _position(committed.get(tp), starts[tp])) for tp in partitions)

    def ping(self) -> None:
        self._admin().close()

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self._timeout_s)
            self._producer = None
        if self._offsets is not None:
            self._offsets.close()
            self._offsets = None
        if self._offsets_admin is not None:
            self._offsets_admin.close()
            self._offsets_admin = None


def _position(committed, start: int) -> int:
    """Where a group resumes on a partition: its committed offset, else the beginning (it reads from the
    earliest record, ``auto_offset_reset="earliest"``)."""
    return max(committed.offset, start) if committed is not None and committed.offset >= 0 else start


class KafkaSubscription:
    def __init__(self, bootstrap: list[str], group: str, topics: list[str], client_id: str):
        try:
            self._consumer = KafkaConsumer(
                bootstrap_servers=bootstrap, group_id=group, client_id=client_id,
                enable_auto_commit=False, auto_offset_reset="earliest",
                session_timeout_ms=10000, heartbeat_interval_ms=1000)
        except KafkaError as error:
            raise BackendUnavailable(f"Kafka consumer: {error}") from error
        self._consumer.subscribe(topics)

    def poll(self, timeout_s: float, max_records: int) -> list[Record]:
        try:
            batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        except KafkaError as error:
            raise BackendUnavailable(f"Kafka poll: {error}") from error
        records = []
        for partition_records in batches.values():
            for r in partition_records:
                key = r.key.decode() if r.key is not None else None
                headers = tuple((name, value or b"") for name, value in (r.headers or ()))
                records.append(Record(topic=r.topic, partition=r.partition, offset=r.offset,
                                      message=Message(key=key, headers=headers, value=r.value or b"")))
        return records

    def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, -1), record.offset)
        if not offsets:
            return
        try:
            self._consumer.commit({tp: OffsetAndMetadata(o + 1, "", -1) for tp, o in offsets.items()})
        except KafkaError as error:
            raise BackendUnavailable(f"Kafka commit: {error}") from error

    def rewind(self) -> None:
        for tp in self._consumer.assignment():
            committed = self._consumer.committed(tp)
            if committed is None:
                self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, committed)

    def lag(self) -> dict[tuple[str, int], int]:
        assignment = list(self._consumer.assignment())
        if not assignment:
            return {}
        ends = self._consumer.end_offsets(assignment)
        return {(tp.topic, tp.partition): max(0, ends[tp] - (self._consumer.committed(tp) or 0))
                for tp in assignment}

    def close(self) -> None:
        self._consumer.close()
