from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from shared.config import BackendSettings, HttpSettings, env_float

DEFAULT_PORT = 8002


@dataclass(frozen=True)
class RouterSettings:
    backend: BackendSettings = field(default_factory=BackendSettings)
    http: HttpSettings = field(default_factory=lambda: HttpSettings("127.0.0.1", DEFAULT_PORT, 1))
    org_refresh_s: float = 60.0
    triage_below: float = 0.35  # classifications less confident than this go to the grid worker's triage

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "RouterSettings":
        env = os.environ if env is None else env
        http = HttpSettings.from_env("router", DEFAULT_PORT, env)
        return cls(
            backend=BackendSettings.from_env(env),
            http=HttpSettings(http.host, http.port, 1 if "GRIDDESK_ROUTER_WORKERS" not in env else http.workers),
            org_refresh_s=env_float(env, "GRIDDESK_ROUTER_ORG_REFRESH_S", cls.org_refresh_s),
            triage_below=env_float(env, "GRIDDESK_ROUTER_TRIAGE_BELOW", cls.triage_below),
        )
