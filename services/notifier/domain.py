"""The notifier's rules, free of I/O: delivery states, retry backoff, quiet hours, channel chains.

A delivery is one message to one recipient on one channel; its id derives from (cause, recipient,
channel), so it exists at most once. Its life:

    pending ──claim──▶ sending ──ok──▶ sent
       ▲                  │ error: attempts left → retry (next_attempt_at = now + backoff)
       └──── retry ◀──────┤ error: none left → failed (and the next channel of its chain is planned)
                          │         or, with no channel left → dead_lettered
                          └ still "sending" after the lease (the process died mid-send) → uncertain
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

PENDING, SENDING, RETRY, SENT = "pending", "sending", "retry", "sent"
FAILED, DEAD_LETTERED, UNCERTAIN = "failed", "dead_lettered", "uncertain"
DUE_STATES = (PENDING, RETRY)
DEAD_LETTER_STATES = (DEAD_LETTERED, UNCERTAIN)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so stored times compare correctly as strings


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # per channel, the first try included
    base_s: float = 30.0
    max_s: float = 3600.0
    jitter: float = 0.5  # the delay is scaled by a factor drawn from [1 - jitter, 1 + jitter]

    def delay_s(self, attempt: int, draw: float) -> float:
        """Pause after failed attempt ``attempt`` (1-based); ``draw`` is uniform in [0, 1)."""
        exponential = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        return exponential * (1 - self.jitter + 2 * self.jitter * draw)


@dataclass(frozen=True)
class QuietHours:
    """A daily window in local time, e.g. 22:00-07:00 (it may wrap past midnight)."""
    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> "QuietHours | None":
        if not text:
            return None
        try:
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise ValueError(f"quiet hours must look like 22:00-07:00, got {text!r}") from None
        return cls(start, end) if start != end else None

    def contains(self, local: datetime) -> bool:
        now = local.time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def ends_after(self, local: datetime) -> datetime:
        """The end of the window that ``local`` lies in (same zone as ``local``)."""
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)


def parse_chain(entry: str) -> list[str]:
    """``"sms>email"`` → ``["sms", "email"]``: try sms, fall back to e-mail."""
    return [part.strip() for part in entry.split(">") if part.strip()]


def is_due(delivery: dict, now: datetime) -> bool:
    return delivery["state"] in DUE_STATES and delivery["next_attempt_at"] <= stamp(now)
