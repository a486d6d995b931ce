"""``griddesk bench classify``: how many reports per second the router classifies and locates on this
machine (one process, one core), over the labelled evaluation set and the demo district."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from importlib import resources

from shared.org.demo import demo_registry
from shared.org.registry import flatten
from services.router.bootstrap import load_classifier
from services.router.grid_map import GridMap
from services.router.location import AddressIndex
from services.router.normalise import to_simplified


@dataclass(frozen=True)
class BenchResult:
    reports: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.reports / self.seconds if self.seconds else 0.0


def sample_reports() -> list[dict]:
    """The evaluation set's texts, each with an address or a coordinate in the demo district."""
    units = flatten(demo_registry())
    buildings = [u for u in units if u["level"] == "building"]
    path = resources.files("services.router") / "data" / "evaluation.jsonl"
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    reports = []
    for i, text in enumerate(texts):
        building = buildings[i % len(buildings)]
        location = ({"address": building["address"] + "2单元"} if i % 2 else
                    {"lat": 39.1205 + (i % 6) * 0.004, "lng": 117.1905 + (i % 5) * 0.004})
        reports.append({"text": text, "location": location})
    return reports


def run(rounds: int = 5) -> BenchResult:
    units = flatten(demo_registry())
    classifier = load_classifier()
    addresses = AddressIndex(units)
    grids = GridMap([u for u in units if u["level"] == "grid"])
    reports = sample_reports()
    started = time.perf_counter()
    for _ in range(rounds):
        for report in reports:
            classifier.classify(to_simplified(report["text"]))
            location = report["location"]
            if "address" in location:
                addresses.find(to_simplified(location["address"]))
            else:
                grids.grid_at(location["lat"], location["lng"])
    return BenchResult(rounds * len(reports), time.perf_counter() - started)
