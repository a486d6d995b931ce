"""Tolerant matching of a resident's address string against the registry's buildings and units.
Pure: the caller folds the text to Simplified Chinese first (normalise.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from services.router.assignment import Placement

DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
FUZZY_AT_LEAST = 0.66  # similarity of a compound name to the text's best window ("锦秀家园" for "锦绣家园")
NOISE = re.compile(r"[\s,，.。、:：;；()（）\-_/]")


def _chinese_number(text: str) -> str:
    if text == "十":
        return "10"
    if "十" in text:
        tens, _, ones = text.partition("十")
        return str(DIGITS.get(tens, 1) * 10 + DIGITS.get(ones, 0))
    return "".join(str(DIGITS[c]) for c in text)


def canonical(text: str) -> str:
    """"三号楼2单元" / "3栋二单元" / "3#楼" all become "3号楼2单元"."""
    text = NOISE.sub("", text)
    text = re.sub(r"[零一二两三四五六七八九十]+(?=(号楼|号|栋|幢|座|单元|#))",
                  lambda m: _chinese_number(m.group(0)), text)
    text = re.sub(r"(\d+)(?:#楼|号楼|#|栋|幢|座|号(?!楼))", r"\1号楼", text)
    return text


@dataclass(frozen=True)
class _Building:
    doc: dict
    address: str
    label: str  # the building's own part of the address, e.g. "3号楼": it must match exactly
    units: dict[str, dict]  # canonical unit name ("2单元") -> unit doc


class AddressIndex:
    def __init__(self, units: list[dict]):
        by_building: dict[str, dict[str, dict]] = {}
        for unit in units:
            if unit["level"] == "unit" and unit.get("parent"):
                by_building.setdefault(unit["parent"], {})[canonical(unit["name"])] = unit
        self._buildings = [_Building(b, canonical(b["address"]), canonical(b["name"]), by_building.get(b["code"], {}))
                           for b in units if b["level"] == "building" and b.get("address")]

    def find(self, address: str) -> Placement:
        text = canonical(address)
        if not text:
            return Placement({}, False, "address", "empty address")
        candidates = [b for b in self._buildings if b.address and b.address in text]
        how = "address"
        if not candidates:
            # a typo in the compound's name is forgiven, never one in the building's number
            scored = [(self._similarity(b.address.replace(b.label, ""), text), b)
                      for b in self._buildings if b.label and b.label in text]
            best = max((score for score, _ in scored), default=0.0)
            if best >= FUZZY_AT_LEAST:
                candidates = [b for score, b in scored if score == best]
                how = "address (approximate)"
        if not candidates:
            return Placement({}, False, "address", f"no building matches {address!r}")
        codes = {b.doc["code"] for b in candidates}
        if len(codes) > 1:
            return Placement({}, False, "address",
                             f"{address!r} matches several buildings: {', '.join(sorted(codes))}")
        building = candidates[0]
        unit = next((u for name, u in building.units.items() if name in text), None)
        chosen = unit or building.doc
        return Placement(dict(chosen["chain"]), True, how, f"{address!r} -> {chosen['code']}")

    @staticmethod
    def _similarity(address: str, text: str) -> float:
        width = len(address)
        if width == 0 or len(text) < width - 1:
            return 0.0
        windows = (text[i:i + width] for i in range(max(1, len(text) - width + 1)))
        return max(SequenceMatcher(None, address, window).ratio() for window in windows)
