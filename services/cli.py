"""The ``griddesk`` command."""
from __future__ import annotations

import json
import os
import sys

import click

from shared.config import BACKENDS, BackendSettings
from services.launcher import SERVICES

DEFAULT_PORTS = {"intake": 8001, "router": 8002, "tracker": 8003, "notifier": 8004}


@click.group()
def main() -> None:
    """griddesk: case dispatch for community grid governance."""


@main.command()
@click.argument("service", type=click.Choice(SERVICES))
def serve(service: str) -> None:
    """Serve a service's HTTP API under gunicorn."""
    from services.launcher import serve as serve_service

    serve_service(service)


@main.command()
@click.argument("service", type=click.Choice(SERVICES))
def worker(service: str) -> None:
    """Run a service's worker (consume loop, relay)."""
    from services.launcher import run_worker

    run_worker(service)


@main.command()
@click.option("--backend", type=click.Choice(BACKENDS), default=None, help="overrides GRIDDESK_BACKEND")
@click.option("--demo/--no-demo", default=False,
              help="load the demo district (replacing the org registry) and issue demo credentials")
@click.option("--var-dir", default="var", show_default=True)
def run(backend: str | None, demo: bool, var_dir: str) -> None:
    """Start all four services (HTTP and workers) and supervise them until Ctrl-C."""
    from services.supervisor import supervise

    env = dict(os.environ)
    if backend:
        env["GRIDDESK_BACKEND"] = backend
    env.setdefault("GRIDDESK_DATA_DIR", os.path.join(var_dir, "data"))
    settings = BackendSettings.from_env(env)
    host = env.get("GRIDDESK_HOST", "127.0.0.1")
    ports = {s: int(env.get(f"GRIDDESK_{s.upper()}_PORT", DEFAULT_PORTS[s])) for s in SERVICES}
    _refuse_taken_ports(host, ports)
    urls = {f"{s}_url": f"http://{host}:{ports[s]}" for s in SERVICES}
    demo_info = _demo(settings, var_dir, urls) if demo else None

    def announce() -> None:
        click.echo(f"griddesk is starting on the {settings.backend} backend:")
        for service in SERVICES:
            click.echo(f"  {service:<9} {urls[service + '_url']}")
        if demo_info:
            click.echo(f"  demo credentials in {os.path.join(var_dir, 'demo.json')}:")
            click.echo(f"    intake API key (X-API-Key):   {demo_info['api_key']}")
            click.echo(f"    district staff token:         {demo_info['staff_token']}")
            click.echo(f"    grid {demo_info['grid_code']} staff token:  {demo_info['grid_staff_token']}")
        click.echo("Ctrl-C stops everything.")

    sys.exit(supervise(var_dir, env, on_started=announce))


def _refuse_taken_ports(host: str, ports: dict[str, int]) -> None:
    """Stop before starting anything if a port is taken. The HTTP servers bind with SO_REUSEPORT (a
    restarted server must bind while a killed one's workers drain), so a second griddesk on the same
    ports would otherwise start quietly and share every connection with the first."""
    import socket

    for service, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # as the servers themselves bind: a TIME_WAIT left by an earlier connection does not take the
            # port (on Linux the ports of the tests lie in the ephemeral range, where a client's closed
            # connection often leaves one), a server listening on it does
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise click.ClickException(
                    f"{service}'s port {host}:{port} is taken ({error.strerror}): is another griddesk running? "
                    f"Stop it, or choose other ports with GRIDDESK_{service.upper()}_PORT.") from None


def _demo(settings: BackendSettings, var_dir: str, urls: dict) -> dict:
    from services.demo import set_up_demo
    from shared.backends import build_store

    store = _wait_for_store(settings)
    try:
        return set_up_demo(store, var_dir=var_dir, urls=urls)
    finally:
        store.close()


def _wait_for_store(settings: BackendSettings):
    import time

    from shared.backends import build_store
    from shared.errors import BackendUnavailable

    deadline = time.monotonic() + 60
    while True:
        store = build_store(settings)
        try:
            store.ping()
            return store
        except BackendUnavailable:
            store.close()
            if time.monotonic() > deadline:
                raise click.ClickException(f"the {settings.backend} document store does not answer")
            time.sleep(1)


