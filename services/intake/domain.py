"""Intake's domain: case ids, residents' follow-up tokens and the CaseReported event. Standard library only."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime

from shared.events.envelope import Envelope

SOURCE = "/griddesk/intake"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: ids are read out on the phone


def new_case_id(now: datetime) -> str:
    # 32 letters: the low 5 bits of a random byte pick one uniformly (six random bytes at once, not six
    # secrets.choice calls: ~1 µs instead of ~10)
    suffix = "".join([_ALPHABET[byte & 31] for byte in secrets.token_bytes(6)])
    return f"GD-{now:%Y%m%d}-{suffix}"


def follow_up_token(secret_key: bytes, case_id: str) -> str:
    """The resident's token for a case: derived, so a retried request gets the same one back
    without the token itself ever being stored."""
    mac = hmac.digest(secret_key, case_id.encode(), "sha256")
    return base64.b32encode(mac[:15]).decode().lower()


def token_digest(token: str) -> str:
    """How a follow-up token is looked up (Open311 ``tokens/<token>``) without storing the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def request_fingerprint(body: dict) -> str:
    """Same body, same fingerprint: tells a retry from a different request reusing an Idempotency-Key."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def case_reported(case_id: str, submission: dict, now: datetime) -> Envelope:
    data = {
        "case_id": case_id,
        "channel": submission["channel"],
        "text": submission["text"],
        "reporter": submission.get("reporter") or {},
        "location": submission["location"],
        "category_hint": submission.get("category_hint"),
        "reported_at": now.isoformat(),
        "via": submission.get("via", "api"),
        "attachments": list(submission.get("attachments", [])),
    }
    return Envelope(type="CaseReported", source=SOURCE, subject=case_id, data=data, time=now)


# What a photo or file must start with; the declared type is only believed when the bytes agree.
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
ACCEPTED_FILE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")


def sniffed_type(data: bytes) -> str | None:
    """The content type the bytes themselves show, among the accepted ones; None for anything else."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
