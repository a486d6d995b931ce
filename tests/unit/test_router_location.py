import pytest

from shared.org.demo import demo_registry
from shared.org.registry import flatten
from services.router.grid_map import GridMap
from services.router.location import AddressIndex, canonical
from services.router.normalise import to_simplified


@pytest.fixture(scope="module")
def units():
    return flatten(demo_registry())


@pytest.fixture(scope="module")
def index(units):
    return AddressIndex(units)


@pytest.mark.parametrize("text, canon", [("三号楼二单元", "3号楼2单元"), ("3栋", "3号楼"), ("3#楼", "3号楼"),
                                         ("十二号楼", "12号楼"), ("3 幢 2 单元", "3号楼2单元")])
def test_building_words_and_numerals_become_canonical(text, canon):
    assert canonical(text) == canon


@pytest.mark.parametrize("address, code", [
    ("翠湖苑三号楼二单元", "QJ01-G05-03-2"), ("翠湖苑 3栋", "QJ01-G05-03"), ("翠糊苑3号楼2单元", "QJ01-G05-03-2"),
    (to_simplified("翠湖苑3號樓2單元"), "QJ01-G05-03-2"),
])
def test_an_address_resolves_to_its_unit_or_building(index, address, code):
    placement = index.find(address)
    assert placement.resolved and code in placement.chain.values()
    assert placement.chain.get("unit", placement.chain.get("building")) == code


@pytest.mark.parametrize("address, why", [("翠湖苑9号楼", "no building"), ("翠糊苑9号楼", "no building"),
                                          ("锦绣家园1号楼", "several buildings")])
def test_unknown_typo_in_the_number_and_ambiguous_addresses_stay_unresolved(index, address, why):
    placement = index.find(address)
    assert not placement.resolved and why in placement.detail


def test_a_point_lies_in_its_grid_and_outside_points_in_none(units):
    grids = [u for u in units if u["level"] == "grid"]
    grid_map = GridMap(grids)
    assert grid_map.grid_at(39.1225, 117.1945) == "QJ01-G02"
    assert grid_map.grid_at(39.122, 117.192) == "QJ01-G01"
    assert grid_map.grid_at(0.0, 0.0) is None
