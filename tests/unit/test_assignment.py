import pytest

from shared.org.demo import demo_registry
from shared.org.registry import flatten
from services.router.assignment import assign, place


@pytest.fixture(scope="module")
def units():
    return {u["_id"]: u for u in flatten(demo_registry())}


@pytest.fixture(scope="module")
def district(units):
    return next(u for u in units.values() if u["level"] == "district")


def test_a_general_case_goes_to_the_unit_steward(units, district):
    unit = next(u for u in units.values() if u["level"] == "unit" and "unit_steward" in u["people"])
    placement = place({"unit_code": unit["code"]}, units.get, district)
    chosen = assign(placement, "general", units.get)
    assert placement.resolved and placement.chain == unit["chain"]
    assert chosen.level == "unit" and chosen.assignee == unit["people"]["unit_steward"]


def test_without_a_steward_the_building_head_owns_it(units, district):
    unit = next(u for u in units.values() if u["level"] == "unit" and "unit_steward" not in u["people"])
    chosen = assign(place({"unit_code": unit["code"]}, units.get, district), "general", units.get)
    assert chosen.assignee["role"] == "building_head"
    assert chosen.assignee["org_code"] == unit["parent"]
    assert "not staffed" in chosen.reason


@pytest.mark.parametrize("tier, role", [("coordination", "grid_worker"), ("emergency", "branch_secretary"),
                                        ("concentrated", "branch_secretary")])
def test_tiers_start_at_their_level(units, district, tier, role):
    building = next(u for u in units.values() if u["level"] == "building")
    chosen = assign(place({"building_code": building["code"]}, units.get, district), tier, units.get)
    assert chosen.assignee["role"] == role


def test_an_unknown_place_goes_to_the_duty_grid_worker(units, district):
    placement = place({"unit_code": "NOPE"}, units.get, district)
    chosen = assign(placement, "general", units.get)
    duty_grid = units[district["duty_community"]]["duty_grid"]
    assert not placement.resolved
    assert chosen.assignee == units[duty_grid]["people"]["grid_worker"]
