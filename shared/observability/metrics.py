"""The Prometheus metric families every service exposes (docs/architecture.md, "Observability").

Works under several gunicorn workers: when PROMETHEUS_MULTIPROC_DIR is set, values are written to
per-process files and ``/metrics`` merges them (prometheus-client's multiprocess mode). The service's
worker process writes into the same directory, so one scrape shows HTTP and consumer metrics together.
"""
from __future__ import annotations

import os

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)
from prometheus_client import multiprocess

HTTP_REQUESTS = Counter(
    "griddesk_http_requests_total", "HTTP requests answered", ["service", "route", "method", "status"])
HTTP_LATENCY = Histogram(
    "griddesk_http_request_duration_seconds", "Time to answer an HTTP request", ["service", "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS_CONSUMED = Counter(
    "griddesk_events_consumed_total", "Events taken from the log by outcome", ["service", "type", "outcome"])
EVENTS_PUBLISHED = Counter(
    "griddesk_events_published_total", "Events appended to the log", ["service", "type"])
HANDLING_LATENCY = Histogram(
    "griddesk_event_handling_seconds", "Time to react to one event", ["service", "type"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))
CONSUMER_LAG = Gauge(
    "griddesk_consumer_lag_records", "Records not yet handled by the consumer group",
    ["service", "topic", "partition"], multiprocess_mode="livemax")
STALE_BATCHES = Counter(
    "griddesk_stale_batches_total",
    "Consumer batches whose buffered writes were refused at flush and redone write by write", ["service"])
OUTBOX_BACKLOG = Gauge(
    "griddesk_outbox_backlog", "Stored reports not yet published", ["service"], multiprocess_mode="livemax")
CALENDAR_UNKNOWN_YEAR = Counter(
    "griddesk_calendar_unknown_year_total",
    "Working-day questions about a year with no calendar data (weekends assumed)", ["year"])


_CHILDREN: dict[tuple, object] = {}


def labelled(metric, *values: str):
    """``metric.labels(*values)``, looked up once per distinct labels: ``labels()`` takes a lock and builds a
    key on every call (~1.6 µs), and the hot paths — every request, every event consumed or published — use
    a handful of label sets again and again. A race only makes ``labels()`` answer the same child twice."""
    key = (metric, values)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*values)
    return child


def exposition() -> tuple[bytes, str]:
    """The current metrics in the text format, merged across processes when in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int, directory: str | None = None) -> None:
    """Drop a dead process's live gauges (gunicorn's child_exit and the supervisor call this)."""
    directory = directory or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        multiprocess.mark_process_dead(pid, directory)
