"""Setting up the demo district: import the registry, issue demo credentials, write var/demo.json."""
from __future__ import annotations

import json
import os

from shared import auth
from shared.org.demo import demo_registry
from shared.org.registry import import_registry
from shared.ports import DocumentStore


def set_up_demo(store: DocumentStore, *, var_dir: str, urls: dict[str, str]) -> dict:
    registry = demo_registry()
    store.ensure_index(auth.CREDENTIALS, ["kind"])
    import_registry(store, registry)
    for old in store.find(auth.CREDENTIALS, {"demo": True, "revoked": False}):
        auth.revoke(store, old["_id"])  # each run's demo credentials replace the last run's
    district = registry["district"]
    grid_code = district["streets"][0]["communities"][0]["branches"][0]["compounds"][0]["grids"][0]["code"]
    demo = {
        **urls,
        "api_key": auth.issue_api_key(store, "demo all-channel client", demo=True),
        "staff_token": auth.issue_staff_token(store, "demo district command center", "command_center",
                                              district["code"], "district", demo=True),
        "grid_staff_token": auth.issue_staff_token(store, f"demo grid worker {grid_code}", "grid_worker",
                                                   grid_code, "grid", demo=True),
        "grid_code": grid_code,
        "district_code": district["code"],
    }
    os.makedirs(var_dir, exist_ok=True)
    path = os.path.join(var_dir, "demo.json")
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(demo, handle, indent=2, ensure_ascii=False)
    os.replace(path + ".tmp", path)
    return demo
