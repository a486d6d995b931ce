"""The notifier's Prometheus metrics (next to the shared families in shared/observability/metrics.py)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge

OUTCOMES = ("sent", "retried", "failed", "dead_lettered")
NOTIFICATIONS = Counter(
    "griddesk_notifications_total", "Notification attempts by channel and outcome (sent, retried, failed, "
    "dead_lettered)", ["channel", "outcome"])
DEAD_LETTERS = Gauge(
    "griddesk_notification_dead_letters", "Notifications in the dead-letter list (no channel left, or "
    "interrupted mid-send)", multiprocess_mode="livemostrecent")
