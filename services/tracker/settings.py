from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from shared.config import BackendSettings, HttpSettings, env_float, env_int, env_str

DEFAULT_PORT = 8003
REMEMBERED_CASES_ON_MONGODB = 1000


@dataclass(frozen=True)
class TrackerSettings:
    backend: BackendSettings = field(default_factory=BackendSettings)
    http: HttpSettings = field(default_factory=lambda: HttpSettings("127.0.0.1", DEFAULT_PORT, 2))
    sla_warning_share: float = 0.8  # SlaWarning once this share of a deadline's limit has passed
    sla_sweep_interval_s: float = 30.0
    bucket_interval_s: float = 3.0  # how often the indicator buckets take the cases' pending changes
    calendar_file: str = ""  # the operator's holidays/workdays per year (shared.working_time)
    routing_file: str = ""  # the router's rules file: working time per tier, deadline limits (shared.deadline_rules)
    timezone: str = "Asia/Shanghai"
    # cases the worker keeps as it last stored them, for its next reads (shared.remembered_documents); 0: none.
    # From the environment: 1,000 on the kafka backend (a read saved is a MongoDB round trip), else none (on
    # SQLite it saved no CPU and cost ~30 MB; docs/tracker.md, "Cases remembered between batches")
    remembered_cases: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "TrackerSettings":
        env = os.environ if env is None else env
        share = env_float(env, "GRIDDESK_SLA_WARNING_SHARE", cls.sla_warning_share)
        if not 0 < share < 1:
            raise ValueError(f"GRIDDESK_SLA_WARNING_SHARE must be between 0 and 1, got {share}")
        backend = BackendSettings.from_env(env)
        return cls(backend=backend, http=HttpSettings.from_env("tracker", DEFAULT_PORT, env),
                   sla_warning_share=share,
                   sla_sweep_interval_s=env_float(env, "GRIDDESK_SLA_SWEEP_INTERVAL_S", cls.sla_sweep_interval_s),
                   bucket_interval_s=env_float(env, "GRIDDESK_INDICATOR_INTERVAL_S", cls.bucket_interval_s),
                   calendar_file=env_str(env, "GRIDDESK_CALENDAR_FILE", cls.calendar_file),
                   routing_file=env_str(env, "GRIDDESK_ROUTING_FILE", cls.routing_file),
                   timezone=env_str(env, "GRIDDESK_TIMEZONE", cls.timezone),
                   remembered_cases=env_int(env, "GRIDDESK_TRACKER_REMEMBERED_CASES", REMEMBERED_CASES_ON_MONGODB
                                            if backend.backend == "kafka" else 0))
