"""The router's own Prometheus metrics (served with the shared families on /metrics)."""
from __future__ import annotations

from prometheus_client import Counter

ESCALATIONS = Counter("griddesk_escalations_total", "Cases moved one level up the chain after a missed deadline",
                      ["from_level", "to_level"])
CLASSIFICATIONS = Counter("griddesk_classifications_total", "Reports classified, by outcome", ["category", "tier"])
MANUAL_TRIAGE = Counter("griddesk_manual_triage_total",
                        "Cases sent to a grid worker for manual triage (low confidence, unknown place, misrouted)")
DUPLICATES_MERGED = Counter("griddesk_duplicates_merged_total",
                            "Reports merged into an open case of the same problem instead of being dispatched",
                            ["match"])
