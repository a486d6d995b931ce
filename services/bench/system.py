"""The system under test: ``griddesk run --demo`` in a temporary directory, on its own ports, and for
the kafka backend the local Kafka broker and FerretDB (deploy/local/backends.sh) unless the
environment already names running ones (GRIDDESK_KAFKA_BOOTSTRAP and GRIDDESK_MONGODB_URI)."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from shared.config import BackendSettings

SERVICES = ("intake", "router", "tracker", "notifier")
REPO = Path(__file__).resolve().parents[2]
BACKENDS_SCRIPT = REPO / "deploy" / "local" / "backends.sh"


class SystemFailed(RuntimeError):
    """The system under test did not start or stopped answering."""


@dataclass
class LocalBackends:
    """Kafka + FerretDB started by the benchmark itself; stopped by ``stop``."""
    env: dict

    @classmethod
    def start(cls, var_dir: Path) -> tuple["LocalBackends", str, str]:
        env = {**os.environ, "GRIDDESK_VAR": str(var_dir / "backends")}
        done = subprocess.run(["bash", str(BACKENDS_SCRIPT), "start"], env=env, capture_output=True,
                              text=True, timeout=900)
        if done.returncode != 0:
            raise SystemFailed(f"could not start Kafka and FerretDB:\n{done.stderr[-3000:]}")
        values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        return cls(env), values["KAFKA_BOOTSTRAP"], values["MONGODB_URI"]

    def pids(self) -> dict[str, int]:
        """{server: PID} of the running servers, from the script's PID files (its layout under GRIDDESK_VAR)."""
        var = Path(self.env["GRIDDESK_VAR"])
        files = {"kafka": var / "kafka" / "kafka.pid", "ferretdb": var / "ferretdb" / "ferretdb.pid",
                 "postgresql": var / "postgresql" / "postgres.pid"}
        pids = {}
        for server, path in files.items():
            try:
                pids[server] = int(path.read_text().strip())
            except (OSError, ValueError):
                continue  # not started (FerretDB on SQLite has no PostgreSQL)
        return pids

    def stop(self) -> None:
        subprocess.run(["bash", str(BACKENDS_SCRIPT), "stop"], env=self.env, capture_output=True, timeout=120)


def backend_settings(backend: str, var_dir: Path, kafka_bootstrap: str = "", mongodb_uri: str = "") -> BackendSettings:
    """The settings of a fresh deployment: a new data directory, or a new namespace on shared servers."""
    configured = BackendSettings.from_env()
    if backend == "embedded":
        return BackendSettings(backend="embedded", data_dir=str(var_dir / "data"),
                               sqlite_synchronous=configured.sqlite_synchronous)
    return BackendSettings(backend="kafka", kafka_bootstrap=kafka_bootstrap, mongodb_uri=mongodb_uri,
                           kafka_partitions=configured.kafka_partitions, namespace=f"bench{uuid.uuid4().hex[:8]}_")



@dataclass
class RunningSystem:
    process: subprocess.Popen
    var_dir: Path
    log_path: Path
    demo: dict = field(default_factory=dict)

    @property
    def processes_json(self) -> Path:
        return self.var_dir / "run" / "processes.json"

    def url(self, service: str) -> str:
        return self.demo[f"{service}_url"]

    def pids(self) -> dict[str, int]:
        return json.loads(self.processes_json.read_text())

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_system(settings: BackendSettings, var_dir: Path, port_base: int, timeout_s: float = 180, *,
                 extra_env: dict[str, str] | None = None, system_class: type = RunningSystem) -> RunningSystem:
    """Start ``griddesk run --demo`` and wait until every service is ready. ``extra_env`` overrides the
    defaults below; ``system_class`` lets the system tests add their own helpers to the handle."""
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
    # The load comes from one demo key (each report from its own phone): rate limits would measure
    # themselves, not the pipeline (0 = unlimited; set them explicitly to benchmark with limits on).
    for limit in ("KEY_PER_MINUTE", "PHONE_PER_HOUR", "IP_PER_MINUTE"):
        env.setdefault(f"GRIDDESK_INTAKE_RATE_{limit}", "0")
    for offset, service in enumerate(SERVICES, start=1):
        env[f"GRIDDESK_{service.upper()}_PORT"] = str(port_base + offset)
    env.update(extra_env or {})
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = var_dir / "system.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "services.cli", "run", "--demo", "--var-dir", str(var_dir)],
                                   env=env, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT)
    system = system_class(process, var_dir, log_path)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemFailed(f"griddesk run exited with {process.returncode}:\n{system.logs()}")
            demo_path = var_dir / "demo.json"
            if demo_path.exists() and system.processes_json.exists():
                system.demo = json.loads(demo_path.read_text())
                if all(http_status(system.url(s), "/readyz") == 200 for s in SERVICES):
                    return system
            time.sleep(0.3)
        raise SystemFailed(f"the system did not become ready in {timeout_s:.0f}s:\n{system.logs()}")
    except BaseException:
        system.stop()
        raise


def http_status(base_url: str, path: str, headers: dict | None = None) -> int:
    return http_get(base_url, path, headers)[0]


def http_get(base_url: str, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        connection.close()


def unit_codes(system: RunningSystem) -> list[str]:
    """Every unit of the demo district, read from the tracker's org API as a client would."""
    status, body = http_get(system.url("tracker"), "/api/v1/org/units",
                            {"Authorization": f"Bearer {system.demo['staff_token']}"})
    if status != 200:
        raise SystemFailed(f"the tracker's org API answered {status}")
    return [unit["code"] for unit in json.loads(body)["items"]]
