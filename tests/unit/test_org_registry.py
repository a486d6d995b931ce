import pytest

from shared.adapters.sqlite_store import SqliteStore
from shared.org.demo import demo_registry
from shared.org.registry import ORG_UNITS, RegistryError, flatten, import_registry


def test_the_demo_district_follows_the_pilot():
    registry = demo_registry()
    units = flatten(registry)
    levels = {u["level"] for u in units}
    assert levels == {"district", "street", "community", "branch", "compound", "grid", "building", "unit"}
    assert registry["district"]["streets"][0]["name"] == "前进街"
    branches = [u for u in units if u["level"] == "branch"]
    assert {b["kind"] for b in branches} == {"own", "joint"}
    grids = [u for u in units if u["level"] == "grid"]
    assert {g["kind"] for g in grids} == {"residential", "commercial"}
    assert all(250 <= g["households"] <= 350 for g in grids if g["kind"] == "residential")
    assert all("building_head" in u["people"] for u in units if u["level"] == "building")
    assert all(u["people"]["grid_worker"]["name"] for u in grids)


def test_import_makes_the_store_match_the_file(tmp_path):
    store = SqliteStore(str(tmp_path / "s.sqlite"))
    first = import_registry(store, demo_registry(communities=2))
    assert store.count(ORG_UNITS) == first.units
    smaller = import_registry(store, demo_registry(communities=1))
    assert smaller.removed == first.units - smaller.units
    assert store.count(ORG_UNITS) == smaller.units


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["district"].pop("code"), "code"),
    (lambda r: r["district"]["streets"][0].update(code="bad.code"), "code"),
    (lambda r: r["district"]["streets"][0].update(communities="x"), "must be a list"),
    (lambda r: r["district"]["streets"][0]["communities"][1].update(code="QJ01"), "more than once"),
])
def test_invalid_registries_are_refused_with_where(mutate, message):
    registry = demo_registry(communities=2)
    mutate(registry)
    with pytest.raises(RegistryError, match=message):
        flatten(registry)


def test_the_directory_knows_the_district_of_the_registry_it_loaded_last(tmp_path):
    from shared.org.directory import OrgDirectory

    store = SqliteStore(str(tmp_path / "s.sqlite"))
    directory = OrgDirectory(store)
    assert directory.district() is None  # nothing imported yet
    registry = demo_registry(communities=1)
    import_registry(store, registry)
    directory.reload()
    assert directory.district()["_id"] == registry["district"]["code"]
    assert directory.district()["level"] == "district"
