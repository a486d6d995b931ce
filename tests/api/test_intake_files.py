"""Photos and files: size and type checks on the bytes, attachment to one case, served only to staff
who may see that case."""
from __future__ import annotations

import io

import pytest

from shared import auth
from services.intake import handlers
from tests.api.test_intake_actions import UNIT, assign, bearer, registry  # noqa: F401  (fixture)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 2000


def upload(client, headers, data, name="photo.jpg", content_type="image/jpeg"):
    return client.post("/api/v1/files", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name, content_type)})


def test_a_photo_travels_with_a_report_and_only_staff_who_see_the_case_get_it(intake, intake_client, api_key,
                                                                             registry):  # noqa: F811
    key = {"X-API-Key": api_key}
    stored = upload(intake_client, key, JPEG)
    assert stored.status_code == 201 and stored.get_json()["content_type"] == "image/jpeg"
    file_id = stored.get_json()["file_id"]
    report = intake_client.post("/api/v1/reports", headers=key, json={
        "channel": "mini_program", "text": "楼道灯坏了", "location": {"unit_code": UNIT}, "attachments": [file_id]})
    assert report.status_code == 202
    case_id = report.get_json()["case_id"]
    assign(intake, case_id)
    owner = bearer(intake, "unit", UNIT, "unit_steward")
    served = intake_client.get(f"/api/v1/files/{file_id}", headers=owner)
    assert served.status_code == 200 and served.data == JPEG and served.mimetype == "image/jpeg"
    assert intake_client.get(f"/api/v1/files/{file_id}", headers=bearer(intake, "grid", "QJ01-G02", "grid_worker")
                             ).status_code == 404
    assert intake_client.get(f"/api/v1/files/{file_id}", headers=key).status_code == 401  # a channel key
    # a file belongs to one case: another report cannot take it over
    again = intake_client.post("/api/v1/reports", headers=key, json={
        "channel": "hotline", "text": "别的事", "location": {"unit_code": UNIT}, "attachments": [file_id]})
    assert again.status_code == 400 and again.get_json()["error"]["code"] == "unknown_attachment"


def test_a_resolution_photo_is_attached_to_the_event(intake, intake_client, api_key, registry):  # noqa: F811
    case_id = intake_client.post("/api/v1/reports", headers={"X-API-Key": api_key}, json={
        "channel": "hotline", "text": "楼道灯坏了", "location": {"unit_code": UNIT}}).get_json()["case_id"]
    assign(intake, case_id)
    owner = bearer(intake, "unit", UNIT, "unit_steward")
    file_id = upload(intake_client, owner, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "after.png", "image/png"
                     ).get_json()["file_id"]
    resolved = intake_client.post(f"/api/v1/cases/{case_id}/resolve", headers=owner,
                                  json={"result": "已修好", "attachments": [file_id]})
    assert resolved.status_code == 202
    case = intake.store.get(handlers.CASE_FILES, case_id)
    assert file_id in case["attachments"]
    assert intake_client.get(f"/api/v1/files/{file_id}", headers=owner).status_code == 200


@pytest.mark.parametrize("data, content_type, status, code", [
    (b"MZ\x90\x00 an executable", "image/jpeg", 415, "unsupported_file_type"),
    (JPEG, "image/png", 415, "file_type_mismatch"),
    (b"", "image/jpeg", 400, "empty_file"),
])
def test_files_are_judged_by_their_bytes(intake_client, api_key, data, content_type, status, code):
    response = upload(intake_client, {"X-API-Key": api_key}, data, content_type=content_type)
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_files_over_the_limit_are_refused(intake, intake_client, api_key):
    big = JPEG + b"\x00" * intake.settings.max_file_bytes
    assert upload(intake_client, {"X-API-Key": api_key}, big).status_code == 413
    assert upload(intake_client, {}, JPEG).status_code == 401
