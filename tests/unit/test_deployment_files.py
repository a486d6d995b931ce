"""The deployment files -- docker-compose.yml, deploy/Dockerfile, deploy/prometheus/prometheus.yml and
.dockerignore -- checked against the code they deploy. No Docker engine is needed: the files are parsed
and compared with the CLI, the settings modules and each other."""
from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
import yaml
from packaging.specifiers import SpecifierSet

from services.cli import main as griddesk_cli
from services.launcher import SERVICES
from shared.config import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DOCKERIGNORE = ROOT / ".dockerignore"

API = {service: service for service in SERVICES}                # compose service -> griddesk service
WORKERS = {f"{service}-worker": service for service in SERVICES}
ADMIN = "admin"                                                  # one-off administration, profile-only
GRIDDESK_CONTAINERS = [*API, *WORKERS, ADMIN]
LONG_RUNNING = [*API, *WORKERS]
SECRET = "test-secret-key"


# ------------------------------------------------------------------ helpers

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def default_port(service: str) -> int:
    return importlib.import_module(f"services.{service}.settings").DEFAULT_PORT


def settings_class(service: str):
    module = importlib.import_module(f"services.{service}.settings")  # the choice launcher.ServiceModules makes
    return next(getattr(module, name) for name in dir(module)
                if name.endswith("Settings") and name not in ("BackendSettings", "HttpSettings"))


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value, host_env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} against host_env."""
    def substitute(match: re.Match) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        present = name in host_env
        usable = present and (host_env[name] != "" or not (operator or "").startswith(":"))
        if operator in (":?", "?") and not usable:
            raise LookupError(f"compose would stop: {name}: {argument}")
        if operator in (":-", "-") and not usable:
            return argument
        return host_env.get(name, "")
    return _INTERPOLATION.sub(substitute, str(value).replace("$$", "\0")).replace("\0", "$")


def raw_environment(definition: dict) -> dict[str, str]:
    env = definition.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def environment(definition: dict, host_env: dict[str, str] | None = None) -> dict[str, str]:
    host_env = {"GRIDDESK_SECRET_KEY": SECRET} if host_env is None else host_env
    return {key: interpolate(value, host_env) for key, value in raw_environment(definition).items()}


def names_the_code_reads() -> set[str]:
    """GRIDDESK_* names in the configuration code: string literals, plus the per-service names built as
    prefix = f"GRIDDESK_{service.upper()}" and f"{prefix}_SUFFIX", expanded for every service."""
    names: set[str] = set()
    for path in [ROOT / "shared" / "config.py", *sorted((ROOT / "services").glob("*/settings.py"))]:
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"""["'](GRIDDESK_[A-Z0-9_]+)["']""", text))
        for prefix in re.findall(r"""(\w+)\s*=\s*f["']GRIDDESK_\{service\.upper\(\)\}["']""", text):
            for suffix in re.findall(r"""f["']\{""" + prefix + r"""\}_([A-Z0-9_]+)["']""", text):
                names |= {f"GRIDDESK_{service.upper()}_{suffix}" for service in SERVICES}
    return names


def check_cli(args: list[str]):
    """Parse `griddesk <args>` the way click will in the container; returns the subcommand's context."""
    assert isinstance(args, list) and args and all(isinstance(a, str) for a in args), \
        f"command must be an exec-form list of strings, got {args!r}"
    root = click.Context(griddesk_cli, info_name="griddesk")
    if args == ["--help"]:
        return None
    command = griddesk_cli.get_command(root, args[0])
    assert command is not None, f"griddesk has no subcommand {args[0]!r}"
    try:
        return command.make_context(args[0], list(args[1:]), parent=root)
    except click.ClickException as error:
        pytest.fail(f"`griddesk {' '.join(args)}` does not parse: {error.format_message()}")


def published_ports(definition: dict) -> list[tuple[int, int]]:
    result = []
    for entry in definition.get("ports") or []:
        if isinstance(entry, dict):
            result.append((int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        assert len(parts) in (2, 3), f"publish both sides explicitly: {entry!r}"
        result.append((int(parts[-2]), int(parts[-1])))
    return result


def volume_mounts(definition: dict) -> dict[str, str]:
    """target -> source of the service's volumes (short syntax)."""
    mounts = {}
    for entry in definition.get("volumes") or []:
        source, target = str(entry).split(":")[:2]
        mounts[target] = source
    return mounts


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped, as Docker reads them."""
    result, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not current):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, arguments = current.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a line continuation"
    return result


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def healthcheck_command() -> list[str]:
    arguments = [a for k, a in final_stage() if k == "HEALTHCHECK"]
    assert len(arguments) == 1, "the image needs exactly one HEALTHCHECK"
    _options, marker, command = arguments[0].partition(" CMD ")
    assert marker, "HEALTHCHECK must have a CMD"
    return json.loads(command)  # exec form: JSON, no shell


def image_uid() -> int:
    runs = " ".join(a for k, a in final_stage() if k == "RUN")
    match = re.search(r"useradd\b[^&;]*--uid (\d+)", runs)
    assert match, "the image must create its user with a fixed --uid"
    return int(match.group(1))


# ------------------------------------------------------------------ docker-compose.yml: the griddesk containers

def test_every_service_has_an_api_container_and_a_worker_container(services):
    for name in GRIDDESK_CONTAINERS:
        assert name in services, f"docker-compose.yml lacks the {name} service"


def test_all_griddesk_containers_run_one_image_built_from_deploy_dockerfile(services):
    builds = {name: services[name].get("build") for name in GRIDDESK_CONTAINERS}
    images = {name: services[name].get("image") for name in GRIDDESK_CONTAINERS}
    assert len({json.dumps(b, sort_keys=True) for b in builds.values()}) == 1, builds
    assert len(set(images.values())) == 1 and None not in images.values(), images
    build = builds[API["intake"]]
    assert isinstance(build, dict), "build needs context and dockerfile"
    context = (ROOT / build["context"]).resolve()
    assert context == ROOT, "the build context must be the repository root (the Dockerfile copies from it)"
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE
    others = [name for name, d in services.items() if name not in GRIDDESK_CONTAINERS
              and (d.get("build") or d.get("image") == images[API["intake"]])]
    assert others == [], f"non-griddesk services use the griddesk image: {others}"


def test_commands_are_griddesk_subcommands_for_the_right_service(services):
    for name, service in API.items():
        context = check_cli(services[name].get("command"))
        assert (context.info_name, context.params) == ("serve", {"service": service}), name
    for name, service in WORKERS.items():
        context = check_cli(services[name].get("command"))
        assert (context.info_name, context.params) == ("worker", {"service": service}), name
    check_cli(services[ADMIN].get("command"))
    for name in GRIDDESK_CONTAINERS:  # the image's ENTRYPOINT ["griddesk"] must stay in charge
        assert "entrypoint" not in services[name], f"{name} overrides the image's entrypoint"


def test_the_cli_check_rejects_a_wrong_command():
    with pytest.raises(pytest.fail.Exception):
        check_cli(["serve", "intak"])
    with pytest.raises(AssertionError):
        check_cli(["serv", "intake"])
    with pytest.raises(AssertionError):
        check_cli("serve intake")  # a string would run through a shell-less split only by luck


def test_the_containers_share_one_environment_from_the_anchor(compose, services):
    anchor = compose.get("x-griddesk-env")
    assert isinstance(anchor, dict) and anchor, "docker-compose.yml needs the x-griddesk-env anchor"
    for name in LONG_RUNNING:
        assert raw_environment(services[name]) == raw_environment({"environment": anchor}), name


def test_every_griddesk_variable_in_compose_is_one_the_code_reads(services):
    known = names_the_code_reads()
    # the extraction itself: plain names and the f-string-built per-service names are both found
    assert {"GRIDDESK_BACKEND", "GRIDDESK_KAFKA_BOOTSTRAP", "GRIDDESK_SECRET_KEY", "GRIDDESK_PUBLIC_URL",
            "GRIDDESK_HOST", "GRIDDESK_INTAKE_PORT", "GRIDDESK_NOTIFIER_WORKERS"} <= known
    assert "GRIDDESK_BACKENDS" not in known and "GRIDDESK_INTAKE_SECRET_KEY" not in known
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    interpolated = set(re.findall(r"\$\{(GRIDDESK_[A-Z0-9_]*)", text))
    assert interpolated - known == set(), "compose interpolates GRIDDESK_ names the code never reads"
    metrics_source = (ROOT / "shared" / "observability" / "metrics.py").read_text(encoding="utf-8")
    for name in GRIDDESK_CONTAINERS:
        env = raw_environment(services[name])
        unknown = {key for key in env if key.startswith("GRIDDESK_")} - known
        assert unknown == set(), f"{name} sets variables no code reads: {sorted(unknown)}"
        others = {key for key in env if not key.startswith("GRIDDESK_")}
        assert others <= {"PROMETHEUS_MULTIPROC_DIR"}, f"{name}: unexpected variables {sorted(others)}"
        assert all(key in metrics_source for key in others)
    image_env = " ".join(a for k, a in final_stage() if k == "ENV")
    unknown_in_image = set(re.findall(r"\b(GRIDDESK_[A-Z0-9_]+)=", image_env)) - known
    assert unknown_in_image == set(), f"the Dockerfile sets variables no code reads: {unknown_in_image}"


def test_the_secret_key_must_come_from_the_operator(services):
    for name in GRIDDESK_CONTAINERS:
        raw = raw_environment(services[name]).get("GRIDDESK_SECRET_KEY", "")
        assert re.fullmatch(r"\$\{GRIDDESK_SECRET_KEY:\?[^}]+\}", raw), f"{name}: {raw!r}"
        with pytest.raises(LookupError):
            environment(services[name], host_env={})
        with pytest.raises(LookupError):
            environment(services[name], host_env={"GRIDDESK_SECRET_KEY": ""})


def test_each_service_loads_its_settings_from_the_compose_environment(services):
    for name, service in [*API.items(), *WORKERS.items()]:
        settings = settings_class(service).from_env(environment(services[name]))
        assert settings.backend.backend == "kafka" and settings.backend.backend in BACKENDS, name
        assert settings.http.host == "0.0.0.0", f"{name} would listen on {settings.http.host} only"
        assert settings.http.port == default_port(service), name
        assert settings.backend.kafka_replication == 1, "one broker: topics cannot have more replicas"
        if service == "intake":
            assert settings.secret_key == SECRET


def test_the_backend_addresses_point_at_the_compose_backends(services):
    for name in GRIDDESK_CONTAINERS:
        backend = settings_class("tracker").from_env(environment(services[name])).backend
        host, _, port = backend.kafka_bootstrap.rpartition(":")
        assert host in services, f"{name}: Kafka bootstrap host {host!r} is not a compose service"
        advertised = environment(services[host])["KAFKA_ADVERTISED_LISTENERS"].split(",")
        assert f"PLAINTEXT://{host}:{port}" in advertised, f"{name}: {backend.kafka_bootstrap} is not advertised"
        mongo = urlsplit(backend.mongodb_uri)
        assert mongo.scheme == "mongodb" and mongo.hostname in services, backend.mongodb_uri
        assert (mongo.port or 27017) == 27017
        assert services[mongo.hostname]["image"].split(":")[0] == "mongo"


def test_api_ports_are_the_services_default_ports_and_workers_publish_none(services):
    seen = []
    for name, service in API.items():
        assert published_ports(services[name]) == [(default_port(service), default_port(service))], name
    for name in [*WORKERS, ADMIN]:
        assert published_ports(services[name]) == [], f"{name} has no HTTP server to publish"
    for definition in services.values():
        seen += [host for host, _ in published_ports(definition)]
    assert len(seen) == len(set(seen)), f"a host port is published twice: {seen}"
    assert sorted(default_port(s) for s in SERVICES) == [8001, 8002, 8003, 8004]


def test_depends_on_targets_exist_and_can_become_healthy(services):
    image_has_healthcheck = any(k == "HEALTHCHECK" for k, _ in final_stage())
    for name, definition in services.items():
        depends = definition.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {target: {"condition": "service_started"} for target in depends}
        for target, options in depends.items():
            assert target in services, f"{name} depends on {target!r}, which does not exist"
            condition = options.get("condition", "service_started")
            assert condition in ("service_started", "service_healthy", "service_completed_successfully")
            if condition == "service_healthy":
                check = services[target].get("healthcheck")
                own = isinstance(check, dict) and check.get("test") and not check.get("disable")
                inherited = check is None and target in GRIDDESK_CONTAINERS and image_has_healthcheck
                assert own or inherited, f"{name} waits for {target} to be healthy, but it has no healthcheck"
    for name in GRIDDESK_CONTAINERS:
        depends = services[name].get("depends_on") or {}
        for backend in ("kafka", "mongo"):
            assert depends.get(backend, {}).get("condition") == "service_healthy", f"{name} -> {backend}"


def test_long_running_containers_restart_unless_stopped(services):
    for name, definition in services.items():
        if name == ADMIN:
            assert definition.get("profiles"), "admin must not start with `docker compose up`"
            continue
        assert definition.get("restart") == "unless-stopped", name


# ------------------------------------------------------------------ metrics dirs

def test_each_service_shares_an_emptied_metrics_dir_with_its_worker_only(compose, services):
    uid = image_uid()
    volumes = compose.get("volumes") or {}
    used = {}
    for api_name, service in API.items():
        pair = [api_name, f"{service}-worker"]
        dirs = {environment(services[n]).get("PROMETHEUS_MULTIPROC_DIR") for n in pair}
        assert len(dirs) == 1 and None not in dirs and "" not in dirs, f"{pair}: {dirs}"
        directory = dirs.pop()
        sources = {volume_mounts(services[n]).get(directory) for n in pair}
        assert len(sources) == 1 and None not in sources, f"{pair} must mount one volume at {directory}"
        source = sources.pop()
        assert source in volumes, f"{source} must be a named volume (shared by both containers)"
        used[service] = source
        # emptied whenever no container uses it: a tmpfs-backed volume, writable by the image's user
        options = (volumes[source] or {}).get("driver_opts") or {}
        assert options.get("type") == "tmpfs" and options.get("device") == "tmpfs", source
        mount_options = dict(o.split("=", 1) for o in options.get("o", "").split(",") if "=" in o)
        assert mount_options.get("uid") == str(uid) and mount_options.get("gid"), source
    assert len(set(used.values())) == len(used), f"services must not share a metrics volume: {used}"
    admin_env = environment(services[ADMIN])
    assert admin_env.get("PROMETHEUS_MULTIPROC_DIR") == "", "one-off commands must not write a service's metrics"
    assert not set(volume_mounts(services[ADMIN]).values()) & set(used.values())


def test_griddesk_is_pid_1_in_every_container(services):
    # the metrics dir sharing relies on it (see docker-compose.yml): no init process, no shared PID namespace
    for name in GRIDDESK_CONTAINERS:
        assert not services[name].get("init"), f"{name}: init: true would move griddesk off PID 1"
        assert "pid" not in services[name], name
    entrypoints = [a for k, a in final_stage() if k == "ENTRYPOINT"]
    assert entrypoints and entrypoints[-1].startswith("["), "ENTRYPOINT must be exec form, not a shell"


# ------------------------------------------------------------------ backends and Prometheus in compose

def test_kafka_is_a_single_kraft_node_with_explicit_topics(services):
    kafka = services["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"]), kafka["image"]
    env = environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env.get("CLUSTER_ID"), "the apache/kafka image formats storage with CLUSTER_ID"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "KAFKA_DEFAULT_REPLICATION_FACTOR",
                "KAFKA_MIN_INSYNC_REPLICAS"):
        assert env.get(key) == "1", key
    listeners = dict(re.fullmatch(r"(\w+)://([^:]*):(\d+)", l).group(1, 3) for l in env["KAFKA_LISTENERS"].split(","))
    bound_hosts = {re.fullmatch(r"\w+://([^:]*):\d+", l).group(1) for l in env["KAFKA_LISTENERS"].split(",")}
    assert bound_hosts <= {"", "0.0.0.0"}, "listeners must bind all interfaces to be reachable from other containers"
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(listeners) <= set(protocols), "every listener needs a security protocol"
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners
    node_id, _, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert node_id == env["KAFKA_NODE_ID"] and voter == f"kafka:{listeners[controller]}"
    for advertised in env["KAFKA_ADVERTISED_LISTENERS"].split(","):
        name, host, port = re.fullmatch(r"(\w+)://([^:]+):(\d+)", advertised).groups()
        assert name != controller, "the controller listener is not advertised to clients"
        assert host in services and listeners.get(name) == port, advertised
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in listeners
    assert volume_mounts(kafka).get(env["KAFKA_LOG_DIRS"]), "Kafka's log dir must be on a volume"
    assert kafka.get("healthcheck", {}).get("test")


def test_mongo_keeps_its_data_on_a_volume(compose, services):
    mongo = services["mongo"]
    assert mongo["image"] == "mongo:7"
    assert volume_mounts(mongo).get("/data/db") in (compose.get("volumes") or {})
    assert mongo.get("healthcheck", {}).get("test")


def prometheus_jobs(config: dict) -> dict[str, dict]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_prometheus_scrapes_every_api_container(services):
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    jobs = prometheus_jobs(config)
    for name, service in API.items():
        job = jobs.get(service)
        assert job, f"prometheus.yml has no job for {service}"
        targets = [t for static in job["static_configs"] for t in static["targets"]]
        container_port = published_ports(services[name])[0][1]
        assert targets == [f"{name}:{container_port}"], targets
        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert job.get("scrape_interval", config.get("global", {}).get("scrape_interval")) == "15s"
    prometheus = services["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    mounts = volume_mounts(prometheus)
    assert (ROOT / mounts["/etc/prometheus/prometheus.yml"]).resolve() == PROMETHEUS_FILE
    assert published_ports(prometheus) == [(9090, 9090)]


def test_prometheus_file_carries_the_local_make_run_variant():
    text = PROMETHEUS_FILE.read_text(encoding="utf-8")
    _, marker, tail = text.partition("# scrape_configs:")
    assert marker, "the commented local variant is missing"
    block = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                      for line in (marker + tail).splitlines() if line.startswith("#"))
    jobs = prometheus_jobs(yaml.safe_load(block))
    for service in SERVICES:
        targets = [t for static in jobs[service]["static_configs"] for t in static["targets"]]
        assert targets == [f"127.0.0.1:{default_port(service)}"], service


# ------------------------------------------------------------------ deploy/Dockerfile

def test_the_image_is_python_3_11_slim_and_matches_requires_python():
    bases = [a.split()[0] for k, a in dockerfile_instructions() if k == "FROM"]
    assert bases and all(b == "python:3.11-slim" for b in bases), bases
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "3.11.99" in SpecifierSet(project["requires-python"])


def test_the_image_installs_the_project_and_runs_griddesk_as_a_non_root_user():
    stage = final_stage()
    keywords = [k for k, _ in stage]
    users = [a for k, a in stage if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    entrypoints = [a for k, a in stage if k == "ENTRYPOINT"]
    assert len(entrypoints) == 1 and json.loads(entrypoints[0]) == ["griddesk"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["griddesk"] == "services.cli:main"
    runs = " ".join(a for k, a in dockerfile_instructions() if k == "RUN")
    assert "pip wheel" in runs and "pip install" in runs and "pyproject.toml" in runs
    assert "--uid 0 " not in runs and image_uid() != 0


def test_the_image_exposes_the_four_api_ports():
    exposed = set()
    for arguments in (a for k, a in final_stage() if k == "EXPOSE"):
        for token in arguments.split():
            low, _, high = token.split("/")[0].partition("-")
            exposed |= set(range(int(low), int(high or low) + 1))
    assert {default_port(s) for s in SERVICES} <= exposed, exposed


def test_what_the_dockerfile_copies_exists_and_is_not_ignored():
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    for wanted in (".venv", ".cache", "var", ".git", ".pytest_cache", "test-artifacts"):
        assert any(p.strip("/") in (wanted, f"**/{wanted}") for p in patterns), f".dockerignore lacks {wanted}"
    copied = []
    for keyword, arguments in dockerfile_instructions():
        if keyword == "COPY" and "--from=" not in arguments:
            copied += [a for a in arguments.split()[:-1] if not a.startswith("--")]
    assert {"pyproject.toml", "shared", "services"} <= set(copied), copied
    for source in copied:
        assert (ROOT / source).exists(), source
        excluded = [p for p in patterns if not p.startswith("!") and fnmatch.fnmatch(source, p.removeprefix("**/"))]
        assert excluded == [], f".dockerignore excludes {source}, which the Dockerfile copies"


class _Health(BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []

    def do_GET(self):
        type(self).paths.append(self.path)
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def run_healthcheck(tmp_path, cmdline: list[str], port: int) -> int:
    argv = healthcheck_command()
    assert argv[:2] == ["python", "-c"] and len(argv) == 3, argv
    code = argv[2]
    assert code.count("/proc/1/cmdline") == 1 and "/healthz" in code
    fake = tmp_path / "cmdline"
    fake.write_bytes("\0".join(cmdline).encode() + b"\0")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDDESK_")}
    env["GRIDDESK_TRACKER_PORT"] = str(port)
    result = subprocess.run([sys.executable, "-c", code.replace("/proc/1/cmdline", str(fake))],
                            cwd=ROOT, env=env, capture_output=True, timeout=60)
    return result.returncode


def test_the_image_healthcheck_asks_the_served_service_for_healthz(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    serve_tracker = ["/usr/local/bin/python3.11", "/usr/local/bin/griddesk", "serve", "tracker"]
    try:
        _Health.status, _Health.paths = 200, []
        assert run_healthcheck(tmp_path, serve_tracker, port) == 0
        assert _Health.paths == ["/healthz"]
        _Health.status = 503
        assert run_healthcheck(tmp_path, serve_tracker, port) != 0
        _Health.paths = []
        worker = ["/usr/local/bin/python3.11", "/usr/local/bin/griddesk", "worker", "tracker"]
        assert run_healthcheck(tmp_path, worker, port) == 0 and _Health.paths == []
    finally:
        server.shutdown()
        server.server_close()
    assert run_healthcheck(tmp_path, serve_tracker, port) != 0  # nothing listening any more
