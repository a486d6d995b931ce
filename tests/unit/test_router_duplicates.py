"""Duplicates: the pure decision (services/router/duplicates.py), then the router's reactions against a
real (SQLite) store and the demo district under a controlled clock."""
from __future__ import annotations

from datetime import timedelta

from shared.events.envelope import Envelope
from services.router import handlers
from services.router.duplicates import OpenCase, Place, find_duplicate
from tests.unit.test_router_handlers import assigned, clock, deps, reported, steward_unit, units  # noqa: F401

HERE = Place("U1", "B1", "G1")


def open_case(case_id, terms, reporter="someone", place=HERE):
    return OpenCase(case_id, frozenset(terms), reporter, place)


def test_the_same_unit_and_a_similar_problem_is_a_duplicate_of_the_oldest_open_case():
    found = find_duplicate(frozenset({"楼道灯"}), "case:new", HERE,
                           [open_case("old", {"灯坏", "楼道灯"}), open_case("newer", {"楼道灯"})])
    assert (found.into_case_id, found.match, found.matched) == ("old", "unit", ("楼道", "道灯"))


def test_another_problem_in_the_same_unit_is_not_a_duplicate():
    assert find_duplicate(frozenset({"门禁"}), "case:new", HERE, [open_case("old", {"楼道灯"})]) is None


def test_words_that_share_only_a_place_are_not_the_same_problem():
    # 楼道灯 and 扶手+楼道 share 楼道 (enough for a cluster's "similar"), not the problem: never merged
    assert find_duplicate(frozenset({"扶手", "楼道"}), "case:new", HERE, [open_case("old", {"坏了", "楼道灯"})]) is None
    assert find_duplicate(frozenset({"楼道", "灯+不亮"}), "case:new", HERE, [open_case("old", {"楼道灯"})]).match == "unit"
    assert find_duplicate(frozenset({"楼道灯"}), "case:new", HERE, [open_case("old", {"楼道灯"})]).into_case_id == "old"


def test_the_same_reporter_counts_in_the_same_building_not_in_another():
    neighbour = Place("U2", "B1", "G1")
    assert find_duplicate(frozenset({"楼道灯"}), "r1", neighbour, [open_case("old", {"楼道灯"}, "r1")]).match == "reporter"
    elsewhere = Place("U9", "B9", "G1")
    assert find_duplicate(frozenset({"楼道灯"}), "r1", elsewhere, [open_case("old", {"楼道灯"}, "r1")]) is None
    grid_only = Place(None, None, "G1")  # located by coordinates: the grid is the finest place known
    assert find_duplicate(frozenset({"楼道灯"}), "r1", grid_only, [open_case("old", {"楼道灯"}, "r1")]).match == "reporter"


def test_an_unknown_reporter_or_an_unknown_place_matches_nothing_but_the_unit():
    assert find_duplicate(frozenset({"楼道灯"}), "case:b", Place("U2", "B1", "G1"),
                          [open_case("a", {"楼道灯"}, "case:a")]) is None
    assert find_duplicate(frozenset({"楼道灯"}), "r1", Place(None, None, None),
                          [open_case("a", {"楼道灯"}, "r1", Place(None, None, None))]) is None


def ended(kind, case_id):
    return Envelope(kind, "/griddesk/intake", case_id, {"by": {}, "into_case_id": "x"} if kind == "CaseMerged" else {})


def test_the_same_problem_from_the_same_unit_is_merged_not_dispatched(deps, units):
    unit = steward_unit(units)
    first = handlers.assign_new_case(reported("楼道灯坏了好几天了", {"unit_code": unit["code"]}, case_id="a",
                                              reporter="张三"), deps)
    report = reported("楼道的灯又不亮了，晚上看不见", {"unit_code": unit["code"]}, case_id="b", reporter="王五")
    second = handlers.assign_new_case(report, deps)
    assert assigned(first) and not assigned(second)
    merged, linked = second
    assert merged.type == "DuplicateMerged" and merged.subject == "b" and merged.causation_id == second[0].causation_id
    assert merged.data["into_case_id"] == "a" and merged.data["match"] == "unit"
    assert merged.data["window_hours"] == 168 and merged.data["category"] == "facility"
    assert merged.data["org"]["unit"] == unit["code"] and "楼道" in merged.data["matched"]
    assert linked.type == "DuplicateLinked" and linked.subject == "a" and linked.data["duplicate_case_id"] == "b"
    # redelivered: the same events, nothing decided again
    again = handlers.assign_new_case(report, deps)
    assert [e.id for e in again] == [e.id for e in second]


def test_a_different_problem_from_the_same_unit_is_dispatched(deps, units):
    unit = steward_unit(units)
    handlers.assign_new_case(reported("楼道灯坏了好几天了", {"unit_code": unit["code"]}, case_id="a"), deps)
    other = handlers.assign_new_case(reported("单元门禁坏了，刷卡开不了门", {"unit_code": unit["code"]}, case_id="b"),
                                     deps)
    assert assigned(other) and other[0].type == "CaseClassified"


