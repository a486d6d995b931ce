"""The DocumentStore port's contract, run against SQLite and a real MongoDB-wire server (FerretDB)."""
from __future__ import annotations

import threading

import pytest

from shared.backends import build_store
from shared.errors import Conflict


def seed(store):
    for n in range(6):
        store.insert("things", {"_id": f"t{n}", "n": n, "kind": "odd" if n % 2 else "even",
                                "org": {"grid": f"G{n % 3}"}, "flag": n > 3, "maybe": None if n == 0 else n})


def test_insert_then_get_returns_the_document_with_a_version(store):
    stored = store.insert("things", {"_id": "a", "name": "楼道灯", "tags": ["x", "y"], "nested": {"k": 1}})
    assert stored["_v"] == 1
    got = store.get("things", "a")
    assert got == {"_id": "a", "name": "楼道灯", "tags": ["x", "y"], "nested": {"k": 1}, "_v": 1}
    assert store.get("things", "missing") is None


def test_insert_of_a_taken_id_conflicts(store):
    store.insert("things", {"_id": "a"})
    with pytest.raises(Conflict):
        store.insert("things", {"_id": "a"})


def test_unique_index_refuses_a_second_document_with_the_same_value(store):
    store.ensure_index("keys", ["idem"], unique=True)
    store.ensure_index("keys", ["idem"], unique=True)  # idempotent
    store.insert("keys", {"_id": "1", "idem": "k"})
    with pytest.raises(Conflict):
        store.insert("keys", {"_id": "2", "idem": "k"})
    assert store.count("keys") == 1


def test_replace_is_a_compare_and_set_on_the_version(store):
    first = store.insert("things", {"_id": "a", "n": 1})
    second = store.replace("things", {**first, "n": 2})
    assert second["_v"] == 2 and store.get("things", "a")["n"] == 2
    with pytest.raises(Conflict):
        store.replace("things", {**first, "n": 3})  # stale: read before the last write
    assert store.get("things", "a")["n"] == 2


def test_replace_of_a_missing_document_conflicts(store):
    with pytest.raises(Conflict):
        store.replace("things", {"_id": "ghost", "_v": 1})


@pytest.mark.parametrize("filter, expected", [
    ({"kind": "odd"}, ["t1", "t3", "t5"]),
    ({"org.grid": "G1"}, ["t1", "t4"]),
    ({"n": {"$gte": 2, "$lt": 4}}, ["t2", "t3"]),
    ({"n": {"$gt": 4}}, ["t5"]),
    ({"n": {"$lte": 0}}, ["t0"]),
    ({"n": {"$in": [1, 5, 9]}}, ["t1", "t5"]),
    ({"n": {"$nin": [1, 5]}}, ["t0", "t2", "t3", "t4"]),
    ({"kind": {"$ne": "odd"}}, ["t0", "t2", "t4"]),
    ({"flag": True}, ["t4", "t5"]),
    ({"maybe": None}, ["t0"]),
    ({"missing": {"$exists": False}, "n": {"$lt": 2}}, ["t0", "t1"]),
    ({"org.grid": {"$exists": True}, "kind": "even"}, ["t0", "t2", "t4"]),
    ({"_id": {"$in": ["t2", "t9"]}}, ["t2"]),
])
def test_find_filters(store, filter, expected):
    seed(store)
    assert [d["_id"] for d in store.find("things", filter)] == expected
    assert store.count("things", filter) == len(expected)


def test_find_sorts_skips_and_limits(store):
    seed(store)
    ordered = store.find("things", sort=[("n", -1)])
    assert [d["n"] for d in ordered] == [5, 4, 3, 2, 1, 0]
    page = store.find("things", {"kind": "even"}, sort=[("n", 1)], skip=1, limit=1)
    assert [d["_id"] for d in page] == ["t2"]
    by_two_keys = store.find("things", sort=[("kind", 1), ("n", -1)])
    assert [d["_id"] for d in by_two_keys] == ["t4", "t2", "t0", "t5", "t3", "t1"]


