"""Which grid a coordinate lies in: the grids' GeoJSON polygons in a shapely STRtree. The only
module that imports shapely."""
from __future__ import annotations

import json

from shapely import STRtree
from shapely.geometry import Point, shape


class GridMap:
    def __init__(self, grids: list[dict]):
        with_polygons = sorted((g for g in grids if g.get("polygon_geojson")), key=lambda g: g["code"])
        self._codes = [g["code"] for g in with_polygons]
        self._tree = STRtree([shape(json.loads(g["polygon_geojson"])) for g in with_polygons])

    def grid_at(self, lat: float, lng: float) -> str | None:
        """The grid containing the point (GeoJSON order: longitude, latitude); on a shared edge, the
        grid whose code sorts first, so the answer never depends on the index's internal order."""
        hits = self._tree.query(Point(lng, lat), predicate="intersects")
        return self._codes[min(hits)] if len(hits) else None