@main.group()
def org() -> None:
    """The org registry."""


@org.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def org_import(path: str) -> None:
    """Load an org registry file (YAML or JSON; see docs/org-registry.md)."""
    from shared.org.registry import RegistryError, import_registry, load_file

    try:
        registry = load_file(path)
        store = _wait_for_store(BackendSettings.from_env())
        result = import_registry(store, registry)
    except RegistryError as error:
        raise click.ClickException(str(error))
    counts = ", ".join(f"{n} {level}" for level, n in result.by_level.items() if n)
    click.echo(f"imported {result.units} org units ({counts}); removed {result.removed}")


@org.command("demo")
@click.option("--out", type=click.Path(dir_okay=False), default="-", help="file to write (default stdout)")
@click.option("--communities", default=3, show_default=True)
def org_demo(out: str, communities: int) -> None:
    """Write the demo district (前进街) as an org registry file."""
    import yaml

    from shared.org.demo import demo_registry

    text = yaml.safe_dump(demo_registry(communities=communities), allow_unicode=True, sort_keys=False)
    if out == "-":
        click.echo(text)
    else:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)


@main.group()
def credentials() -> None:
    """API keys for intake channels and staff tokens."""


@credentials.command("api-key")
@click.option("--name", required=True)
@click.option("--channel", "channels", multiple=True,
              help="allowed channel (repeat); default all, or none for a department key")
@click.option("--department", default=None,
              help="a functional department's code: the key acts on that department's assignments")
def issue_api_key(name: str, channels: tuple[str, ...], department: str | None) -> None:
    """Issue an intake API key; it is printed once and stored hashed."""
    from shared import auth

    store = _wait_for_store(BackendSettings.from_env())
    default_channels = () if department else auth.CHANNELS
    try:
        click.echo(auth.issue_api_key(store, name, channels or default_channels, department=department))
    except ValueError as error:
        raise click.ClickException(str(error))


@credentials.command("staff-token")
@click.option("--name", required=True)
@click.option("--role", required=True)
@click.option("--org", "org_code", required=True, help="org unit code the token is limited to")
def issue_staff_token(name: str, role: str, org_code: str) -> None:
    """Issue a staff bearer token bound to a role and an org unit's subtree."""
    from shared import auth
    from shared.org.registry import ORG_UNITS

    store = _wait_for_store(BackendSettings.from_env())
    unit = store.get(ORG_UNITS, org_code)
    if unit is None:
        raise click.ClickException(f"no org unit {org_code!r}; import the registry first")
    click.echo(auth.issue_staff_token(store, name, role, org_code, unit["level"]))


@credentials.command("list")
def list_credentials() -> None:
    """List credentials (id prefix, kind, name, scope, revoked); secrets are never shown again."""
    from shared import auth

    for row in auth.listing(_wait_for_store(BackendSettings.from_env())):
        click.echo(f"{row['id']}  {row['kind']:<11}  {'REVOKED' if row['revoked'] else 'active ':<7}  "
                   f"{row['issued_at'][:19]}  {row['scope']:<24}  {row['name']}")


@credentials.command("revoke")
@click.argument("credential_id")
def revoke_credential(credential_id: str) -> None:
    """Revoke the credential whose id (from `credentials list`) starts with CREDENTIAL_ID."""
    from shared import auth

    try:
        auth.revoke_by_prefix(_wait_for_store(BackendSettings.from_env()), credential_id)
    except ValueError as error:
        raise click.ClickException(str(error))
    click.echo("revoked")


@main.command("demo-setup")
@click.option("--var-dir", default="var", show_default=True)
def demo_setup(var_dir: str) -> None:
    """Load the demo district and write demo credentials to VAR_DIR/demo.json (no services started)."""
    settings = BackendSettings.from_env()
    urls = {f"{s}_url": f"http://127.0.0.1:{DEFAULT_PORTS[s]}" for s in SERVICES}
    click.echo(json.dumps(_demo(settings, var_dir, urls), ensure_ascii=False, indent=2))


