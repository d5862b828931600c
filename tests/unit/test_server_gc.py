"""The API server settles the garbage collector once it has started (a full collection
of the start-up heap stalled requests under load)."""

from __future__ import annotations

import gc

from mailroom.api.app import settle_garbage_collector


def test_start_up_objects_are_frozen_and_young_collections_are_rarer():
    thresholds = gc.get_threshold()
    try:
        gc.unfreeze()  # from Python's defaults, whatever an app served in this process left
        gc.set_threshold(700, 10, 10)
        settle_garbage_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > 700
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
