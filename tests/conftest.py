"""Shared fixtures. The real Kafka broker and MongoDB-wire server come from ``make test`` (which sets
GRIDDESK_TEST_KAFKA_BOOTSTRAP and GRIDDESK_TEST_MONGODB_URI); run alone, pytest starts them itself
with deploy/local/backends.sh. Tests against them are never skipped: if they cannot start, they fail."""
from __future__ import annotations

import os
import subprocess
import uuid
import warnings
from pathlib import Path

import pytest

from shared.backends import discard_namespace
from shared.config import BackendSettings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def real_backends():
    """(kafka_bootstrap, mongodb_uri) of the running local broker and MongoDB-wire server."""
    kafka = os.environ.get("GRIDDESK_TEST_KAFKA_BOOTSTRAP")
    mongo = os.environ.get("GRIDDESK_TEST_MONGODB_URI")
    if kafka and mongo:
        yield kafka, mongo
        return
    script = ROOT / "deploy" / "local" / "backends.sh"
    result = subprocess.run(["bash", str(script), "start"], capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"could not start the local Kafka and FerretDB:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    values = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    try:
        yield values["KAFKA_BOOTSTRAP"], values["MONGODB_URI"]
    finally:
        subprocess.run(["bash", str(script), "stop"], capture_output=True, timeout=120)


def unique_namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}_"


@pytest.fixture(params=["embedded", "kafka"])
def backend_settings(request, tmp_path) -> BackendSettings:
    """Settings for one backend: a fresh SQLite directory, or a fresh namespace on the real servers."""
    if request.param == "embedded":
        yield BackendSettings(backend="embedded", data_dir=str(tmp_path / "data"), sqlite_synchronous="NORMAL")
        return
    kafka, mongo = request.getfixturevalue("real_backends")
    settings = BackendSettings(backend="kafka", kafka_bootstrap=kafka, mongodb_uri=mongo,
                               namespace=unique_namespace(), kafka_partitions=3)
    yield settings
    # a broker keeping every earlier test's partitions gets slower test after test: give them back (best
    # effort: a namespace left behind costs the servers some memory, not the test its result)
    try:
        discard_namespace(settings)
    except Exception as error:  # noqa: BLE001
        warnings.warn(f"could not discard namespace {settings.namespace}: {error}")

