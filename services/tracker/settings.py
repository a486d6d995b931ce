from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from shared.config import BackendSettings, HttpSettings

DEFAULT_PORT = 8003


@dataclass(frozen=True)
class TrackerSettings:
    backend: BackendSettings = field(default_factory=BackendSettings)
    http: HttpSettings = field(default_factory=lambda: HttpSettings("127.0.0.1", DEFAULT_PORT, 2))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "TrackerSettings":
        env = os.environ if env is None else env
        return cls(backend=BackendSettings.from_env(env), http=HttpSettings.from_env("tracker", DEFAULT_PORT, env))
