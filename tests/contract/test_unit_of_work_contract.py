"""A consumer batch's unit of work (shared/unit_of_work.py) on SQLite and on a real MongoDB-wire server:
read-your-writes, one flush at the end, stale versions refused at flush (all or nothing on SQLite,
idempotent redo on MongoDB), other threads never buffered, queries seeing the batch's writes."""
from __future__ import annotations

import threading

import pytest

from shared.backends import build_store
from shared.errors import Conflict, StaleBatch
from shared.ports import StoreWrite
from shared.unit_of_work import BATCHED_ATTEMPTS, in_one_batch


def from_another_thread(function):
    """Run ``function`` on a thread of its own (as the timers and HTTP requests do) and return its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=function()))
    thread.start()
    thread.join(30)
    return result["value"]


def test_a_batch_reads_its_own_writes_and_chains_its_versions(store):
    store.insert("things", {"_id": "old", "n": 0})
    with store.batch():
        inserted = store.insert("things", {"_id": "a", "n": 1})
        assert inserted["_v"] == 1 and store.get("things", "a") == {"_id": "a", "n": 1, "_v": 1}
        second = store.replace("things", {**store.get("things", "a"), "n": 2})
        third = store.replace("things", {**second, "n": 3})
        assert third["_v"] == 3 and store.get("things", "a")["n"] == 3
        store.replace("things", {**store.get("things", "old"), "n": 10})
        with pytest.raises(Conflict):
            store.replace("things", {**second, "n": 99})  # stale against the batch itself
        with pytest.raises(Conflict):
            store.insert("things", {"_id": "a"})  # taken within the batch
        assert from_another_thread(lambda: store.get("things", "a")) is None  # nothing stored yet
        assert from_another_thread(lambda: store.get("things", "old"))["n"] == 0
    assert store.get("things", "a") == {"_id": "a", "n": 3, "_v": 3}
    assert store.get("things", "old") == {"_id": "old", "n": 10, "_v": 2}
    store.replace("things", store.get("things", "a"))  # the stored version is the one the batch reported


def test_what_get_returns_is_a_copy_the_caller_may_change(store):
    with store.batch():
        store.insert("things", {"_id": "a", "tags": ["x"]})
        got = store.get("things", "a")
        got["tags"].append("changed by the caller")
        assert store.get("things", "a")["tags"] == ["x"]


def test_a_stale_version_at_flush_refuses_the_whole_batch_on_sqlite(backend_settings, store):
    store.insert("things", {"_id": "x", "n": 0})
    with pytest.raises(StaleBatch):
        with store.batch():
            store.insert("things", {"_id": "y", "n": 1})
            read = store.get("things", "x")
            from_another_thread(lambda: store.replace("things", {**store.get("things", "x"), "n": 5}))
            store.replace("things", {**read, "n": 1})  # read before the other thread's write
    assert store.get("things", "x")["n"] == 5  # the other thread's write is kept
    if backend_settings.backend == "embedded":
        assert store.get("things", "y") is None  # one transaction: nothing of the batch is stored
    with store.batch():  # the batch is over: the next one starts clean
        store.insert("things", {"_id": "z"})
    assert store.get("things", "z")["_v"] == 1


def test_a_batch_refused_part_way_is_redone_idempotently(store):
    """A reaction in the style of every griddesk reaction: the event id it applied is recorded in the
    documents it changes. On MongoDB a refused bulk may have stored part of the batch; redoing the batch
    (write by write, as the consume loop does) completes it, and nothing is applied twice."""
    store.insert("cases", {"_id": "c", "applied": []})
    store.insert("cases", {"_id": "d", "applied": []})

    def react(event_id):
        for case_id in ("c", "d"):
            for _ in range(5):
                case = store.get("cases", case_id)
                if event_id in case["applied"]:
                    break
                try:
                    store.replace("cases", {**case, "applied": case["applied"] + [event_id]})
                    break
                except Conflict:
                    continue
        try:
            store.insert("notes", {"_id": f"note-{event_id}"})
        except Conflict:
            pass  # made before this redo

    with pytest.raises(StaleBatch):
        with store.batch():
            store.get("cases", "d")  # read now, changed by someone else before the flush
            from_another_thread(lambda: store.replace("cases", {**store.get("cases", "d"), "other": True}))
            react("e1")
    react("e1")  # the redo, without a batch
    react("e1")  # and a redelivery after it changes nothing
    assert store.get("cases", "c")["applied"] == ["e1"]
    assert store.get("cases", "d")["applied"] == ["e1"] and store.get("cases", "d")["other"] is True
    assert store.count("notes") == 1


def test_write_batch_checks_every_version(backend_settings, store):
    store.insert("things", {"_id": "x", "n": 0})
    writes = [StoreWrite("insert", "things", "new", {"_id": "new", "_v": 1}),
              StoreWrite("replace", "things", "x", {"_id": "x", "n": 1, "_v": 8}, expected_v=7)]
    with pytest.raises(Conflict):
        store.write_batch(writes)
    assert store.get("things", "x")["n"] == 0
    if backend_settings.backend == "embedded":
        assert store.get("things", "new") is None
    with pytest.raises(Conflict):
        store.write_batch([StoreWrite("insert", "things", "x", {"_id": "x", "_v": 1})])
    store.write_batch([StoreWrite("replace", "things", "x", {"_id": "x", "n": 2, "_v": 2}, expected_v=1),
                       StoreWrite("delete", "things", "new"),
                       StoreWrite("insert", "other", "o", {"_id": "o", "_v": 1})])
    assert store.get("things", "x") == {"_id": "x", "n": 2, "_v": 2}
    assert store.get("things", "new") is None and store.get("other", "o") == {"_id": "o", "_v": 1}


def test_other_threads_are_not_buffered(store):
    with store.batch():
        store.insert("things", {"_id": "mine"})
        from_another_thread(lambda: store.insert("things", {"_id": "theirs"}))
        assert from_another_thread(lambda: store.get("things", "theirs"))["_v"] == 1  # stored at once
        assert from_another_thread(lambda: store.get("things", "mine")) is None
        assert store.get("things", "theirs") is not None
    assert store.get("things", "mine") is not None


def test_find_and_count_in_a_batch_see_the_batchs_writes(store):
    store.insert("things", {"_id": "a", "kind": "odd", "n": 1})
    store.insert("things", {"_id": "c", "kind": "odd", "n": 3})
    with store.batch():
        store.insert("things", {"_id": "b", "kind": "odd", "n": 2})
        store.replace("things", {**store.get("things", "a"), "kind": "even"})
        store.delete("things", "c")
        assert [d["_id"] for d in store.find("things", {"kind": "odd"})] == ["b"]
        assert [d["_id"] for d in store.find("things", sort=[("n", -1)])] == ["b", "a"]
        assert from_another_thread(lambda: store.get("things", "b")) is None  # answered without a flush
        assert store.count("things", {"kind": "even"}) == 1  # count flushes first
        assert from_another_thread(lambda: store.get("things", "b")) is not None
        store.replace("things", {**store.get("things", "b"), "kind": "even"})  # chains on the flushed version
        assert [d["_id"] for d in store.find("things", {"kind": "even"}, limit=5)] == ["a", "b"]
    assert store.get("things", "b")["_v"] == 2


FILTERS = [{"kind": "odd"}, {"org.grid": "G1"}, {"n": {"$gte": 2, "$lt": 4}}, {"n": {"$in": [1, 5, 9]}},
           {"n": {"$nin": [1, 5]}}, {"kind": {"$ne": "odd"}}, {"flag": True}, {"maybe": None},
           {"maybe": {"$ne": None}}, {"missing": {"$exists": False}}, {"org.grid": {"$exists": True}},
           {"_id": {"$in": ["t2", "t9"]}}, {"label": {"$gt": "m"}}, {"maybe": {"$lte": 3}}, {}]
SORTS = [[], [("n", -1)], [("maybe", 1)], [("maybe", -1)], [("kind", 1), ("n", -1)], [("label", 1)]]


@pytest.mark.parametrize("filter", FILTERS)
def test_a_query_answered_from_the_batch_agrees_with_the_store(store, filter):
    """Find in a batch merges unstored documents, filtered and sorted in Python: it must answer exactly as
    the store answers once they are stored."""
    documents = [{"_id": f"t{n}", "n": n, "kind": "odd" if n % 2 else "even", "org": {"grid": f"G{n % 3}"},
                  "flag": n > 3, "maybe": None if n == 0 else n, "label": "楼道灯mzA"[n]} for n in range(6)]
    with store.batch():
        for document in documents:
            store.insert("things", document)
        from_batch = [[d["_id"] for d in store.find("things", filter, sort=sort)] for sort in SORTS]
        assert from_another_thread(lambda: store.count("things")) == 0  # still unstored
    stored = [[d["_id"] for d in store.find("things", filter, sort=sort)] for sort in SORTS]
    assert from_batch == stored


def test_a_query_by_a_string_field_sees_the_batchs_later_writes_too(store):
    """The batch's documents are looked up by the string a filter asks of a field (an index kept as the
    batch writes): moved, deleted, re-inserted, or holding a number, nothing or a list there, a document
    is found exactly when the store finds it once stored."""
    store.insert("things", {"_id": "s", "unit": "u1", "n": 0})
    with store.batch():
        for n, unit in enumerate(["u1", "u2", "u1", 7, None]):
            store.insert("things", {"_id": f"t{n}", "unit": unit, "n": n})
        store.insert("things", {"_id": "bare", "n": 9})
        assert [d["_id"] for d in store.find("things", {"unit": "u1", "n": {"$gte": 0}})] == ["s", "t0", "t2"]
        store.replace("things", {**store.get("things", "t0"), "unit": "u2"})  # indexed: now under u2
        store.delete("things", "t2")
        store.insert("things", {"_id": "t5", "unit": "u1", "n": 5})
        store.replace("things", {**store.get("things", "s"), "unit": "u3"})
        from_batch = [[d["_id"] for d in store.find("things", {"unit": unit, "n": {"$gte": 0}})]
                      for unit in ("u1", "u2", "u3", "7")]
        assert from_another_thread(lambda: store.count("things")) == 1  # answered without a flush
        assert from_batch == [["t5"], ["t0", "t1"], ["s"], []]
        store.insert("things", {"_id": "listed", "unit": ["u1"], "n": 6})  # the backends differ: flush, ask
        listed = [d["_id"] for d in store.find("things", {"unit": "u1"})]
        assert from_another_thread(lambda: store.count("things")) == 8
    assert listed == [d["_id"] for d in store.find("things", {"unit": "u1"})]
    assert [[d["_id"] for d in store.find("things", {"unit": unit, "n": {"$gte": 0}})]
            for unit in ("u1", "u2", "u3", "7")] == [[*(["listed"] if "listed" in listed else []), "t5"],
                                                      ["t0", "t1"], ["s"], []]


def test_delete_in_a_batch(store):
    store.insert("things", {"_id": "a"})
    with store.batch():
        assert store.delete("things", "a") is True
        assert store.get("things", "a") is None and store.delete("things", "a") is False
        store.insert("things", {"_id": "a", "again": True})  # deleted, then a new document
        assert store.delete("things", "missing") is False
    assert store.get("things", "a") == {"_id": "a", "again": True, "_v": 1}


def test_a_failed_flush_leaves_the_batch_unusable_until_it_ends(store):
    store.insert("things", {"_id": "x"})
    with pytest.raises(StaleBatch):
        with store.batch():
            read = store.get("things", "x")
            from_another_thread(lambda: store.replace("things", store.get("things", "x")))
            store.replace("things", read)
            with pytest.raises(StaleBatch):
                store.count("things")  # flushes first: refused
            with pytest.raises(StaleBatch):
                store.get("things", "x")  # whatever the reaction does next, it cannot go on
    assert store.get("things", "x")["_v"] == 2


def test_a_query_the_batch_cannot_decide_is_asked_of_the_store_after_a_flush(store):
    with store.batch():
        store.insert("things", {"_id": "a", "v": "text"})
        store.insert("things", {"_id": "b", "v": 2})  # a sort over mixed types: the backends' own rules
        found = [d["_id"] for d in store.find("things", sort=[("v", 1)])]
        assert from_another_thread(lambda: store.count("things")) == 2  # flushed to answer
    assert found == [d["_id"] for d in store.find("things", sort=[("v", 1)])]


def test_a_timer_step_in_one_batch_is_redone_as_a_batch_then_write_by_write_when_it_went_stale(store):
    store.insert("buckets", {"_id": "b", "total": 0, "applied": []})
    runs = []

    def add_changes():
        runs.append(store.in_batch)
        for change in ("c1", "c2", "c3"):
            while True:
                bucket = store.get("buckets", "b")
                if change in bucket["applied"]:
                    break
                try:
                    store.replace("buckets", {**bucket, "total": bucket["total"] + 1,
                                              "applied": bucket["applied"] + [change]})
                    break
                except Conflict:
                    continue
            if stale_runs and len(runs) <= stale_runs and change == "c1":  # the consume loop writes meanwhile
                from_another_thread(lambda: store.replace("buckets", {**store.get("buckets", "b"),
                                                                      "seen": len(runs)}))
        return len(runs)

    stale_runs = BATCHED_ATTEMPTS  # every batched attempt goes stale: the last resort is write by write
    assert in_one_batch(store, add_changes) == BATCHED_ATTEMPTS + 1
    assert runs == [True] * BATCHED_ATTEMPTS + [False]
    assert store.get("buckets", "b")["total"] == 3 and store.get("buckets", "b")["seen"] == BATCHED_ATTEMPTS
    runs.clear()
    stale_runs = 0
    assert in_one_batch(store, add_changes) == 1 and store.get("buckets", "b")["total"] == 3


def test_a_timer_step_that_went_stale_once_is_redone_as_a_batch(store):
    store.insert("buckets", {"_id": "b", "total": 0})
    runs = []

    def add_one():
        runs.append(store.in_batch)
        bucket = store.get("buckets", "b")
        store.replace("buckets", {**bucket, "total": bucket["total"] + 1})
        if len(runs) == 1:  # the consume loop writes the bucket meanwhile
            from_another_thread(lambda: store.replace("buckets", {**store.get("buckets", "b"), "seen": True}))

    in_one_batch(store, add_one)
    assert runs == [True, True]
    assert store.get("buckets", "b")["total"] == 1 and store.get("buckets", "b")["seen"] is True


def test_a_batch_larger_than_one_bulk_command_is_stored_whole(store):
    """MongoDB bulks are cut into commands of at most BULK_CHUNK writes; the batch is still stored whole."""
    with store.batch():
        for n in range(130):
            store.insert("many", {"_id": f"m{n:03}", "n": n})
        store.replace("many", {**store.get("many", "m000"), "n": -1})
    assert store.count("many") == 130 and store.get("many", "m000") == {"_id": "m000", "n": -1, "_v": 2}


def test_what_a_batch_buffered_does_not_change_when_the_caller_changes_its_documents(store):
    with store.batch():
        given = {"_id": "a", "tags": ["x"], "nested": {"k": [1]}}
        returned = store.insert("things", given)
        given["tags"].append("from the argument")
        returned["nested"]["k"].append("from the result")
        read = store.get("things", "a")
        assert read == {"_id": "a", "tags": ["x"], "nested": {"k": [1]}, "_v": 1}
        read["tags"].append("from a read")
        again = store.replace("things", {**store.get("things", "a"), "n": 2})
        again["tags"].append("from the replace's result")
        assert store.get("things", "a") == {"_id": "a", "tags": ["x"], "nested": {"k": [1]}, "n": 2, "_v": 2}
    assert store.get("things", "a") == {"_id": "a", "tags": ["x"], "nested": {"k": [1]}, "n": 2, "_v": 2}


def test_a_projection_in_a_batch_applies_to_its_unstored_documents_too(store):
    """The batch's own documents are matched whole, ordered with the store's by a field the projection
    leaves out, then cut to the projection: as the store answers once they are stored."""
    store.insert("things", {"_id": "a", "kind": "odd", "n": 4, "terms": ["x"], "big": "a" * 5000})
    store.insert("things", {"_id": "c", "kind": "odd", "n": 1, "terms": ["y"], "big": "c"})
    store.insert("things", {"_id": "d", "kind": "odd", "n": 0, "big": "d"})
    query = ({"kind": "odd"}, [("n", 1)], ("terms", "missing"))
    with store.batch():
        store.insert("things", {"_id": "b", "kind": "odd", "n": 2, "terms": ["z"], "big": "b"})
        store.replace("things", {**store.get("things", "c"), "n": 3, "terms": ["y", "w"]})
        store.delete("things", "d")
        store.insert("things", {"_id": "e", "kind": "even", "n": 9, "terms": ["e"]})
        filter, sort, fields = query
        from_batch = store.find("things", filter, sort=sort, fields=fields)
        assert from_another_thread(lambda: store.get("things", "b")) is None  # answered without a flush
        from_batch[0]["terms"].append("changed by the caller")  # never reaches what the batch buffered
    assert from_batch == [{"_id": "b", "terms": ["z", "changed by the caller"], "missing": None},
                          {"_id": "c", "terms": ["y", "w"], "missing": None}, {"_id": "a", "terms": ["x"], "missing": None}]
    filter, sort, fields = query
    from_batch[0]["terms"].pop()
    assert store.find("things", filter, sort=sort, fields=fields) == from_batch
    assert store.get("things", "b")["terms"] == ["z"]


def test_a_handed_over_document_is_stored_as_it_was_handed_over(store):
    store.insert("things", {"_id": "c1", "timeline": [{"type": "CaseReported"}]})
    with store.batch():
        case = store.get("things", "c1")
        after = {**case, "timeline": [*case["timeline"], {"type": "CaseAssigned"}]}
        returned = store.replace("things", after, handed_over=True)
        returned["_v"] = 99  # the top level the caller got back is its own, even when handed over
        assert store.get("things", "c1")["timeline"][-1] == {"type": "CaseAssigned"}
        assert store.get("things", "c1")["_v"] == 2
    stored = store.get("things", "c1")
    assert stored["_v"] == 2 and [e["type"] for e in stored["timeline"]] == ["CaseReported", "CaseAssigned"]


def test_a_shared_read_hands_out_the_batch_s_own_document_and_a_plain_read_still_a_copy(store):
    store.insert("things", {"_id": "s1", "tags": ["a"]})
    with store.batch():
        shared = store.get("things", "s1", shared=True)
        assert store.get("things", "s1", shared=True) is shared  # no copy: the caller promised not to change it
        private = store.get("things", "s1")
        private["tags"].append("b")
        assert shared["tags"] == ["a"] and store.get("things", "s1")["tags"] == ["a"]
    assert store.get("things", "s1", shared=True)["tags"] == ["a"]  # outside a batch: the adapter's fresh document


@pytest.fixture
def remembering(backend_settings):
    store = build_store(backend_settings, remembered={"things": 2})
    yield store
    store.close()


def _reads_of_the_adapter(store) -> list[str]:
    """Record the ids the wrapped adapter is asked to ``get`` (the store's own reads, not the batch's)."""
    reads, adapter_get = [], store.inner.get

    def counting(collection, id, **options):
        reads.append(id)
        return adapter_get(collection, id, **options)
    store.inner.get = counting
    return reads


def test_a_later_batch_reads_what_an_earlier_one_stored_from_memory(remembering):
    store = remembering
    with store.batch():
        store.insert("things", {"_id": "r1", "n": 1})
    reads = _reads_of_the_adapter(store)
    with store.batch():
        got = store.get("things", "r1", shared=True)
        assert got == {"_id": "r1", "n": 1, "_v": 1}
        store.replace("things", {**got, "n": 2}, handed_over=True)
    with store.batch():
        assert store.get("things", "r1") == {"_id": "r1", "n": 2, "_v": 2}
    assert reads == []  # neither batch asked the store
    assert store.get("things", "r1") == {"_id": "r1", "n": 2, "_v": 2}  # and the store holds it


def test_a_remembered_document_another_writer_changed_makes_the_batch_stale_and_is_forgotten(remembering):
    store = remembering
    with store.batch():
        store.insert("things", {"_id": "r2", "n": 1})
    store.inner.replace("things", {**store.inner.get("things", "r2"), "n": 50})  # a writer this store never saw
    with pytest.raises(StaleBatch):
        with store.batch():
            remembered = store.get("things", "r2")
            assert remembered["n"] == 1  # the snapshot this process stored …
            store.replace("things", {**remembered, "n": 2})  # … whose compare-and-set cannot pass
    with store.batch():  # the redo reads the store
        fresh = store.get("things", "r2")
        assert fresh["n"] == 50
        store.replace("things", {**fresh, "n": 51})
    assert store.get("things", "r2")["n"] == 51


def test_writes_outside_a_batch_and_deletes_forget_and_only_the_latest_are_kept(remembering):
    store = remembering
    with store.batch():
        for id in ("a", "b", "c"):
            store.insert("things", {"_id": id, "n": 0})
        store.insert("others", {"_id": "o", "n": 0})  # not a remembered collection
    reads = _reads_of_the_adapter(store)
    with store.batch():
        store.get("things", "a")  # the oldest of three, with room for two: asked of the store
        store.get("things", "b")
        store.get("others", "o")
    assert reads == ["a", "o"]
    store.replace("things", {**store.get("things", "b"), "n": 7})  # outside a batch: forgotten, not stale
    with store.batch():
        assert store.get("things", "b")["n"] == 7
        store.delete("things", "c")
    with store.batch():
        assert store.get("things", "c") is None
    assert reads == ["a", "o", "b", "b", "c"]
