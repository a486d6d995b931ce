"""kafka-python on its own, for the baseline: produce the records to a fresh topic (acks=all, as the
services' producer), flush, then consume them all with a fresh consumer. The one bench module that
imports ``kafka`` (tests/test_architecture.py knows it as the library's second home)."""
from __future__ import annotations

import time
from typing import Sequence

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from services.bench.baseline import BaselineResult, mean_record_bytes
from shared.events.wire import Message


def measure_kafka(bootstrap: str, messages: Sequence[Message], *, topic: str, partitions: int,
                  read_timeout_s: float = 60.0) -> BaselineResult:
    servers = bootstrap.split(",")
    admin = KafkaAdminClient(bootstrap_servers=servers, client_id="griddesk-bench")
    try:
        admin.create_topics([NewTopic(name=topic, num_partitions=partitions, replication_factor=1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()

    producer = KafkaProducer(bootstrap_servers=servers, client_id="griddesk-bench", acks="all", linger_ms=2)
    try:
        producer.partitions_for(topic)  # metadata first, so the timing is the sending only
        started = time.perf_counter()
        for m in messages:
            producer.send(topic, key=m.key.encode() if m.key else None, value=m.value, headers=list(m.headers))
        producer.flush()
        written = time.perf_counter()
    finally:
        producer.close()

    consumer = KafkaConsumer(topic, bootstrap_servers=servers, client_id="griddesk-bench",
                             group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        consumer.topics()  # connect and fetch metadata before the clock starts
        read, give_up = 0, time.monotonic() + read_timeout_s
        read_started = time.perf_counter()  # includes partition assignment: a slightly low baseline
        while read < len(messages) and time.monotonic() < give_up:
            batch = consumer.poll(timeout_ms=500, max_records=500)
            read += sum(len(records) for records in batch.values())
        finished = time.perf_counter()
    finally:
        consumer.close()
        _delete_topic(servers, topic)
    if read < len(messages):
        raise RuntimeError(f"the Kafka baseline read back {read} of {len(messages)} records")
    return BaselineResult(len(messages), mean_record_bytes(messages), written - started, finished - read_started)


def _delete_topic(servers: list[str], topic: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=servers, client_id="griddesk-bench")
    try:
        admin.delete_topics([topic])
    except KafkaError:
        pass  # a scratch topic left on a shared broker is harmless
    finally:
        admin.close()
