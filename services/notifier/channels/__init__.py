"""The notifier's channels behind one port, ``Sender``: one adapter module per channel. Only
``bootstrap`` builds them; handlers and the delivery step see the port."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class ChannelError(Exception):
    """The channel did not take the message (a gateway error, a refused connection, a bad answer)."""


@dataclass(frozen=True)
class Outgoing:
    """One message to one recipient on one channel."""
    notification_id: str
    recipient: dict[str, Any]
    subject: str
    text: str
    urgent: bool = False
    case_id: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # structured data for machine recipients (webhooks)


class Sender(Protocol):
    name: str

    def can_reach(self, recipient: dict[str, Any]) -> bool:
        """Whether this channel has an address for the recipient (a phone, an e-mail, a webhook …)."""

    def send(self, message: Outgoing) -> None:
        """Deliver the message or raise ChannelError."""