# ---------------------------------------------------------------- classify (the router's classifier)
@main.command()
@click.option("--evaluate", "evaluate_path", type=click.Path(exists=True, dir_okay=False),
              help="a labelled JSONL file (text, category, tier): print accuracy instead of classifying stdin")
@click.option("--misses", is_flag=True, help="with --evaluate: also list the reports it got wrong")
@click.option("--train", is_flag=True, help="train the n-gram model on every labelled report the team owns")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="with --train: where to write the model "
              "(default: services/router/data/model.json)")
@click.option("--cross-validate", "cross_validate", is_flag=True,
              help="leave one author out: lexicon alone, model alone and the combination, per author")
def classify(evaluate_path: str | None, misses: bool, train: bool, out_path: str | None,
             cross_validate: bool) -> None:
    """Classify JSON Lines from stdin ({"text": ..., "hint": ...}), one JSON line out per line in."""
    from services.router.bootstrap import ModelFileError, load_classifier, load_routing
    from services.router.normalise import to_simplified
    from services.router.settings import RouterSettings

    settings = RouterSettings.from_env()
    if train or cross_validate:
        _learn(load_classifier(settings.lexicon_file, "none"), out_path, cross_validate)
        return
    try:
        classifier = load_classifier(settings.lexicon_file, settings.model_file)
    except ModelFileError as error:
        raise click.ClickException(str(error))
    if evaluate_path:
        from services.router.evaluation import evaluate, report

        with open(evaluate_path, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        scores = evaluate(rows, lambda text, hint: classifier.classify(to_simplified(text), hint))
        click.echo(report(scores))
        for miss in scores.misses if misses else ():
            click.echo(json.dumps(miss, ensure_ascii=False))
        return
    triage_below = load_routing(settings).triage_below
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text, hint = item["text"], item.get("hint")
        except (ValueError, KeyError, TypeError):
            raise click.ClickException(f"line {number}: expected a JSON object with a \"text\"")
        verdict = classifier.classify(to_simplified(str(text)), hint)
        click.echo(json.dumps({"category": verdict.category, "tier": verdict.tier, "confidence": verdict.confidence,
                               "manual_triage": verdict.tier != "emergency" and verdict.confidence < triage_below,
                               "explanation": verdict.explanation}, ensure_ascii=False))


def _learn(classifier, out_path: str | None, cross_validate: bool) -> None:
    """``--train`` and ``--cross-validate`` (both need scikit-learn: ``pip install -e .[test]``)."""
    from services.router.normalise import to_simplified

    try:
        from services.router import cross_validation, training
    except ImportError as error:
        raise click.ClickException(f"{error}: training needs scikit-learn (pip install -e '.[test]')")
    rows = training.training_rows()

    def fold(text: str) -> str:  # the classifier's own normalisation: the model learns what it will read
        return classifier.fold(to_simplified(text))

    if cross_validate:
        held = cross_validation.held_out_readings(rows, classifier, fold, lambda line: click.echo(line, err=True))
        click.echo(cross_validation.report(held))
        return
    path = out_path or str(training.DATA / "model.json")
    model = training.train(rows, fold)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(training.dumps(model))
    click.echo(f"{path}: {len(model['features'])} n-grams, {model['training']['reports']} reports "
               f"(sha256 {model['training']['sha256'][:12]})")


def _bench_group() -> click.Group:
    """The ``bench`` group (the benchmark driver defines it too; whichever module part runs first makes it)."""
    existing = main.commands.get("bench")
    if isinstance(existing, click.Group):
        return existing

    @main.group("bench")
    def bench_group() -> None:
        """Benchmarks."""

    return bench_group


@_bench_group().command("classify")
@click.option("--rounds", default=5, show_default=True, help="passes over the evaluation set")
def bench_classify(rounds: int) -> None:
    """Reports per second for classification plus location (address or coordinates), one process."""
    from services.router.benchmark import run as run_benchmark

    result = run_benchmark(rounds)
    click.echo(f"{result.reports} reports in {result.seconds:.2f}s: {result.per_second:.0f} reports/s "
               "(classification + location, one process)")
@main.command()
@click.option("--replay", is_flag=True, required=True, help="replay past reports (the only mode)")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="the routing rules to try (see services/router/data/routing.yaml)")
@click.option("--days", default=7.0, show_default=True, help="how far back")
@click.option("--all", "show_all", is_flag=True, help="list unchanged cases too")
def route(replay: bool, config_path: str, days: float, show_all: bool) -> None:
    """Show how the last DAYS of reports would have been routed under CONFIG; changes nothing."""
    from services.router.bootstrap import build
    from services.router.replay import replay as replay_reports
    from services.router.routing_rules import RoutingRulesError, load_rules

    try:
        rules = load_rules(config_path)
    except RoutingRulesError as error:
        raise click.ClickException(str(error))
    router = build()
    try:
        results = replay_reports(router, rules, days)
    finally:
        router.log.close()
        router.store.close()
    changed = [r for r in results if r.changed]
    for row in results if show_all else changed:
        mark = "*" if row.changed else " "
        click.echo(f"{mark} {row.case_id:<28} {row.before:<44} => {row.after:<44} ack by {row.acknowledge_due[:16]}")
    click.echo(f"{len(results)} reports in the last {days:g} days; {len(changed)} would be routed differently "
               f"(rules version {rules.version}; nothing was changed)")
