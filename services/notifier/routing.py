"""Who gets what on which channel: per event type and per role, from a YAML file
(``GRIDDESK_NOTIFIER_ROUTING``) merged over the defaults below (docs/notifier.md, "Routing").

Each rule is a list of entries; every entry is delivered, and an entry ``"sms>email"`` is a fallback
chain (try SMS; if it finally fails, e-mail). A channel that is not configured, or that has no
address for the person (no phone, no e-mail), is left out of the chain."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml

from services.notifier.domain import QuietHours, parse_chain

PEOPLE_DEFAULT = ["inbox", "sms>email"]
ALERT_DEFAULT = ["inbox", "sms>email"]
DEFAULTS: dict[str, Any] = {
    "language": "zh",
    "channels": {
        "*": {"*": PEOPLE_DEFAULT, "department": ["webhook>inbox"], "resident": ["sms"]},
        "SlaBreached": {"*": ALERT_DEFAULT, "community_secretary": ["inbox", "wecom>dingtalk>sms>email"]},
        "CaseEscalated": {"*": ALERT_DEFAULT, "community_secretary": ["inbox", "wecom>dingtalk>sms>email"]},
        "DailyDigest": {"*": ["inbox", "email"]},
        "WeeklyDigest": {"*": ["inbox", "email"]},
    },
    "quiet_hours": {"*": "22:00-07:00", "command_center": None, "department": None},
    # roles that meet or call the resident and therefore see names and numbers in full
    "unmasked_roles": ["unit_steward", "building_head", "grid_worker", "branch_secretary"],
    # department code (the assignee's org code) -> {"url", "secret"} of its system's webhook
    "departments": {},
}


@dataclass(frozen=True)
class Routing:
    language: str = "zh"
    channels: dict[str, dict[str, list[str]]] = field(default_factory=lambda: copy.deepcopy(DEFAULTS["channels"]))
    quiet_hours: dict[str, str | None] = field(default_factory=lambda: dict(DEFAULTS["quiet_hours"]))
    unmasked_roles: frozenset[str] = frozenset(DEFAULTS["unmasked_roles"])
    departments: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | None) -> "Routing":
        if not path:
            return cls()
        with open(path, encoding="utf-8") as handle:
            return cls.from_mapping(yaml.safe_load(handle) or {})

    @classmethod
    def from_mapping(cls, raw: dict) -> "Routing":
        unknown = set(raw) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown routing keys: {', '.join(sorted(unknown))}")
        channels = copy.deepcopy(DEFAULTS["channels"])
        for event_type, by_role in (raw.get("channels") or {}).items():
            channels.setdefault(event_type, {}).update(by_role or {})
        routing = cls(language=raw.get("language", DEFAULTS["language"]), channels=channels,
                      quiet_hours={**DEFAULTS["quiet_hours"], **(raw.get("quiet_hours") or {})},
                      unmasked_roles=frozenset(raw.get("unmasked_roles", DEFAULTS["unmasked_roles"])),
                      departments=dict(raw.get("departments") or {}))
        for rule in routing.channels.values():
            for entries in rule.values():
                if not isinstance(entries, list):
                    raise ValueError(f"a routing rule must be a list of channels, got {entries!r}")
        for window in routing.quiet_hours.values():
            QuietHours.parse(window)  # fail at start, not at 22:00
        return routing

    def chains_for(self, event_type: str, recipient: dict) -> list[list[str]]:
        """The channel chains for this kind of message to this recipient (most specific rule wins:
        the role, then the org level, then ``*``; the event type's table before the ``*`` table)."""
        tables = [self.channels.get(event_type, {}), self.channels.get("*", {})]
        for key in (recipient.get("role"), recipient.get("level"), "*"):
            for table in tables:
                if key in table:
                    return [parse_chain(entry) for entry in table[key]]
        return []

    def quiet_hours_for(self, recipient: dict) -> QuietHours | None:
        for key in (recipient.get("role"), recipient.get("level"), "*"):
            if key in self.quiet_hours:
                return QuietHours.parse(self.quiet_hours[key])
        return None

    def unmasked_for(self, recipient: dict) -> bool:
        return recipient.get("role") in self.unmasked_roles
