"""The in-app inbox: the stored notification itself is the message (``GET /api/v1/inbox`` shows it
once delivered), so sending it is only making it visible — it cannot fail, and it never needs the
claim-before-send guard of the channels that leave the store."""
from __future__ import annotations

from services.notifier.channels import Outgoing


class InAppInbox:
    name = "inbox"
    store_only = True  # the delivery step marks it sent in one write: a crash cannot leave it half-sent

    def can_reach(self, recipient: dict) -> bool:
        return recipient.get("level") != "resident"  # residents have no handler's app

    def send(self, message: Outgoing) -> None:
        return None
