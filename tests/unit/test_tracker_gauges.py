"""The tracker's gauges, recounted from the store by its timer (metrics.refresh_gauges)."""
from prometheus_client import REGISTRY

from shared.adapters.sqlite_store import SqliteStore
from services.tracker import metrics


def gauge(name: str, **labels) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_open_cases_are_counted_per_tier_and_owner_level_and_absent_pairs_are_zero(tmp_path):
    store = SqliteStore(str(tmp_path / "store.sqlite"), synchronous="OFF")
    cases = [("a", "general", "unit", "assigned"), ("b", "general", "unit", "in_progress"),
             ("c", "emergency", "branch", "assigned"), ("d", "general", "unit", "closed"),
             ("e", "coordination", "grid", "acknowledged")]
    for case_id, tier, level, state in cases:
        store.insert("cases", {"_id": case_id, "tier": tier, "state": state, "owner": {"level": level},
                               "breaches_open_count": 0})
    metrics.refresh_gauges(store, "cases")
    assert gauge("griddesk_cases_open", tier="general", level="unit") == 2  # the closed one is not open
    assert gauge("griddesk_cases_open", tier="emergency", level="branch") == 1
    assert gauge("griddesk_cases_open", tier="coordination", level="grid") == 1
    assert gauge("griddesk_cases_open", tier="coordination", level="unit") == 0
    assert gauge("griddesk_emergencies_unacknowledged") == 1
    store.close()
