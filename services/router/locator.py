"""Resolving address strings and coordinates against the org registry: the address index and the
grid map, rebuilt from the store when the registry may have changed."""
from __future__ import annotations

import threading
import time
from typing import Callable

from shared.org.registry import ORG_UNITS
from shared.ports import DocumentStore
from services.router.assignment import Placement
from services.router.grid_map import GridMap
from services.router.location import AddressIndex


class Locator:
    def __init__(self, store: DocumentStore, normalise: Callable[[str], str], *, refresh_s: float = 60.0):
        self._store = store
        self._normalise = normalise
        self._refresh_s = refresh_s
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._addresses = AddressIndex([])
        self._grids = GridMap([])
        self._chains: dict[str, dict] = {}

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at <= self._refresh_s:
            return
        with self._lock:
            units = self._store.find(ORG_UNITS, {"level": {"$in": ["grid", "building", "unit"]}})
            self._addresses = AddressIndex(units)
            grids = [u for u in units if u["level"] == "grid"]
            self._grids = GridMap(grids)
            self._chains = {g["code"]: g["chain"] for g in grids}
            self._loaded_at = time.monotonic()

    def locate(self, location: dict) -> Placement | None:
        """Where the address or the coordinates point; None when the report gives neither."""
        self._fresh()
        found = None
        if location.get("address"):
            found = self._addresses.find(self._normalise(location["address"]))
            if found.resolved:
                return found
        if location.get("lat") is not None and location.get("lng") is not None:
            code = self._grids.grid_at(location["lat"], location["lng"])
            if code is not None:
                return Placement(dict(self._chains[code]), True, "coordinates",
                                 f"({location['lat']}, {location['lng']}) lies in grid {code}")
            return Placement({}, False, "coordinates", f"({location['lat']}, {location['lng']}) lies in no grid")
        return found
