from __future__ import annotations

import pytest

from shared import auth
from shared.config import BackendSettings
from shared.org.demo import demo_registry
from shared.org.registry import import_registry


@pytest.fixture
def embedded(tmp_path) -> BackendSettings:
    return BackendSettings(backend="embedded", data_dir=str(tmp_path / "data"), sqlite_synchronous="NORMAL")


@pytest.fixture
def intake(embedded):
    from services.intake import bootstrap
    from services.intake.settings import IntakeSettings

    service = bootstrap.build(IntakeSettings(backend=embedded))
    bootstrap.prepare(service)
    return service


@pytest.fixture
def intake_client(intake):
    from services.intake.bootstrap import create_app

    return create_app(intake).test_client()


@pytest.fixture
def api_key(intake):
    return auth.issue_api_key(intake.store, "test client")


@pytest.fixture
def tracker(embedded):
    from services.tracker import bootstrap
    from services.tracker.settings import TrackerSettings

    service = bootstrap.build(TrackerSettings(backend=embedded))
    bootstrap.prepare(service)
    import_registry(service.store, demo_registry())
    return service
