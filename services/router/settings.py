from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from shared.config import BackendSettings, HttpSettings, env_float, env_str

DEFAULT_PORT = 8002


@dataclass(frozen=True)
class RouterSettings:
    backend: BackendSettings = field(default_factory=BackendSettings)
    http: HttpSettings = field(default_factory=lambda: HttpSettings("127.0.0.1", DEFAULT_PORT, 1))
    org_refresh_s: float = 60.0
    triage_below: float | None = None  # overrides the routing file's triage_below when set
    routing_file: str = ""  # default: services/router/data/routing.yaml
    lexicon_file: str = ""  # default: services/router/data/lexicon.yaml
    model_file: str = ""  # default: services/router/data/model.json; "none": the lexicon alone
    calendar_file: str = ""  # extra holidays and make-up working days (shared/working_time.py)
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "RouterSettings":
        env = os.environ if env is None else env
        http = HttpSettings.from_env("router", DEFAULT_PORT, env)
        triage = env.get("GRIDDESK_ROUTER_TRIAGE_BELOW", "").strip()
        return cls(
            backend=BackendSettings.from_env(env),
            http=HttpSettings(http.host, http.port, 1 if "GRIDDESK_ROUTER_WORKERS" not in env else http.workers,
                              http.threads),
            org_refresh_s=env_float(env, "GRIDDESK_ROUTER_ORG_REFRESH_S", cls.org_refresh_s),
            triage_below=env_float(env, "GRIDDESK_ROUTER_TRIAGE_BELOW", 0.0) if triage else None,
            routing_file=env_str(env, "GRIDDESK_ROUTING_FILE", cls.routing_file),
            lexicon_file=env_str(env, "GRIDDESK_ROUTER_LEXICON_FILE", cls.lexicon_file),
            model_file=env_str(env, "GRIDDESK_ROUTER_MODEL_FILE", cls.model_file),
            calendar_file=env_str(env, "GRIDDESK_CALENDAR_FILE", cls.calendar_file),
            timezone=env_str(env, "GRIDDESK_TIMEZONE", cls.timezone),
        )
