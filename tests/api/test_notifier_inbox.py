"""The notifier's HTTP API: the inbox (scoped to the token's org subtree, mark as read) and the
dead-letter list."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared import auth
from shared.events.envelope import Envelope
from shared.org.demo import demo_registry
from shared.org.registry import import_registry
from services.notifier import bootstrap, handlers
from services.notifier.channels import ChannelError
from services.notifier.domain import RetryPolicy
from services.notifier.settings import NotifierSettings

NOON = datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc)


class Clock:
    def now(self):
        return NOON


class RefusingSms:
    name = "sms"

    def can_reach(self, recipient):
        return True

    def send(self, message):
        raise ChannelError("gateway said no")


@pytest.fixture
def notifier(embedded):
    from services.notifier.channels.inbox import InAppInbox

    service = bootstrap.build(NotifierSettings(backend=embedded, retry_attempts=1), clock=Clock(),
                              senders={"inbox": InAppInbox(), "sms": RefusingSms()})
    bootstrap.prepare(service)
    import_registry(service.store, demo_registry(communities=2))
    deps = service.deps()
    deps.retry = RetryPolicy(attempts=1)
    for case_id, grid in (("GD-A", "QJ01-G01"), ("GD-B", "QJ02-G01")):
        person = {"id": f"{grid}/grid_worker", "name": "网格员", "role": "grid_worker", "phone": "170",
                  "org_code": grid, "level": "grid"}
        handlers.reactions(deps)["CaseAssigned"](Envelope(
            type="CaseAssigned", source="/griddesk/router", subject=case_id, id=f"{case_id}-assigned", time=NOON,
            data={"assignee": person, "level": "grid", "tier": "general", "category": "facility",
                  "org": {"district": "XX", "street": "QJ", "community": grid[:4], "grid": grid},
                  "location_resolved": True, "reason": "t"}))
    service.delivery_step(deps).run_once()
    return service


@pytest.fixture
def client(notifier):
    return bootstrap.create_app(notifier).test_client()


def bearer(store, org, level):
    return {"Authorization": f"Bearer {auth.issue_staff_token(store, 'staff', 'handler', org, level)}"}


def test_a_grid_token_sees_its_grid_inbox_and_marks_messages_read(notifier, client):
    headers = bearer(notifier.store, "QJ01-G01", "grid")
    items = client.get("/api/v1/inbox", headers=headers).get_json()["items"]
    assert [i["case_id"] for i in items] == ["GD-A"] and items[0]["channel"] == "inbox"
    assert "facts" not in items[0] and items[0]["read"] is False
    assert client.post(f"/api/v1/inbox/{items[0]['id']}/read", headers=headers).get_json() == {
        "id": items[0]["id"], "read": True}
    assert client.get("/api/v1/inbox?unread=1", headers=headers).get_json()["items"] == []
    other = client.get("/api/v1/inbox", headers=bearer(notifier.store, "QJ02-G01", "grid")).get_json()["items"]
    assert client.post(f"/api/v1/inbox/{other[0]['id']}/read", headers=headers).status_code == 404


def test_dead_letters_are_listed_for_the_area(notifier, client):
    body = client.get("/api/v1/dead-letters", headers=bearer(notifier.store, "XX", "district")).get_json()
    assert body["total"] == 2 and {i["case_id"] for i in body["items"]} == {"GD-A", "GD-B"}
    assert all(i["state"] == "dead_lettered" and "gateway said no" in i["error"] for i in body["items"])
    scoped = client.get("/api/v1/dead-letters", headers=bearer(notifier.store, "QJ02-G01", "grid")).get_json()
    assert [i["case_id"] for i in scoped["items"]] == ["GD-B"]


def test_the_api_needs_a_token_and_a_sane_limit(notifier, client):
    assert client.get("/api/v1/dead-letters").status_code == 401
    response = client.get("/api/v1/inbox?limit=0", headers=bearer(notifier.store, "XX", "district"))
    assert response.status_code == 400 and response.get_json()["error"]["fields"] == {"limit": ["0"]}