# ---------------------------------------------------------------- end of classify


# ---- replay and bench (tracker) ----------------------------------------------------------------------------

@main.command()
@click.option("--yes", is_flag=True, help="do not ask before wiping the tracker's projections")
def replay(yes: bool) -> None:
    """Rebuild the tracker's projections (cases, indicators) from the event log. Stop the tracker worker first."""
    from services.tracker import bootstrap
    from services.tracker.replay import progress_lines, rebuild

    if not yes:
        click.confirm("This wipes the tracker's cases and indicators and rebuilds them. Continue?", abort=True)
    tracker = bootstrap.build()
    bootstrap.prepare(tracker)
    try:
        if not sys.stdout.isatty():  # a job's log: a line every 100 000 events instead of a bar
            result = rebuild(tracker, progress_lines(click.echo, every=100_000))
        else:
            with click.progressbar(length=1, label="replaying events", show_pos=True) as bar:
                def advance(step: int, total: int) -> None:
                    bar.length = max(total, 1)
                    bar.update(step)

                result = rebuild(tracker, advance)
    finally:
        tracker.log.close()
        tracker.store.close()
    click.echo(f"projected {result['projected']} events ({result['skipped']} undecodable skipped)")


@_bench_group().command("tracker")
@click.option("--cases", default=10_000, show_default=True, help="synthetic cases to load")
@click.option("--repeat", default=30, show_default=True, help="runs of each indicator query")
@click.option("--batch", default=5000, show_default=True, help="events the replay folds per batch")
def bench_tracker(cases: int, repeat: int, batch: int) -> None:
    """Load CASES cases' events, replay them (events/s), time the dashboard's indicator queries (p50/p95)."""
    from services.tracker import bootstrap
    from services.tracker.bench import run_bench

    tracker = bootstrap.build()
    bootstrap.prepare(tracker)
    try:
        run_bench(tracker, cases, repeat, click.echo, batch_size=batch)
    finally:
        tracker.log.close()
        tracker.store.close()

# ---- end replay and bench (tracker) ------------------------------------------------------------------------


# ---------------------------------------------------------------- bench (the benchmark driver, services/bench)

bench_group = main.commands.get("bench")  # another block above may already have made the group
if not isinstance(bench_group, click.Group):
    @main.group("bench")
    def bench_group() -> None:
        """Benchmarks (docs/benchmarks.md)."""


