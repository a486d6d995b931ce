"""Photos and files: checked on upload (size, and the type the bytes show), linked to the one case that
first refers to them, and served only to those who may see that case."""
from __future__ import annotations

from dataclasses import dataclass

from shared.errors import Conflict
from shared.ports import Clock, DocumentStore, FileStore, StoredFile
from services.intake import domain

UPLOADS = "uploads"  # file id -> who uploaded it, its type and size, and the case it belongs to


@dataclass(frozen=True)
class Upload:
    data: bytes
    declared_type: str
    filename: str
    uploaded_by: str  # a credential's description, for the audit trail


class FileRefused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def store_upload(upload: Upload, *, files: FileStore, store: DocumentStore, clock: Clock,
                 max_bytes: int) -> dict:
    if not upload.data:
        raise FileRefused(400, "empty_file", "the file is empty")
    if len(upload.data) > max_bytes:
        raise FileRefused(413, "file_too_large", f"files are at most {max_bytes} bytes")
    actual = domain.sniffed_type(upload.data)
    if actual is None:
        raise FileRefused(415, "unsupported_file_type",
                          f"accepted: {', '.join(domain.ACCEPTED_FILE_TYPES)} (checked on the bytes themselves)")
    declared = upload.declared_type.split(";")[0].strip().lower()
    if declared not in ("", "application/octet-stream", actual):
        raise FileRefused(415, "file_type_mismatch", f"declared {declared}, but the bytes are {actual}")
    file_id = files.put(upload.data, content_type=actual, filename=upload.filename[:200])
    record = {"_id": file_id, "case_id": None, "content_type": actual, "size": len(upload.data),
              "filename": upload.filename[:200], "uploaded_by": upload.uploaded_by,
              "uploaded_at": clock.now().isoformat()}
    store.insert(UPLOADS, record)
    return {"file_id": file_id, "content_type": actual, "size": len(upload.data)}


def check_attachable(store: DocumentStore, file_ids: list[str], case_id: str | None) -> list[str]:
    """The ids that cannot be attached: unknown, or already belonging to another case."""
    bad = []
    for file_id in file_ids:
        record = store.get(UPLOADS, file_id)
        if record is None or record["case_id"] not in (None, case_id):
            bad.append(file_id)
    return bad


def link(store: DocumentStore, file_ids: list[str], case_id: str) -> None:
    for file_id in file_ids:
        for _ in range(5):
            record = store.get(UPLOADS, file_id)
            if record is None or record["case_id"] is not None:
                break
            try:
                store.replace(UPLOADS, {**record, "case_id": case_id})
                break
            except Conflict:
                continue


def case_of(store: DocumentStore, file_id: str) -> str | None:
    record = store.get(UPLOADS, file_id)
    return (record or {}).get("case_id")


def fetch(files: FileStore, file_id: str) -> StoredFile | None:
    return files.get(file_id)
