from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from shared.config import BackendSettings, HttpSettings, env_float, env_int, env_str

DEFAULT_PORT = 8004


@dataclass(frozen=True)
class ChannelAddresses:
    """Addresses and credentials of the channels; a channel whose address is empty is not used."""
    sms_url: str = ""
    sms_token: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # none | starttls | ssl
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "griddesk@localhost"
    smtp_ca_file: str = ""
    wecom_url: str = ""
    dingtalk_url: str = ""
    dingtalk_secret: str = ""
    webhook_url: str = ""  # departments without their own entry in the routing file
    webhook_secret: str = ""
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ChannelAddresses":
        return cls(
            sms_url=env_str(env, "GRIDDESK_NOTIFIER_SMS_URL", ""), sms_token=env_str(env, "GRIDDESK_NOTIFIER_SMS_TOKEN", ""),
            smtp_host=env_str(env, "GRIDDESK_NOTIFIER_SMTP_HOST", ""), smtp_port=env_int(env, "GRIDDESK_NOTIFIER_SMTP_PORT", cls.smtp_port),
            smtp_security=env_str(env, "GRIDDESK_NOTIFIER_SMTP_SECURITY", cls.smtp_security),
            smtp_username=env_str(env, "GRIDDESK_NOTIFIER_SMTP_USERNAME", ""), smtp_password=env_str(env, "GRIDDESK_NOTIFIER_SMTP_PASSWORD", ""),
            smtp_from=env_str(env, "GRIDDESK_NOTIFIER_SMTP_FROM", cls.smtp_from),
            smtp_ca_file=env_str(env, "GRIDDESK_NOTIFIER_SMTP_CA_FILE", ""),
            wecom_url=env_str(env, "GRIDDESK_NOTIFIER_WECOM_URL", ""), dingtalk_url=env_str(env, "GRIDDESK_NOTIFIER_DINGTALK_URL", ""),
            dingtalk_secret=env_str(env, "GRIDDESK_NOTIFIER_DINGTALK_SECRET", ""),
            webhook_url=env_str(env, "GRIDDESK_NOTIFIER_WEBHOOK_URL", ""), webhook_secret=env_str(env, "GRIDDESK_NOTIFIER_WEBHOOK_SECRET", ""),
            timeout_s=env_float(env, "GRIDDESK_NOTIFIER_CHANNEL_TIMEOUT_S", cls.timeout_s),
        )


@dataclass(frozen=True)
class NotifierSettings:
    backend: BackendSettings = field(default_factory=BackendSettings)
    http: HttpSettings = field(default_factory=lambda: HttpSettings("127.0.0.1", DEFAULT_PORT, 2))
    public_url: str = "http://127.0.0.1:8003"  # the tracker's address, for links in messages
    channels: ChannelAddresses = field(default_factory=ChannelAddresses)
    routing_file: str = ""
    timezone: str = "Asia/Shanghai"
    retry_attempts: int = 4
    retry_base_s: float = 30.0
    retry_max_s: float = 3600.0
    retry_jitter: float = 0.5
    emergency_repeat_s: float = 300.0
    emergency_max_repeats: int = 12
    delivery_interval_s: float = 1.0
    send_lease_s: float = 300.0  # a send still unresolved after this long was interrupted
    schedule: bool = True
    daily_digest_at: str = "18:00"
    weekly_digest_day: str = "mon"
    reminders_at: str = "09:00"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "NotifierSettings":
        env = os.environ if env is None else env
        return cls(
            backend=BackendSettings.from_env(env), http=HttpSettings.from_env("notifier", DEFAULT_PORT, env),
            public_url=env_str(env, "GRIDDESK_PUBLIC_URL", cls.public_url),
            channels=ChannelAddresses.from_env(env),
            routing_file=env_str(env, "GRIDDESK_NOTIFIER_ROUTING", ""),
            timezone=env_str(env, "GRIDDESK_NOTIFIER_TIMEZONE", cls.timezone),
            retry_attempts=env_int(env, "GRIDDESK_NOTIFIER_RETRY_ATTEMPTS", cls.retry_attempts),
            retry_base_s=env_float(env, "GRIDDESK_NOTIFIER_RETRY_BASE_S", cls.retry_base_s),
            retry_max_s=env_float(env, "GRIDDESK_NOTIFIER_RETRY_MAX_S", cls.retry_max_s),
            retry_jitter=env_float(env, "GRIDDESK_NOTIFIER_RETRY_JITTER", cls.retry_jitter),
            emergency_repeat_s=env_float(env, "GRIDDESK_NOTIFIER_EMERGENCY_REPEAT_S", cls.emergency_repeat_s),
            emergency_max_repeats=env_int(env, "GRIDDESK_NOTIFIER_EMERGENCY_MAX_REPEATS", cls.emergency_max_repeats),
            delivery_interval_s=env_float(env, "GRIDDESK_NOTIFIER_DELIVERY_INTERVAL_S", cls.delivery_interval_s),
            send_lease_s=env_float(env, "GRIDDESK_NOTIFIER_SEND_LEASE_S", cls.send_lease_s),
            schedule=env_str(env, "GRIDDESK_NOTIFIER_SCHEDULE", "on") != "off",
            daily_digest_at=env_str(env, "GRIDDESK_NOTIFIER_DAILY_DIGEST_AT", cls.daily_digest_at),
            weekly_digest_day=env_str(env, "GRIDDESK_NOTIFIER_WEEKLY_DIGEST_DAY", cls.weekly_digest_day),
            reminders_at=env_str(env, "GRIDDESK_NOTIFIER_REMINDERS_AT", cls.reminders_at),
        )
