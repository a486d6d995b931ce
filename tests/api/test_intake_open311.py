"""Open311 GeoReport v2: read by a client written by others (the `georeport` package, over real HTTP),
in JSON and in XML; errors in the spec's format; no personal data in reads."""
from __future__ import annotations

import os
import threading

import pytest
import requests
from georeport import GeoReport
from werkzeug.serving import make_server

from shared import auth
from shared.org.demo import demo_registry
from shared.org.registry import import_registry

PORT = int(os.environ.get("GRIDDESK_TEST_PORT_BASE", "18100")) + 44


@pytest.fixture
def open311(intake):
    from services.intake.bootstrap import create_app

    import_registry(intake.store, demo_registry())
    server = make_server("127.0.0.1", PORT, create_app(intake), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{PORT}/open311/v2", auth.issue_api_key(intake.store, "third-party app",
                                                                     ("mini_program",))
    server.shutdown()
    thread.join()


def submit(base, key, fmt="json", **fields):
    form = {"api_key": key, "service_code": "facility", "address_id": "QJ01-G01-01-1",
            "description": "楼道灯坏了，请联系我 13800001111", "first_name": "三", "last_name": "张",
            "phone": "13800001111", "attribute[floor]": "3", **fields}
    return requests.post(f"{base}/requests.{fmt}", data=form, timeout=10)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_client_lists_services_reads_a_definition_and_reads_back_a_request(open311, fmt):
    base, key = open311
    client = GeoReport(base, output_format=fmt)
    services = client.get_service_list()
    assert {s["service_code"] for s in services} >= {"facility", "safety", "other"}
    facility = next(s for s in services if s["service_code"] == "facility")
    assert facility["group"] == "设施" and "路灯" in facility["keywords"]
    definition = client.get_service_definition("safety")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    attribute = attributes[0] if isinstance(attributes, list) else attributes
    assert attribute["code"] == "in_danger" and str(attribute["required"]).lower() == "true"

    created = submit(base, key, fmt)
    assert created.status_code == 200
    case_id = (created.json()[0]["service_request_id"] if fmt == "json"
               else created.text.split("<service_request_id>")[1].split("<")[0])
    read = client.get_service_request(case_id)
    assert read["service_request_id"] == case_id and read["status"] == "open"
    assert read["service_code"] == "facility" and read["address_id"] == "QJ01-G01-01"
    assert "13800001111" not in str(read) and "张" not in str(read)  # no reporter, phone masked
    assert "138******11" in read["description"] and "（3楼）" in read["description"]
    listed = client.get_service_requests(service_code="facility")
    listed = listed if isinstance(listed, list) else [listed]
    assert case_id in {r["service_request_id"] for r in listed}


def test_tokens_find_the_request(open311):
    base, key = open311
    token = submit(base, key).json()[0]["token"]
    found = requests.get(f"{base}/tokens/{token}.json", timeout=10).json()
    assert found[0]["token"] == token and found[0]["service_request_id"].startswith("GD-")
    assert requests.get(f"{base}/tokens/nope.json", timeout=10).status_code == 404


def test_errors_use_the_spec_format_and_codes(open311):
    base, key = open311
    bad_key = submit(base, "gdk_wrong")
    assert bad_key.status_code == 403 and bad_key.json()[0]["code"] == 403
    xml = submit(base, "gdk_wrong", "xml")
    assert xml.status_code == 403 and "<errors><error><code>403</code>" in xml.text
    nowhere = submit(base, key, address_id="", description="没有地点的描述")
    assert nowhere.status_code == 400 and "address" in nowhere.json()[0]["description"]
    unknown = submit(base, key, surprise="1")
    assert unknown.status_code == 400
    danger = submit(base, key, service_code="safety")  # in_danger is required for safety
    assert danger.status_code == 400 and "in_danger" in danger.json()[0]["description"]
    assert requests.get(f"{base}/services/nothing.json", timeout=10).status_code == 404
    assert requests.get(f"{base}/requests/GD-20000101-AAAAAA.xml", timeout=10).status_code == 404
    too_long = requests.get(f"{base}/requests.json", params={"start_date": "2026-01-01T00:00:00Z",
                                                              "end_date": "2026-11-01T00:00:00Z"}, timeout=10)
    assert too_long.status_code == 400
