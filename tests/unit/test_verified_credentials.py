"""Verified credentials are remembered for a few seconds: one store read per key per TTL, revocation
effective at once in the revoking process and within the TTL elsewhere."""
from __future__ import annotations

import pytest

from shared import auth
from shared.adapters.sqlite_store import SqliteStore
from shared.verified_credentials import VerifiedCredentials


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class CountingStore(SqliteStore):
    def __init__(self, path):
        super().__init__(path, synchronous="OFF")
        self.reads = 0

    def get(self, collection, id):
        self.reads += 1
        return super().get(collection, id)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(auth, "_verified", VerifiedCredentials(ttl_s=5.0, clock=clock))
    return clock


@pytest.fixture
def store(tmp_path):
    return CountingStore(str(tmp_path / "store.sqlite"))


def test_a_valid_key_is_read_once_per_ttl(store, clock):
    key = auth.issue_api_key(store, "hotline")
    assert [auth.api_client_for(store, key).name for _ in range(3)] == ["hotline"] * 3
    assert store.reads == 1
    clock.now += 5.0
    assert auth.api_client_for(store, key) is not None and store.reads == 2


def test_a_revocation_elsewhere_takes_effect_within_the_ttl(store, clock):
    token = auth.issue_staff_token(store, "grid worker", "grid_worker", "G1", "grid")
    assert auth.scope_for(store, token).org_code == "G1"
    document = store.get(auth.CREDENTIALS, auth.digest(token))
    store.replace(auth.CREDENTIALS, {**document, "revoked": True})  # as another process's revoke would
    clock.now += 4.9
    assert auth.scope_for(store, token) is not None  # still remembered
    clock.now += 0.1
    assert auth.scope_for(store, token) is None


def test_a_revocation_in_this_process_takes_effect_at_once(store, clock):
    key = auth.issue_api_key(store, "hotline")
    assert auth.api_client_for(store, key) is not None
    assert auth.revoke(store, auth.digest(key))
    assert auth.api_client_for(store, key) is None


def test_unknown_and_wrong_kind_credentials_are_not_remembered_as_valid(store, clock):
    key = auth.issue_api_key(store, "hotline")
    assert auth.scope_for(store, key) is None  # an API key is no staff token, cached or not
    assert auth.api_client_for(store, key) is not None
    assert auth.scope_for(store, key) is None
    assert auth.api_client_for(store, "gdk_unknown") is None
    assert auth.api_client_for(store, "gdk_unknown") is None and store.reads == 3  # misses are read each time
