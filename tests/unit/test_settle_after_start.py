"""A long-running process's garbage collector once it has started: what it built is frozen, young
collections are rarer, and cycles are still collected."""
from __future__ import annotations

import gc
import weakref

import pytest

from shared.process import YOUNG_COLLECTION_THRESHOLD, settle_after_start


@pytest.fixture
def restored_collector():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class _Node:
    pass


def test_what_was_built_before_is_frozen_and_young_collections_are_rarer(restored_collector):
    kept_for_life = [{"n-gram": [0.1, 0.2]} for _ in range(1000)]
    settle_after_start()
    assert gc.get_freeze_count() >= len(kept_for_life)
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD


def test_reference_cycles_made_afterwards_are_still_collected(restored_collector):
    settle_after_start()
    node = _Node()
    node.self = node
    gone = weakref.ref(node)
    del node
    gc.collect()
    assert gone() is None
