"""The fastest-growing rule (indicators.category_growth) on counts worked out by hand."""
from __future__ import annotations

from collections import Counter

from services.tracker.indicators import category_growth


def ranked(now: dict, before: dict, min_count: int = 5) -> list[tuple]:
    return [(r["key"], r["received"], r["previous"], r["growth"], r["growth_rate"])
            for r in category_growth(Counter(now), Counter(before), min_count)]


def test_growth_is_relative_to_the_previous_count_fastest_first():
    assert ranked({"facility": 8, "sanitation": 15, "safety": 20}, {"facility": 2, "sanitation": 10, "safety": 5}) == [
        ("safety", 20, 5, 15, 3.0), ("facility", 8, 2, 6, 1.2), ("sanitation", 15, 10, 5, 0.5)]


def test_one_case_from_nothing_is_not_infinite_growth():
    assert ranked({"parking": 1}, {}) == []  # below the minimum count
    assert ranked({"parking": 1}, {}, min_count=1) == [("parking", 1, 0, 1, 1.0)]
    # a new category is measured against the minimum count: 0 -> 6 grows like 5 -> 11
    assert ranked({"dispute": 6, "noise": 11}, {"noise": 5}) == [("noise", 11, 5, 6, 1.2), ("dispute", 6, 0, 6, 1.2)]


def test_steady_and_shrinking_categories_are_left_out():
    assert ranked({"utility": 6, "property": 4, "greenery": 7}, {"utility": 6, "property": 9, "greenery": 9}) == []


def test_ties_rank_by_growth_then_count_then_key():
    rows = ranked({("G2", "a"): 10, ("G1", "a"): 10, ("G1", "b"): 20},
                  {("G2", "a"): 5, ("G1", "a"): 5, ("G1", "b"): 10})
    assert [r[0] for r in rows] == [("G1", "b"), ("G1", "a"), ("G2", "a")]
