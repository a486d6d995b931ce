"""What every griddesk service needs: event contracts, ports and their adapters, the consume loop,
configuration and observability. Nothing here imports from ``services``."""