@bench_group.command("pipeline")
@click.option("--backend", type=click.Choice(BACKENDS), default="embedded", show_default=True)
@click.option("--cases", type=click.IntRange(min=1), default=1000, show_default=True, help="reports to drive")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="open loop: reports per second (default: as fast as intake answers)")
@click.option("--connections", type=click.IntRange(min=1), default=16, show_default=True,
              help="concurrent keep-alive client connections")
@click.option("--profile", is_flag=True, help="profile every service with py-spy while the reports flow")
@click.option("--profile-cpu-only", is_flag=True,
              help="with --profile: sample only threads holding the GIL (Python CPU time; no waits, and no C code "
                   "that runs without the GIL, such as SQLite's)")
@click.option("--port-base", type=int, default=lambda: int(os.environ.get("GRIDDESK_BENCH_PORT_BASE", "18400")),
              show_default="18400 or GRIDDESK_BENCH_PORT_BASE", help="services listen on port-base+1..+4")
@click.option("--baseline-batch", type=click.IntRange(min=1), default=100, show_default=True,
              help="records per append in the embedded baseline")
@click.option("--timeout", "notify_timeout_s", type=float, default=120.0, show_default=True,
              help="seconds to wait for the last notification")
@click.option("--write-doc", is_flag=True, help="replace this run's section of docs/benchmarks.md")
@click.option("--keep", is_flag=True, help="keep the temporary directory (logs, data)")
def bench_pipeline(backend: str, cases: int, rate: float | None, connections: int, profile: bool,
                   profile_cpu_only: bool, port_base: int, baseline_batch: int, notify_timeout_s: float,
                   write_doc: bool, keep: bool) -> None:
    """Drive N reports through intake → router → tracker → notifier and compare with the transport."""
    import signal

    from services.bench.pipeline import PipelineOptions, run_pipeline
    from services.bench.system import REPO

    command = " ".join(["griddesk bench pipeline", f"--backend {backend}", f"--cases {cases}"]
                       + ([f"--rate {rate:g}"] if rate else []) + (["--profile"] if profile else [])
                       + (["--profile-cpu-only"] if profile and profile_cpu_only else []))
    options = PipelineOptions(backend=backend, cases=cases, rate=rate, connections=connections, profile=profile,
                              profile_cpu_only=profile_cpu_only,
                              port_base=port_base, baseline_batch=baseline_batch, notify_timeout_s=notify_timeout_s,
                              keep_dir=keep, doc_path=REPO / "docs" / "benchmarks.md" if write_doc else None,
                              command=command)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the system and backends are stopped
    result = run_pipeline(options, say=click.echo)
    if result["missing"] or not result["accepted"]:
        sys.exit(1)


@bench_group.command("store")
@click.option("--documents", "sizes", type=click.IntRange(min=1), multiple=True, default=(1000, 10_000),
              show_default=True, help="collection sizes to time the operations at (repeatable)")
@click.option("--operations", type=click.IntRange(min=1), default=100, show_default=True,
              help="replaces and finds timed at each size")
def bench_store(sizes: tuple[int, ...], operations: int) -> None:
    """Time a compare-and-set replace and a find by a field against N documents, on the configured
    backend's store, in a fresh namespace that is discarded afterwards."""
    import dataclasses
    import tempfile
    import uuid

    from services.bench.report import load_average
    from services.bench.store_operations import run_store_bench
    from shared.backends import build_store, discard_namespace

    with tempfile.TemporaryDirectory(prefix="griddesk-bench-store-") as data_dir:
        settings = dataclasses.replace(BackendSettings.from_env(), data_dir=data_dir,
                                       namespace=f"benchstore{uuid.uuid4().hex[:8]}_")
        click.echo(f"backend {settings.backend} {settings.mongodb_uri if settings.backend == 'kafka' else data_dir}; "
                   f"load average {load_average()}")
        store = build_store(settings)
        try:
            results = run_store_bench(store, list(sizes), operations, click.echo)
        finally:
            store.close()
            discard_namespace(settings)
    click.echo(f"load average {load_average()}")
    click.echo(json.dumps(results))

# ---------------------------------------------------------------- end of bench


if __name__ == "__main__":
    main()
