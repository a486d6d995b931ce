"""The SQLite store keeps each indexed field in a column of its own: the column must hold exactly what
``json_extract`` answers (filters compare against it), an older database's expression indexes are replaced,
and a write never misses a column another process added."""
from __future__ import annotations

import sqlite3

from hypothesis import given, settings, strategies as st

from shared import json_codec
from shared.adapters.sqlite_store import SqliteStore, indexed_value

scalars = st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1) | st.text(st.characters(blacklist_characters="\x00"), max_size=8) | \
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda x: abs(x) > 1e-300 or x == 0)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["a", "b", "id"]), inner, max_size=3), max_leaves=8)
# (json_extract cuts a string at a NUL character; the column keeps it whole: more faithful, left untested)
documents = st.dictionaries(st.sampled_from(["a", "b", "owner", "state"]), values, max_size=4)
PATHS = ["a", "b", "state", "owner", "owner.id", "owner.a.b", "a.id"]


@settings(max_examples=300, deadline=None)
@given(documents)
def test_a_column_holds_what_json_extract_answers(document):
    db = sqlite3.connect(":memory:")
    text = json_codec.to_text(document)
    for path in PATHS:
        expected = db.execute("SELECT json_extract(?, ?)", (text, f"$.{path}")).fetchone()[0]
        mine = db.execute("SELECT ?", (indexed_value(document, path),)).fetchone()[0]
        if isinstance(_at(document, path), (dict, list)):
            assert json_codec.from_text(mine) == json_codec.from_text(expected), path  # same JSON, spelled by another encoder
        else:
            assert mine == expected and type(mine) is type(expected), path


def _at(document, path):
    for part in path.split("."):
        document = document.get(part) if isinstance(document, dict) else None
    return document


def _columns(path, table):
    return [row[1] for row in sqlite3.connect(path).execute(f'PRAGMA table_info("{table}")')]


def _indexes(path, table):
    return {row[1] for row in sqlite3.connect(path).execute(f'PRAGMA index_list("{table}")')}


def test_an_older_databases_expression_index_becomes_a_column_filled_from_its_documents(tmp_path):
    path = str(tmp_path / "store.sqlite")
    old = sqlite3.connect(path)  # as the release before kept a collection
    old.execute('CREATE TABLE "c_things" (id TEXT PRIMARY KEY, v INTEGER NOT NULL, doc TEXT NOT NULL)')
    old.execute("""CREATE INDEX "ix_things_owner_id" ON "c_things" (json_extract(doc, '$.owner.id'))""")
    for i, owner in enumerate(["u1", "u2", None]):
        old.execute('INSERT INTO "c_things" VALUES (?, 1, ?)', (f"t{i}", json_codec.to_text({"_id": f"t{i}", "owner": {"id": owner}})))
    old.commit()
    store = SqliteStore(path, synchronous="OFF")
    store.ensure_index("things", ["owner.id"])
    assert "f:owner.id" in _columns(path, "c_things")
    assert _indexes(path, "c_things") == {"fx_things_owner_id"} | {i for i in _indexes(path, "c_things") if i.startswith("sqlite_")}
    assert [d["_id"] for d in store.find("things", {"owner.id": "u2"})] == ["t1"]
    plan = " ".join(str(row) for row in sqlite3.connect(path).execute(
        """EXPLAIN QUERY PLAN SELECT doc FROM "c_things" WHERE "f:owner.id" = 'u2'"""))
    assert "fx_things_owner_id" in plan


def test_a_write_knows_the_column_another_process_added_after_it_started(tmp_path):
    path = str(tmp_path / "store.sqlite")
    early, late = SqliteStore(path, synchronous="OFF"), SqliteStore(path, synchronous="OFF")
    early.insert("things", {"_id": "a", "state": "open"})  # early has read the schema: no columns
    late.ensure_index("things", ["state"])
    early.replace("things", {**early.get("things", "a"), "state": "closed"})
    early.insert("things", {"_id": "b", "state": "open"})
    assert [d["_id"] for d in late.find("things", {"state": "closed"})] == ["a"]
    assert [d["_id"] for d in late.find("things", {"state": "open"})] == ["b"]
    assert late.count_by("things", ["state"]) == {("closed",): 1, ("open",): 1}
