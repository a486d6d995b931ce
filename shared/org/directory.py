"""Looking things up in the imported org registry: where a unit or building sits, who holds a role."""
from __future__ import annotations

import threading
import time

from shared.org.registry import ORG_UNITS
from shared.ports import DocumentStore


class OrgDirectory:
    """A read-through, periodically refreshed copy of the org units (a district has thousands, not
    millions: they fit in memory, and routing must not wait on the store for every lookup)."""

    def __init__(self, store: DocumentStore, *, refresh_s: float = 60.0):
        self._store = store
        self._refresh_s = refresh_s
        self._units: dict[str, dict] = {}
        self._district: dict | None = None  # found once per load: every report asks for it
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def _fresh(self) -> dict[str, dict]:
        if time.monotonic() - self._loaded_at > self._refresh_s:
            self.reload()
        return self._units

    def reload(self) -> None:
        with self._lock:
            units = {d["_id"]: d for d in self._store.find(ORG_UNITS)}
            self._district = next((u for u in units.values() if u["level"] == "district"), None)
            self._units = units
            self._loaded_at = time.monotonic()

    def get(self, code: str | None) -> dict | None:
        if not code:
            return None
        unit = self._fresh().get(code)
        if unit is None and time.monotonic() - self._loaded_at > 1.0:
            self.reload()  # a code we do not know may have been imported since the last refresh
            unit = self._units.get(code)
        return unit

    def at_level(self, code: str | None, level: str) -> dict | None:
        unit = self.get(code)
        return unit if unit is not None and unit["level"] == level else None

    def district(self) -> dict | None:
        self._fresh()
        return self._district

    def person(self, code: str | None, role: str) -> dict | None:
        unit = self.get(code)
        return (unit or {}).get("people", {}).get(role)