def test_the_same_reporter_in_another_unit_of_the_building_is_merged(deps, units):
    unit = steward_unit(units)
    neighbour = next(u for u in units.values() if u["level"] == "unit" and u["code"] != unit["code"]
                     and u["chain"]["building"] == unit["chain"]["building"])
    handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}, case_id="a", reporter="张三"), deps)
    same_person = handlers.assign_new_case(reported("楼道灯还是坏的", {"unit_code": neighbour["code"]}, case_id="b",
                                                    reporter="张三"), deps)
    assert same_person[0].type == "DuplicateMerged" and same_person[0].data["match"] == "reporter"
    someone_else = handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": neighbour["code"]}, case_id="c",
                                                     reporter="赵六"), deps)
    assert assigned(someone_else)


def test_after_the_case_ends_the_same_problem_is_dispatched_and_after_a_reopening_merged_again(deps, units):
    unit = steward_unit(units)
    for n, kind in enumerate(("CaseClosed", "CaseWithdrawn", "CaseRejected", "CaseMerged")):
        handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}, case_id=f"first{n}"), deps)
        handlers.reactions(deps)[kind](ended(kind, f"first{n}"))
        later = handlers.assign_new_case(reported("楼道灯又坏了", {"unit_code": unit["code"]}, case_id=f"later{n}"), deps)
        assert assigned(later), kind
        handlers.reactions(deps)["CaseClosed"](ended("CaseClosed", f"later{n}"))
    reopened = Envelope("CaseReopened", "/griddesk/intake", "later3", {"reason": "又坏了", "cause": "feedback"})
    assert assigned(handlers.return_reopened_case(reopened, deps))
    again = handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}, case_id="again"), deps)
    assert again[0].type == "DuplicateMerged" and again[0].data["into_case_id"] == "later3"


def test_outside_the_window_or_for_an_emergency_nothing_is_merged(deps, units, clock):
    unit = steward_unit(units)
    handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}, case_id="a"), deps)
    clock.value += timedelta(days=7, minutes=1)
    assert assigned(handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}, case_id="b"), deps))
    handlers.assign_new_case(reported("楼道里电动车起火了", {"unit_code": unit["code"]}, case_id="fire1"), deps)
    second_call = handlers.assign_new_case(reported("楼道里电动车起火了，快来", {"unit_code": unit["code"]},
                                                    case_id="fire2"), deps)
    assert second_call[0].data["tier"] == "emergency" and len(assigned(second_call)) == 5


def test_a_merged_case_is_never_routed_again(deps, units):
    unit = steward_unit(units)
    handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}, case_id="a"), deps)
    handlers.assign_new_case(reported("楼道灯坏了", {"unit_code": unit["code"]}, case_id="b"), deps)
    by = {"id": "x/grid_worker", "name": "网格员", "role": "grid_worker", "org_code": "x", "level": "grid"}
    for kind, data in (("CaseReturned", {"by": by, "reason": "错派"}),
                       ("CaseReclassified", {"by": by, "category": "facility", "tier": "general"}),
                       ("CaseReopened", {"reason": "r", "cause": "manual"}),
                       ("SlaBreached", {"assignment_id": "", "deadline": "acknowledge", "due": "", "level": "unit"})):
        assert handlers.reactions(deps)[kind](Envelope(kind, "/griddesk/intake", "b", data)) == []


def test_a_duplicate_is_merged_before_it_can_join_a_cluster(deps, units, clock):
    compound_units = [u for u in units.values() if u["level"] == "unit" and u["chain"]["compound"] == "QJ01-C1"]
    for n in range(4):
        clock.value += timedelta(hours=1)
        handlers.assign_new_case(reported("垃圾好几天没人清运", {"unit_code": compound_units[n]["code"]},
                                          case_id=f"k{n}", reporter=f"居民{n}"), deps)
    # a fifth resident of one of those units: a duplicate of that unit's case, not the fifth of a cluster
    fifth = handlers.assign_new_case(reported("垃圾桶满了没人清运", {"unit_code": compound_units[0]["code"]},
                                              case_id="k4", reporter="居民4"), deps)
    assert [e.type for e in fifth] == ["DuplicateMerged", "DuplicateLinked"]
    # the next resident from another unit makes the fifth... no: merged duplicates do not count
    sixth = handlers.assign_new_case(reported("垃圾没人清运", {"unit_code": compound_units[5]["code"]}, case_id="k5",
                                              reporter="居民5"), deps)
    assert sixth[0].data["tier"] == "concentrated" and sixth[0].data["explanation"]["cluster"]["size"] == 5
    assert "k4" not in next(e for e in sixth if not isinstance(e, tuple)
                            and e.type == "DeliberationRequested").data["case_ids"]
