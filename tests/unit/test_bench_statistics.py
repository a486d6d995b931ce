"""The benchmark's arithmetic: percentiles, end-to-end latencies, rates and the ratio."""
from __future__ import annotations

import math

import pytest

from services.bench import statistics


def test_nearest_rank_percentiles_of_one_to_a_hundred():
    values = list(range(100, 0, -1))  # unsorted on purpose
    assert statistics.percentile(values, 0.50) == 50
    assert statistics.percentile(values, 0.95) == 95
    assert statistics.percentile(values, 0.99) == 99
    assert statistics.percentile(values, 1.0) == 100
    assert statistics.percentile(values, 0.0) == 1


def test_a_small_sample_takes_its_largest_value_for_p99():
    assert statistics.percentile([3.0, 1.0, 2.0], 0.99) == 3.0
    assert statistics.percentile([7.0], 0.5) == 7.0


def test_percentile_of_nothing_is_nan_and_fractions_are_checked():
    assert math.isnan(statistics.percentile([], 0.5))
    with pytest.raises(ValueError):
        statistics.percentile([1.0], 99)


def test_latencies_pair_each_accepted_case_with_its_notification():
    accepted = {"a": 100.0, "b": 100.5, "c": 101.0}
    notified = {"a": 100.25, "b": 101.5, "x": 200.0}  # c never notified; x is not one of ours
    assert sorted(statistics.end_to_end_latencies(accepted, notified)) == [250.0, 1000.0]
    summary = statistics.summarise_latencies(accepted, notified)
    assert (summary.count, summary.missing) == (2, 1)
    assert summary.p50_ms == 250.0 and summary.p99_ms == 1000.0 and summary.max_ms == 1000.0


def test_a_notification_stamped_before_the_202_arrived_counts_as_zero():
    assert statistics.end_to_end_latencies({"a": 10.0}, {"a": 9.99}) == [0.0]


def test_no_notifications_at_all_gives_nan_percentiles_and_all_missing():
    summary = statistics.summarise_latencies({"a": 1.0, "b": 2.0}, {})
    assert summary.count == 0 and summary.missing == 2
    assert math.isnan(summary.p50_ms) and math.isnan(summary.max_ms)


def test_sustained_rate_runs_from_the_first_request_to_the_last_of_our_notifications():
    accepted = {f"c{n}": 10.0 + n * 0.01 for n in range(100)}
    notified = {f"c{n}": 10.5 + n * 0.02 for n in range(100)}
    notified["other"] = 99.0  # a warm-up case notified late must not stretch the span
    # 100 cases from 10.0 (first sent) to 10.5 + 99 * 0.02 = 12.48
    assert statistics.sustained_case_rate(10.0, accepted, notified) == pytest.approx(100 / 2.48)
    assert statistics.sustained_case_rate(10.0, accepted, {}) == 0.0


def test_rate_and_ratio_guard_against_empty_spans():
    assert statistics.rate(10, 5.0, 5.0) == 0.0
    assert statistics.rate(0, 0.0, 1.0) == 0.0
    assert statistics.rate(50, 1.0, 3.0) == 25.0
    assert statistics.ratio(300.0, 1000.0) == 0.3
    assert statistics.ratio(300.0, 0.0) == 0.0
