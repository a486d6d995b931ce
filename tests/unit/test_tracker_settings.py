"""The tracker's remembered cases default to on where a read saved is a MongoDB round trip, off on SQLite
(where they saved no CPU and cost memory), and the environment decides over both."""
from __future__ import annotations

from services.tracker.settings import REMEMBERED_CASES_ON_MONGODB, TrackerSettings


def test_remembered_cases_are_on_by_default_on_the_kafka_backend_only():
    assert TrackerSettings.from_env({"GRIDDESK_BACKEND": "kafka"}).remembered_cases == REMEMBERED_CASES_ON_MONGODB
    assert TrackerSettings.from_env({}).remembered_cases == 0
    assert TrackerSettings.from_env({"GRIDDESK_TRACKER_REMEMBERED_CASES": "50"}).remembered_cases == 50
    assert TrackerSettings.from_env({"GRIDDESK_BACKEND": "kafka",
                                     "GRIDDESK_TRACKER_REMEMBERED_CASES": "0"}).remembered_cases == 0
