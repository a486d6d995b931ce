"""Adapters for the ports in ``shared.ports``, side by side: embedded (SQLite) and production
(Kafka, MongoDB). Each third-party client library is imported only by its own adapter module."""
