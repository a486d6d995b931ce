"""schemathesis fuzzes every endpoint of intake's OpenAPI document against the Flask app: no 5xx, and
every answer (status, content type, body, headers) as the document says."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from shared import auth
from shared.config import BackendSettings
from shared.org.demo import demo_registry
from shared.org.registry import import_registry
from services.intake.openapi import build_spec

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@pytest.fixture(scope="module")
def fuzzed_intake(tmp_path_factory):
    from services.intake import bootstrap
    from services.intake.settings import IntakeSettings

    backend = BackendSettings(backend="embedded", data_dir=str(tmp_path_factory.mktemp("fuzz") / "data"),
                              sqlite_synchronous="OFF")
    intake = bootstrap.build(IntakeSettings(backend=backend, rate_key_per_minute=0, rate_ip_per_minute=0,
                                            rate_phone_per_hour=0))
    bootstrap.prepare(intake)
    import_registry(intake.store, demo_registry())
    headers = {"Authorization": f"Bearer {auth.issue_staff_token(intake.store, 'cc', 'command_center', 'XX', 'district')}",
               "X-API-Key": auth.issue_api_key(intake.store, "fuzzer")}
    return bootstrap.create_app(intake), headers


# Loaded from the same builder the app serves (pure, no I/O at import); requests go to the Flask app.
# (schemathesis' lazy `from_fixture` loader does not work with pytest 9.)
schema = schemathesis.openapi.from_dict(build_spec())


def test_the_served_document_describes_every_route(fuzzed_intake):
    app, _ = fuzzed_intake
    served = app.test_client().get("/openapi.json").get_json()
    assert served == build_spec()
    documented = set(served["paths"])
    routes = {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", re.sub(r"any\([^)]*\)", "any", rule.rule))
              for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert routes == documented


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_fuzzed_requests_get_documented_answers(case, fuzzed_intake):
    app, headers = fuzzed_intake
    case.call_and_validate(headers=headers, checks=CHECKS, app=app)
