from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from shared.config import BackendSettings, HttpSettings, env_str

DEFAULT_PORT = 8004


@dataclass(frozen=True)
class NotifierSettings:
    backend: BackendSettings = field(default_factory=BackendSettings)
    http: HttpSettings = field(default_factory=lambda: HttpSettings("127.0.0.1", DEFAULT_PORT, 2))
    public_url: str = "http://127.0.0.1:8003"  # the tracker's address, for links in messages

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "NotifierSettings":
        env = os.environ if env is None else env
        return cls(backend=BackendSettings.from_env(env), http=HttpSettings.from_env("notifier", DEFAULT_PORT, env),
                   public_url=env_str(env, "GRIDDESK_PUBLIC_URL", cls.public_url))
