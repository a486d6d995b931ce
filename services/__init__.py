"""The four griddesk services. Each is a package of the same shape (see docs/architecture.md);
they never import one another, only ``shared``."""
