"""Reading an org registry file (YAML or JSON) into flat org-unit documents, and importing them.

Each level nests the next under a plural key. People are ``{name, phone}`` (optionally ``email``);
the role they hold follows from the key that names them (see ROLE_KEYS). Grid polygons are GeoJSON
geometries; they are stored as GeoJSON text because MongoDB-wire servers such as FerretDB refuse
nested arrays.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator

import yaml

from shared.events.contracts import ORG_CODE_PATTERN, ORG_LEVELS
from shared.ports import DocumentStore

ORG_UNITS = "org_units"

# level -> (key holding the next level's list, next level)
CHILDREN = {
    "district": ("streets", "street"),
    "street": ("communities", "community"),
    "community": ("branches", "branch"),
    "branch": ("compounds", "compound"),
    "compound": ("grids", "grid"),
    "grid": ("buildings", "building"),
    "building": ("units", "unit"),
}
# level -> {key in the file: role name}
ROLE_KEYS = {
    "district": {"command_center": "command_center"},
    "street": {"office": "street_office"},
    "community": {"secretary": "community_secretary"},
    "branch": {"secretary": "branch_secretary"},
    "compound": {"property_manager": "property_manager"},
    "grid": {"worker": "grid_worker"},
    "building": {"head": "building_head"},
    "unit": {"steward": "unit_steward"},
}
PLAIN_ATTRIBUTES = {
    "district": ("duty_community",),
    "community": ("duty_grid",),
    "branch": ("kind",),
    "compound": ("three_haves", "kind"),
    "grid": ("kind", "households"),
    "building": ("address",),
}


class RegistryError(ValueError):
    """The registry file is not valid; the message says where."""


@dataclass(frozen=True)
class ImportResult:
    units: int
    by_level: dict[str, int]
    removed: int


def load_file(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, dict) or "district" not in data:
        raise RegistryError(f"{path}: the top level must be a mapping with a 'district' key")
    return data


def flatten(registry: dict) -> list[dict]:
    """Every org unit as a document: code, level, name, parent, chain (codes above and itself),
    chain names, people by role, and the level's own attributes."""
    documents = list(_walk(registry["district"], "district", {}, {}, None, "district"))
    duplicates = {code for code, n in Counter(d["_id"] for d in documents).items() if n > 1}
    if duplicates:
        raise RegistryError(f"org codes used more than once: {', '.join(sorted(duplicates))}")
    return documents


def _walk(node: Any, level: str, chain: dict, names: dict, parent: str | None, where: str) -> Iterator[dict]:
    if not isinstance(node, dict):
        raise RegistryError(f"{where}: expected a mapping")
    code, name = node.get("code"), node.get("name")
    if not isinstance(code, str) or not re.match(ORG_CODE_PATTERN, code):
        raise RegistryError(f"{where}: 'code' must be 1-64 ASCII letters, digits, '-' or '_', got {code!r}")
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(f"{where} ({code}): 'name' is required")
    chain = {**chain, level: code}
    names = {**names, level: name}
    people = {}
    for key, role in ROLE_KEYS[level].items():
        if node.get(key):
            people[role] = _person(node[key], role, code, level, f"{where}.{key}")
    document = {"_id": code, "code": code, "level": level, "name": name, "parent": parent,
                "chain": chain, "names": names, "people": people}
    for attribute in PLAIN_ATTRIBUTES.get(level, ()):
        if attribute in node:
            document[attribute] = node[attribute]
    if level == "grid" and node.get("polygon"):
        document["polygon_geojson"] = json.dumps(node["polygon"], ensure_ascii=False)
    yield document
    if level in CHILDREN:
        key, child_level = CHILDREN[level]
        children = node.get(key) or []
        if not isinstance(children, list):
            raise RegistryError(f"{where} ({code}): '{key}' must be a list")
        for index, child in enumerate(children):
            yield from _walk(child, child_level, chain, names, code, f"{where}.{key}[{index}]")


def _person(raw: Any, role: str, org_code: str, level: str, where: str) -> dict:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise RegistryError(f"{where}: a person needs at least a 'name'")
    person = {"id": f"{org_code}/{role}", "name": str(raw["name"]), "role": role,
              "phone": str(raw.get("phone", "")), "org_code": org_code, "level": level}
    if raw.get("email"):
        person["email"] = str(raw["email"])
    return person


def import_registry(store: DocumentStore, registry: dict) -> ImportResult:
    """Make the store's org units exactly those of the registry (insert, replace, remove)."""
    documents = flatten(registry)
    store.ensure_index(ORG_UNITS, ["level"])
    by_level = {level: 0 for level in ORG_LEVELS}
    for document in documents:
        existing = store.get(ORG_UNITS, document["_id"])
        if existing is None:
            store.insert(ORG_UNITS, document)
        else:
            store.replace(ORG_UNITS, {**document, "_v": existing["_v"]})
        by_level[document["level"]] += 1
    wanted = {d["_id"] for d in documents}
    removed = 0
    for stale in store.find(ORG_UNITS, {"_id": {"$nin": sorted(wanted)}}):
        removed += store.delete(ORG_UNITS, stale["_id"])
    return ImportResult(units=len(documents), by_level=by_level, removed=removed)
