"""The FileStore contract, run against DiskFileStore (embedded) and GridFsFileStore on the real FerretDB."""
from __future__ import annotations

import os

import pytest

from shared.backends import build_file_store

JPEG = b"\xff\xd8\xff\xe0" + os.urandom(300_000)  # several GridFS chunks (255 KiB each)


@pytest.fixture
def files(backend_settings):
    store = build_file_store(backend_settings)
    yield store
    store.close()


def test_a_stored_file_reads_back_byte_for_byte(files):
    file_id = files.put(JPEG, content_type="image/jpeg", filename="楼道.jpg")
    stored = files.get(file_id)
    assert stored.data == JPEG and stored.content_type == "image/jpeg" and stored.filename == "楼道.jpg"
    assert stored.id == file_id


def test_ids_are_new_for_every_file(files):
    first = files.put(b"%PDF-1.4 a", content_type="application/pdf")
    second = files.put(b"%PDF-1.4 a", content_type="application/pdf")
    assert first != second and files.get(first).data == files.get(second).data


@pytest.mark.parametrize("file_id", ["", "nope", "../../etc/passwd", "0" * 24, "0" * 32])
def test_unknown_or_malformed_ids_are_none(files, file_id):
    assert files.get(file_id) is None


def test_a_deleted_file_is_gone(files):
    file_id = files.put(b"\x89PNG\r\n\x1a\nxyz", content_type="image/png")
    assert files.delete(file_id) is True
    assert files.get(file_id) is None
    assert files.delete(file_id) is False


def test_an_empty_file_and_ping(files):
    files.ping()
    file_id = files.put(b"", content_type="application/octet-stream")
    assert files.get(file_id).data == b""
