"""Configuration read from the environment, once, into frozen dataclasses.

Every variable is documented in the README's configuration table; keep them in step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

BACKENDS = ("embedded", "kafka")


def log_level(env: Mapping[str, str] | None = None) -> str:
    """``GRIDDESK_LOG_LEVEL`` (INFO: a line per consumed batch; DEBUG adds a line per event handled)."""
    return env_str(os.environ if env is None else env, "GRIDDESK_LOG_LEVEL", "INFO")


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class BackendSettings:
    backend: str = "embedded"
    data_dir: str = "var/data"
    sqlite_synchronous: str = "FULL"
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_partitions: int = 3
    kafka_replication: int = 1
    mongodb_uri: str = "mongodb://127.0.0.1:27018/"
    mongodb_database: str = "griddesk"
    namespace: str = ""  # prefix of every topic and consumer group, e.g. for a shared test broker

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "BackendSettings":
        env = os.environ if env is None else env
        backend = env_str(env, "GRIDDESK_BACKEND", cls.backend)
        if backend not in BACKENDS:
            raise ValueError(f"GRIDDESK_BACKEND must be one of {', '.join(BACKENDS)}, got {backend!r}")
        return cls(
            backend=backend,
            data_dir=env_str(env, "GRIDDESK_DATA_DIR", cls.data_dir),
            sqlite_synchronous=env_str(env, "GRIDDESK_SQLITE_SYNCHRONOUS", cls.sqlite_synchronous),
            kafka_bootstrap=env_str(env, "GRIDDESK_KAFKA_BOOTSTRAP", cls.kafka_bootstrap),
            kafka_partitions=env_int(env, "GRIDDESK_KAFKA_PARTITIONS", cls.kafka_partitions),
            kafka_replication=env_int(env, "GRIDDESK_KAFKA_REPLICATION", cls.kafka_replication),
            mongodb_uri=env_str(env, "GRIDDESK_MONGODB_URI", cls.mongodb_uri),
            mongodb_database=env_str(env, "GRIDDESK_MONGODB_DATABASE", cls.mongodb_database),
            namespace=env_str(env, "GRIDDESK_NAMESPACE", cls.namespace),
        )


    def to_env(self) -> dict[str, str]:
        """The environment variables that select these settings in a child process (from_env's inverse)."""
        return {
            "GRIDDESK_BACKEND": self.backend, "GRIDDESK_DATA_DIR": self.data_dir,
            "GRIDDESK_SQLITE_SYNCHRONOUS": self.sqlite_synchronous,
            "GRIDDESK_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "GRIDDESK_KAFKA_PARTITIONS": str(self.kafka_partitions),
            "GRIDDESK_KAFKA_REPLICATION": str(self.kafka_replication),
            "GRIDDESK_MONGODB_URI": self.mongodb_uri, "GRIDDESK_MONGODB_DATABASE": self.mongodb_database,
            "GRIDDESK_NAMESPACE": self.namespace,
        }


@dataclass(frozen=True)
class HttpSettings:
    host: str
    port: int
    workers: int
    threads: int = 4  # requests each worker serves at once

    @classmethod
    def from_env(cls, service: str, default_port: int, env: Mapping[str, str] | None = None, *,
                 default_threads: int = 4, default_workers: int = 2) -> "HttpSettings":
        env = os.environ if env is None else env
        prefix = f"GRIDDESK_{service.upper()}"
        return cls(
            host=env_str(env, f"{prefix}_HOST", env_str(env, "GRIDDESK_HOST", "127.0.0.1")),
            port=env_int(env, f"{prefix}_PORT", default_port),
            workers=env_int(env, f"{prefix}_WORKERS", env_int(env, "GRIDDESK_HTTP_WORKERS", default_workers)),
            threads=env_int(env, f"{prefix}_THREADS", env_int(env, "GRIDDESK_HTTP_THREADS", default_threads)),
        )
