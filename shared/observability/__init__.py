"""Metrics, structured logs and health endpoints, the same in every service."""