def test_delete_removes_once(store):
    store.insert("things", {"_id": "a"})
    assert store.delete("things", "a") is True
    assert store.delete("things", "a") is False
    assert store.get("things", "a") is None


def test_an_empty_collection_answers_queries(store):
    assert store.find("nothing_here", {"x": 1}) == []
    assert store.count("nothing_here") == 0
    assert store.count_by("nothing_here", ["kind"]) == {}
    store.ping()


def test_count_by_counts_each_combination_of_values_in_one_query(store):
    seed(store)
    store.insert("things", {"_id": "no-kind", "n": 9, "org": {"grid": "G0"}})
    assert store.count_by("things", ["kind"]) == {("even",): 3, ("odd",): 3, (None,): 1}
    assert store.count_by("things", ["kind", "org.grid"], {"n": {"$nin": [0, 9]}}) == {
        ("odd", "G1"): 1, ("even", "G2"): 1, ("odd", "G0"): 1, ("even", "G1"): 1, ("odd", "G2"): 1}
    assert sum(store.count_by("things", ["org.grid"]).values()) == store.count("things")


def test_concurrent_compare_and_set_writers_never_lose_an_update(backend_settings, store):
    """Read-modify-write from several clients at once: every successful replace must be kept (each writer
    appends its own mark), which only holds if the version check and the write are one atomic step."""
    store.insert("counters", {"_id": "c", "marks": []})
    writers, rounds = 4, 25

    def write(name):
        own = build_store(backend_settings)
        try:
            for n in range(rounds):
                while True:
                    current = own.get("counters", "c")
                    try:
                        own.replace("counters", {**current, "marks": current["marks"] + [f"{name}{n}"]})
                        break
                    except Conflict:
                        continue
        finally:
            own.close()

    threads = [threading.Thread(target=write, args=(f"w{i}-",)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    final = store.get("counters", "c")
    assert len(final["marks"]) == writers * rounds, f"{writers * rounds - len(final['marks'])} updates lost"
    assert final["_v"] == 1 + writers * rounds


def test_find_with_fields_returns_only_those_fields_and_the_id(store):
    """A projection: the large fields are never returned; a field a document lacks comes back None, as a
    null does; lists, objects and booleans come back as stored; ``_v`` only when named."""
    store.insert("records", {"_id": "a", "n": 2, "terms": ["楼道", "灯"], "owner": {"level": "grid"},
                             "flag": True, "gone": None, "effects": "楼道灯坏了" * 2000})
    store.insert("records", {"_id": "b", "n": 1, "terms": [], "flag": False, "effects": "x"})
    store.insert("records", {"_id": "c", "n": 3, "effects": "y"})
    found = store.find("records", {"n": {"$lte": 2}}, sort=[("n", 1)],
                       fields=("terms", "owner", "flag", "gone", "missing"))
    assert found == [{"_id": "b", "terms": [], "owner": None, "flag": False, "gone": None, "missing": None},
                     {"_id": "a", "terms": ["楼道", "灯"], "owner": {"level": "grid"}, "flag": True, "gone": None,
                      "missing": None}]
    assert store.find("records", {"n": 3}, fields=["flag"]) == [{"_id": "c", "flag": None}]
    assert store.find("records", sort=[("n", -1)], limit=2, fields=["_id", "_v"]) == [
        {"_id": "c", "_v": 1}, {"_id": "a", "_v": 1}]
    assert store.find("records", {"_id": "c"}, fields=()) == [{"_id": "c"}]
    assert store.find("records", {"_id": "c"}) == [{"_id": "c", "n": 3, "effects": "y", "_v": 1}]


@pytest.mark.parametrize("fields", [("owner.level",), ("$where",), "terms"])
def test_find_with_fields_takes_top_level_names_only(store, fields):
    store.insert("records", {"_id": "a", "owner": {"level": "grid"}})
    with pytest.raises((ValueError, TypeError)):
        store.find("records", fields=fields)
