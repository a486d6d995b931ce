"""The import rules of docs/architecture.md, checked on the source."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("intake", "router", "tracker", "notifier")
THIRD_PARTY_HOMES = {  # library -> the only modules that may import it
    "kafka": {"shared/adapters/kafka_event_log.py", "services/bench/kafka_baseline.py"},
    "pymongo": {"shared/adapters/mongo_store.py", "shared/adapters/gridfs_file_store.py"},
    "gridfs": {"shared/adapters/gridfs_file_store.py"},
    "bson": {"shared/adapters/gridfs_file_store.py"},
    "opencc": {"services/router/normalise.py"},
    "shapely": {"services/router/grid_map.py"},
    "gunicorn": {"shared/http_server.py"},
    "cloudevents": {"shared/events/wire.py"},
    "chinese_calendar": {"shared/working_time.py"},
    "requests": {"services/notifier/channels/http_client.py"},
    "apscheduler": {"services/notifier/scheduler.py", "services/tracker/worker.py"},
    "apispec": {"services/intake/openapi.py", "services/tracker/openapi.py"},
    "smtplib": {"services/notifier/channels/smtp_email.py"},
    "sklearn": {"services/router/training.py"},  # training only: the router reads the exported JSON
    "numpy": set(),
    "sqlite3": {"shared/adapters/sqlite_connection.py", "shared/adapters/sqlite_event_log.py",
                "shared/adapters/sqlite_store.py"},
}


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


def test_shared_never_imports_services():
    offenders = [str(p) for p in python_files("shared") if any(n.startswith("services") for n in imports(p))]
    assert offenders == []


def test_services_never_import_each_other():
    offenders = []
    for service in SERVICES:
        for path in python_files(f"services/{service}"):
            for name in imports(path):
                parts = name.split(".")
                if parts[0] == "services" and len(parts) > 1 and parts[1] != service:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_domain_modules_use_the_standard_library_only():
    allowed_roots = {"__future__", "dataclasses", "typing", "datetime", "base64", "hashlib", "hmac", "json",
                     "secrets", "itertools", "collections", "re", "uuid", "math", "copy", "operator", "functools",
                     "shared.events.envelope",
                     "services.router.combination", "services.router.ngram_model", "services.router.cues",
                     "services.router.homophones", "services.router.resemblance", "services.router.lexicon_terms"}  # pure modules too
    offenders = []
    for service in SERVICES:
        for name in ("domain.py", "classification.py", "combination.py", "ngram_model.py", "cues.py", "homophones.py",
                     "resemblance.py", "lexicon_terms.py", "assignment.py", "messages.py"):
            path = ROOT / "services" / service / name
            if path.exists():
                bad = {n for n in imports(path) if n not in allowed_roots and n.split(".")[0] not in allowed_roots}
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in bad]
    assert offenders == []


def test_each_third_party_library_lives_in_its_adapter():
    offenders = []
    for folder in ("shared", "services"):
        for path in python_files(folder):
            relative = str(path.relative_to(ROOT))
            for name in imports(path):
                home = THIRD_PARTY_HOMES.get(name.split(".")[0])
                if home is not None and relative not in home:
                    offenders.append(f"{relative} imports {name}")
    assert offenders == []


def test_every_service_has_the_same_shape():
    for service in SERVICES:
        for part in ("bootstrap.py", "handlers.py", "settings.py", "worker.py"):
            assert (ROOT / "services" / service / part).exists(), f"services/{service}/{part}"
