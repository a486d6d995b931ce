"""The transport's own rate for the pipeline's records: write them all, then read them all back,
with nothing in between — the ceiling the pipeline is compared with.

Embedded: ``SqliteEventLog`` (through the EventLog port, same synchronous level as the services),
appending in batches and reading with a subscription. Kafka: kafka-python itself producing to and
consuming from a fresh topic on the same broker (``services/bench/kafka_baseline.py``)."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from shared.backends import build_event_log
from shared.config import BackendSettings
from shared.events.wire import Message
from shared.ports import EventLog

BASELINE_TOPIC = "bench.baseline"


@dataclass(frozen=True)
class BaselineResult:
    records: int
    mean_record_bytes: float
    write_s: float
    read_s: float

    @property
    def write_per_s(self) -> float:
        return self.records / self.write_s if self.write_s > 0 else 0.0

    @property
    def read_per_s(self) -> float:
        return self.records / self.read_s if self.read_s > 0 else 0.0

    @property
    def per_s(self) -> float:
        """Records written and read back per second (one record carried once through the log)."""
        total = self.write_s + self.read_s
        return self.records / total if total > 0 else 0.0


def record_bytes(message: Message) -> int:
    return (len(message.value) + len((message.key or "").encode())
            + sum(len(name) + len(value) for name, value in message.headers))


def mean_record_bytes(messages: Sequence[Message]) -> float:
    return sum(map(record_bytes, messages)) / len(messages) if messages else 0.0


def batches(messages: Sequence[Message], size: int):
    for start in range(0, len(messages), size):
        yield messages[start:start + size]


def measure_event_log(log: EventLog, messages: Sequence[Message], *, batch_size: int = 100,
                      topic: str = BASELINE_TOPIC, timer: Callable[[], float] = time.perf_counter,
                      read_timeout_s: float = 60.0) -> BaselineResult:
    """Append ``messages`` in batches to a topic of ``log``, then read them back with a new group."""
    log.ensure_topics([topic])
    started = timer()
    for batch in batches(messages, batch_size):
        log.append(topic, list(batch))
    written = timer()
    subscription = log.subscribe(f"bench-baseline-{uuid.uuid4().hex[:8]}", [topic])
    try:
        read, give_up = 0, time.monotonic() + read_timeout_s
        read_started = timer()
        while read < len(messages) and time.monotonic() < give_up:
            read += len(subscription.poll(0.5, 500))
        finished = timer()
    finally:
        subscription.close()
    if read < len(messages):
        raise RuntimeError(f"the baseline read back {read} of {len(messages)} records")
    return BaselineResult(len(messages), mean_record_bytes(messages), written - started, finished - read_started)


def measure_transport(settings: BackendSettings, messages: Sequence[Message], scratch_dir: Path,
                      *, batch_size: int = 100) -> BaselineResult:
    if settings.backend == "kafka":
        from services.bench.kafka_baseline import measure_kafka

        return measure_kafka(settings.kafka_bootstrap, messages, topic=f"{settings.namespace}{BASELINE_TOPIC}",
                             partitions=settings.kafka_partitions)
    scratch = BackendSettings(backend="embedded", data_dir=str(scratch_dir),
                              sqlite_synchronous=settings.sqlite_synchronous)
    scratch_dir.mkdir(parents=True, exist_ok=True)
    log = build_event_log(scratch)
    try:
        return measure_event_log(log, messages, batch_size=batch_size)
    finally:
        log.close()
