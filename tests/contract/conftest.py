"""The document store every DocumentStore contract test runs against, built as the services build it."""
from __future__ import annotations

import pytest

from shared.backends import build_store


@pytest.fixture
def store(backend_settings):
    store = build_store(backend_settings)
    yield store
    store.close()
