"""The arithmetic of a benchmark run: percentiles, end-to-end latencies and rates. Pure functions."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1): the smallest value with at least that
    share of values at or below it. NaN for no values."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within 0..1, got {fraction}")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class LatencySummary:
    count: int
    missing: int  # accepted cases whose notification never arrived
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def end_to_end_latencies(accepted_at: Mapping[str, float], notified_at: Mapping[str, float]) -> list[float]:
    """Milliseconds from each case's 202 to its notification, for cases that have both.
    A notification stamped before the 202 arrived (the pipeline beat the HTTP response) counts as 0."""
    return [max(0.0, (notified_at[case] - accepted) * 1000.0)
            for case, accepted in accepted_at.items() if case in notified_at]


def summarise_latencies(accepted_at: Mapping[str, float], notified_at: Mapping[str, float]) -> LatencySummary:
    latencies = end_to_end_latencies(accepted_at, notified_at)
    return LatencySummary(
        count=len(latencies),
        missing=len(accepted_at) - len(latencies),
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        p99_ms=percentile(latencies, 0.99),
        max_ms=max(latencies) if latencies else math.nan,
    )


def rate(count: int, started: float, finished: float) -> float:
    """Items per second over [started, finished]; 0 when the span is empty or nothing happened."""
    span = finished - started
    if count <= 0 or span <= 0:
        return 0.0
    return count / span


def sustained_case_rate(first_sent: float, accepted_at: Mapping[str, float],
                        notified_at: Mapping[str, float]) -> float:
    """Cases per second carried all the way through: notified cases over the time from the first
    request sent to the last of their notifications."""
    done = [notified_at[case] for case in accepted_at if case in notified_at]
    return rate(len(done), first_sent, max(done)) if done else 0.0


def ratio(pipeline_per_s: float, baseline_per_s: float) -> float:
    return pipeline_per_s / baseline_per_s if baseline_per_s > 0 else 0.0
