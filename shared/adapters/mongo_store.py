"""The production document store on MongoDB (and any MongoDB-wire server, FerretDB included).

Only single-document operations are used: FerretDB v1 has no transactions, and none are needed,
since every read-modify-write is a compare-and-set on the document's version ``_v``. A batch
(``write_batch``) is one ordered bulk write per collection of such conditional single-document writes:
one round trip instead of one per write, but not a transaction.
"""
from __future__ import annotations

from typing import Sequence

from pymongo import ASCENDING, DESCENDING, DeleteOne, InsertOne, MongoClient, ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from shared.document_filters import projection
from shared.errors import BackendUnavailable, Conflict
from shared.ports import Document, Fields, Filter, Sort, StoreWrite


# writes per bulk command: a server that applies a command's writes one at a time behind a lock (FerretDB
# behind deploy/local/ferretdb/atomic_front.go) lets other clients' writes in between chunks, so a big batch
# cannot hold up an intake request for long
BULK_CHUNK = 50


class MongoStore:
    def __init__(self, uri: str, database: str, *, timeout_ms: int = 5000, operation_timeout_ms: int = 60000):
        self._uri = uri
        self._database_name = database
        self._timeout_ms = timeout_ms
        # an operation the server never answers becomes BackendUnavailable (retried) instead of a hang
        self._operation_timeout_ms = operation_timeout_ms
        self._client: MongoClient | None = None

    @property
    def _db(self):
        if self._client is None:  # connect lazily: never before a server process forks
            self._client = MongoClient(
                self._uri, serverSelectionTimeoutMS=self._timeout_ms, connectTimeoutMS=self._timeout_ms,
                socketTimeoutMS=self._operation_timeout_ms, tz_aware=True)
        return self._client[self._database_name]

    def drop(self) -> None:
        """Drop the whole database (a namespace given up)."""
        with _translated(self._database_name):
            self._db.client.drop_database(self._database_name)

    def ensure_index(self, collection: str, fields: Sequence[str], *, unique: bool = False) -> None:
        name = f"ix_{'_'.join(f.replace('.', '_') for f in fields)}"
        with _translated(collection):
            self._db[collection].create_index([(f, ASCENDING) for f in fields], unique=unique, name=name)

    def insert(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        stored = {**document, "_v": 1}
        try:
            with _translated(collection):
                self._db[collection].insert_one(dict(stored))
        except DuplicateKeyError as error:
            raise Conflict(f"{collection}/{stored['_id']}: {error}") from None
        return stored

    def get(self, collection: str, id: str, *, shared: bool = False) -> Document | None:
        with _translated(collection):
            return self._db[collection].find_one({"_id": id})

    def replace(self, collection: str, document: Document, *, handed_over: bool = False) -> Document:
        version = document["_v"]
        stored = {**document, "_v": version + 1}
        try:
            with _translated(collection):
                result = self._db[collection].replace_one({"_id": stored["_id"], "_v": version}, dict(stored))
        except DuplicateKeyError as error:
            raise Conflict(f"{collection}/{stored['_id']}: {error}") from None
        if result.matched_count == 0:
            raise Conflict(f"{collection}/{stored['_id']} changed since version {version}")
        return stored

    def delete(self, collection: str, id: str) -> bool:
        with _translated(collection):
            return self._db[collection].delete_one({"_id": id}).deleted_count > 0

    def write_batch(self, writes: Sequence[StoreWrite]) -> None:
        """Ordered ``bulk_write``s per collection (in the order the collections first appear; at most
        ``BULK_CHUNK`` writes each, one after the other). A taken
        id stops that bulk at the failing write; a replace whose version moved matches nothing and the
        bulk goes on. Either way Conflict is raised once the bulks are done or stopped, and the writes
        that were applied stay applied: callers redo the whole batch, and every write in it is
        idempotent on its own (see ``shared.unit_of_work``)."""
        if not writes:
            return
        by_collection: dict[str, list[StoreWrite]] = {}
        for write in writes:
            by_collection.setdefault(write.collection, []).append(write)
        stale: list[str] = []
        for collection, group in by_collection.items():
            for start in range(0, len(group), BULK_CHUNK):
                chunk = group[start:start + BULK_CHUNK]
                try:
                    with _translated(collection):
                        result = self._db[collection].bulk_write([_operation(w) for w in chunk], ordered=True)
                except BulkWriteError as error:
                    raise _bulk_error(collection, error) from None
                replaces = sum(1 for w in chunk if w.kind == "replace")
                if result.matched_count < replaces:
                    stale.append(f"{collection}: {replaces - result.matched_count} of {replaces} replaces found "
                                 "their document changed")
        if stale:
            raise Conflict("; ".join(stale))

    def find(self, collection: str, filter: Filter | None = None, *, sort: Sort = (),
             skip: int = 0, limit: int = 0, fields: Fields | None = None) -> list[Document]:
        order = [(f, DESCENDING if d < 0 else ASCENDING) for f, d in sort] + [("_id", ASCENDING)]
        # the server leaves out what is not asked for: the large fields never cross the wire
        shown = None if fields is None else {"_id": 1, **{name: 1 for name in projection(fields)}}
        with _translated(collection):
            cursor = self._db[collection].find(dict(filter or {}), shown, sort=order, skip=skip, limit=limit)
            if fields is None:
                return list(cursor)
            absent = dict.fromkeys(shown)  # None for a field a document lacks, as SQLite answers
            return [{**absent, **document} for document in cursor]

    def count(self, collection: str, filter: Filter | None = None) -> int:
        with _translated(collection):
            return self._db[collection].count_documents(dict(filter or {}))

    def count_by(self, collection: str, fields: Sequence[str], filter: Filter | None = None) -> dict[tuple, int]:
        # positional names in the group key: a field path may hold a "." that a key cannot
        key = {f"f{i}": f"${name}" for i, name in enumerate(fields)}
        pipeline = [{"$match": dict(filter or {})}, {"$group": {"_id": key, "n": {"$sum": 1}}}]
        with _translated(collection):
            groups = list(self._db[collection].aggregate(pipeline))
        return {tuple(group["_id"].get(f"f{i}") for i in range(len(fields))): group["n"] for group in groups}

    def ping(self) -> None:
        with _translated("admin"):
            self._db.command("ping")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _operation(write: StoreWrite):
    if write.kind == "insert":
        return InsertOne(dict(write.document or {}))
    if write.kind == "replace":
        return ReplaceOne({"_id": write.id, "_v": write.expected_v}, dict(write.document or {}))
    if write.kind == "delete":
        return DeleteOne({"_id": write.id})
    raise ValueError(f"unknown write kind {write.kind!r}")


def _bulk_error(collection: str, error: BulkWriteError) -> Exception:
    first = (error.details.get("writeErrors") or [{}])[0]
    if first.get("code") == 11000:  # a taken id or unique value
        return Conflict(f"{collection}: {first.get('errmsg', error)}")
    return BackendUnavailable(f"MongoDB ({collection}): {first.get('errmsg') or error}")


class _translated:
    """Turn driver errors (other than duplicate keys, which callers handle) into BackendUnavailable."""

    def __init__(self, what: str):
        self._what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if error is not None and isinstance(error, PyMongoError) and not isinstance(error, (DuplicateKeyError,
                                                                                           BulkWriteError)):
            raise BackendUnavailable(f"MongoDB ({self._what}): {error}") from error
        return False
