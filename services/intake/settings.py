from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from shared.config import BackendSettings, HttpSettings, env_float, env_int, env_str

DEFAULT_PORT = 8001
# One HTTP worker process serving 16 requests at once: reports in flight are stored together
# (services.intake.report_groups), so one process's group writer storing all of them writes fewer, larger
# groups than two processes' writers taking turns at the store's write lock. Measured on the embedded
# backend, 3,000 reports back to back: 2 × 8 → 287–288 cases/s notified, intake 1.7 ms CPU per report;
# 1 × 16 → 328–357 cases/s, 1.5 ms. A request costs ~1 ms of CPU, so one process serves ~1,000/s.
DEFAULT_WORKERS = 1
DEFAULT_THREADS = 16


@dataclass(frozen=True)
class IntakeSettings:
    backend: BackendSettings = field(default_factory=BackendSettings)
    http: HttpSettings = field(default_factory=lambda: HttpSettings("127.0.0.1", DEFAULT_PORT, DEFAULT_WORKERS,
                                                                          DEFAULT_THREADS))
    secret_key: str = ""  # derives residents' follow-up tokens; empty: kept in the data directory
    relay_interval_s: float = 0.5
    relay_grace_s: float = 2.0  # leave fresh reports to the request that stored them
    max_body_bytes: int = 1 << 20
    max_file_bytes: int = 5 << 20  # largest photo or file
    rate_key_per_minute: int = 600  # per API key or staff post; 0: unlimited
    rate_phone_per_hour: int = 20  # per reporter phone on the mini program (residents themselves)
    rate_ip_per_minute: int = 60  # per client address on the residents' follow-up endpoints

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "IntakeSettings":
        env = os.environ if env is None else env
        return cls(
            backend=BackendSettings.from_env(env),
            http=HttpSettings.from_env("intake", DEFAULT_PORT, env, default_threads=DEFAULT_THREADS,
                                       default_workers=DEFAULT_WORKERS),
            secret_key=env_str(env, "GRIDDESK_SECRET_KEY", ""),
            relay_interval_s=env_float(env, "GRIDDESK_INTAKE_RELAY_INTERVAL_S", cls.relay_interval_s),
            relay_grace_s=env_float(env, "GRIDDESK_INTAKE_RELAY_GRACE_S", cls.relay_grace_s),
            max_body_bytes=env_int(env, "GRIDDESK_INTAKE_MAX_BODY_BYTES", cls.max_body_bytes),
            max_file_bytes=env_int(env, "GRIDDESK_INTAKE_MAX_FILE_BYTES", cls.max_file_bytes),
            rate_key_per_minute=env_int(env, "GRIDDESK_INTAKE_RATE_KEY_PER_MINUTE", cls.rate_key_per_minute),
            rate_phone_per_hour=env_int(env, "GRIDDESK_INTAKE_RATE_PHONE_PER_HOUR", cls.rate_phone_per_hour),
            rate_ip_per_minute=env_int(env, "GRIDDESK_INTAKE_RATE_IP_PER_MINUTE", cls.rate_ip_per_minute),
        )
