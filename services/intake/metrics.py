"""Intake's own Prometheus metrics (the shared families are in shared/observability/metrics.py)."""
from __future__ import annotations

from prometheus_client import Counter, Histogram

REPORTS_RECEIVED = Counter(
    "griddesk_reports_received_total", "Reports accepted (202, replays excluded) by channel", ["channel"])
RATE_LIMITED = Counter(
    "griddesk_rate_limited_total", "Requests refused with 429 by the limit that refused them", ["scope"])
REPORT_GROUP_SIZE = Histogram(
    "griddesk_intake_report_group_size", "Reports stored together in one write (report_groups)",
    buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256))
