"""Credentials: API keys for intake channels and bearer tokens for staff.

A secret is shown once when issued and stored only as its SHA-256 digest (secrets are 256 random
bits, so a plain digest cannot be reversed by guessing). A staff token is bound to a role and an org
unit; every staff query is limited to that unit's subtree through ``Scope``. A valid credential is
remembered in the process for a few seconds (``shared.verified_credentials``): a revocation made by
another process takes effect within that time.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.events.contracts import CHANNELS, ORG_LEVELS
from shared.ports import DocumentStore
from shared.verified_credentials import VerifiedCredentials

CREDENTIALS = "credentials"
API_KEY_PREFIX = "gdk_"
STAFF_TOKEN_PREFIX = "gdt_"
_verified = VerifiedCredentials()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiClient:
    name: str
    channels: tuple[str, ...]
    key_id: str  # the digest's first 12 hex digits: safe to log and to scope idempotency keys
    department: str | None = None  # a functional department's key: acts on that department's assignments


@dataclass(frozen=True)
class Scope:
    """The org subtree a staff token may see: everything at or below ``org_code`` on ``level``."""
    role: str
    org_code: str
    level: str
    name: str = ""

    def case_filter(self, prefix: str = "org") -> dict:
        if self.level == "district":
            return {}  # one district per deployment: its tokens see every case, located or not
        return {f"{prefix}.{self.level}": self.org_code}

    def covers(self, chain: dict) -> bool:
        return self.level == "district" or chain.get(self.level) == self.org_code


def issue_api_key(store: DocumentStore, name: str, channels: tuple[str, ...] = CHANNELS, *,
                  demo: bool = False, department: str | None = None) -> str:
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown channels: {', '.join(sorted(unknown))}")
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    document = {"_id": digest(secret), "kind": "api_key", "name": name, "channels": list(channels),
                "revoked": False, "issued_at": _now(), "demo": demo}
    if department:
        document["department"] = department
    store.insert(CREDENTIALS, document)
    return secret


def issue_staff_token(store: DocumentStore, name: str, role: str, org_code: str, level: str, *,
                      demo: bool = False) -> str:
    if level not in ORG_LEVELS:
        raise ValueError(f"level must be one of {', '.join(ORG_LEVELS)}")
    secret = STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.insert(CREDENTIALS, {"_id": digest(secret), "kind": "staff_token", "name": name, "role": role,
                               "org_code": org_code, "level": level, "revoked": False, "issued_at": _now(),
                               "demo": demo})
    return secret


def revoke(store: DocumentStore, secret_digest: str) -> bool:
    document = store.get(CREDENTIALS, secret_digest)
    if document is None:
        return False
    store.replace(CREDENTIALS, {**document, "revoked": True})
    _verified.forget(secret_digest)
    return True


def listing(store: DocumentStore) -> list[dict]:
    """Every credential without its digest in full: an id prefix to revoke it by, and what it is."""
    return [{"id": d["_id"][:12], "kind": d["kind"], "name": d["name"], "revoked": d["revoked"],
             "issued_at": d["issued_at"],
             "scope": d.get("org_code") or d.get("department") or ",".join(d.get("channels", []))}
            for d in store.find(CREDENTIALS, sort=[("issued_at", 1)])]


def revoke_by_prefix(store: DocumentStore, prefix: str) -> int:
    """Revoke the one credential whose digest starts with ``prefix`` (at least 8 hex digits)."""
    if len(prefix) < 8:
        raise ValueError("give at least 8 characters of the credential id")
    matches = [d for d in store.find(CREDENTIALS) if d["_id"].startswith(prefix)]
    if len(matches) != 1:
        raise ValueError(f"{len(matches)} credentials match {prefix!r}; give a longer id")
    return int(revoke(store, matches[0]["_id"]))


def api_client_for(store: DocumentStore, key: str | None) -> ApiClient | None:
    document = _valid(store, key, "api_key")
    if document is None:
        return None
    return ApiClient(name=document["name"], channels=tuple(document["channels"]), key_id=document["_id"][:12],
                     department=document.get("department"))


def scope_for(store: DocumentStore, token: str | None) -> Scope | None:
    document = _valid(store, token, "staff_token")
    if document is None:
        return None
    return Scope(role=document["role"], org_code=document["org_code"], level=document["level"],
                 name=document["name"])


def _valid(store: DocumentStore, secret: str | None, kind: str) -> dict | None:
    if not secret:
        return None
    secret_digest = digest(secret)
    document = _verified.get(store, secret_digest)
    if document is None:
        document = store.get(CREDENTIALS, secret_digest)
        if document is None or document.get("revoked"):
            return None
        _verified.keep(store, secret_digest, document)
    return document if document.get("kind") == kind else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
