"""Files on local disk for the embedded backend: ``<data dir>/files/<id>`` and ``<id>.json`` beside it.
Written to a temporary name, fsynced, then renamed, so a crash never leaves half a file under an id."""
from __future__ import annotations

import json
import os
import re
import uuid

from shared.errors import BackendUnavailable
from shared.ports import StoredFile

_ID = re.compile(r"^[0-9a-f]{32}$")


class DiskFileStore:
    def __init__(self, directory: str):
        self._directory = directory

    def _path(self, file_id: str) -> str:
        return os.path.join(self._directory, file_id)

    def put(self, data: bytes, *, content_type: str, filename: str = "") -> str:
        file_id = uuid.uuid4().hex
        try:
            os.makedirs(self._directory, exist_ok=True)
            self._write(self._path(file_id) + ".json", json.dumps(
                {"content_type": content_type, "filename": filename, "size": len(data)}).encode())
            self._write(self._path(file_id), data)  # last: the data's presence marks the file complete
        except OSError as error:
            raise BackendUnavailable(f"file store: {error}") from error
        return file_id

    @staticmethod
    def _write(path: str, data: bytes) -> None:
        temporary = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def get(self, file_id: str) -> StoredFile | None:
        if not _ID.match(file_id or ""):
            return None
        try:
            with open(self._path(file_id), "rb") as handle:
                data = handle.read()
            with open(self._path(file_id) + ".json", encoding="utf-8") as handle:
                meta = json.load(handle)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise BackendUnavailable(f"file store: {error}") from error
        return StoredFile(file_id, data, meta["content_type"], meta.get("filename", ""))

    def delete(self, file_id: str) -> bool:
        if not _ID.match(file_id or ""):
            return False
        existed = False
        for path in (self._path(file_id), self._path(file_id) + ".json"):
            try:
                os.remove(path)
                existed = True
            except FileNotFoundError:
                pass
        return existed

    def ping(self) -> None:
        try:
            os.makedirs(self._directory, exist_ok=True)
        except OSError as error:
            raise BackendUnavailable(f"file store: {error}") from error

    def close(self) -> None:
        pass
