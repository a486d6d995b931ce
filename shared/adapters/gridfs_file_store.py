"""Files in MongoDB's GridFS (bucket ``files``), for the production backend. Checked against FerretDB v1
as well as the contract suite: GridFS needs only plain collections and a unique index, which it has."""
from __future__ import annotations

import re

import gridfs
from bson import ObjectId
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from shared.errors import BackendUnavailable
from shared.ports import StoredFile

_ID = re.compile(r"^[0-9a-f]{24}$")


class GridFsFileStore:
    def __init__(self, uri: str, database: str, *, bucket: str = "files", timeout_ms: int = 5000):
        self._client = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connect=False)
        self._database = database
        self._bucket_name = bucket
        self._bucket = None

    def _files(self) -> gridfs.GridFSBucket:
        if self._bucket is None:  # created on first use: never before a server process forks
            self._bucket = gridfs.GridFSBucket(self._client[self._database], bucket_name=self._bucket_name)
        return self._bucket

    def put(self, data: bytes, *, content_type: str, filename: str = "") -> str:
        try:
            file_id = self._files().upload_from_stream(
                filename or "upload", data, metadata={"content_type": content_type, "filename": filename})
        except PyMongoError as error:
            raise BackendUnavailable(f"GridFS: {error}") from error
        return str(file_id)

    def get(self, file_id: str) -> StoredFile | None:
        if not _ID.match(file_id or ""):
            return None
        try:
            stream = self._files().open_download_stream(ObjectId(file_id))
            data = stream.read()
        except gridfs.errors.NoFile:
            return None
        except PyMongoError as error:
            raise BackendUnavailable(f"GridFS: {error}") from error
        metadata = stream.metadata or {}
        return StoredFile(file_id, data, metadata.get("content_type", "application/octet-stream"),
                          metadata.get("filename", ""))

    def delete(self, file_id: str) -> bool:
        if not _ID.match(file_id or ""):
            return False
        try:
            self._files().delete(ObjectId(file_id))
            return True
        except gridfs.errors.NoFile:
            return False
        except PyMongoError as error:
            raise BackendUnavailable(f"GridFS: {error}") from error

    def ping(self) -> None:
        try:
            self._client.admin.command("ping")
        except PyMongoError as error:
            raise BackendUnavailable(f"GridFS: {error}") from error

    def close(self) -> None:
        self._client.close()
