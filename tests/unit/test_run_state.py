"""Which tasks make an ALL_DONE leaf fail the run (pure part of run_state)."""

from __future__ import annotations

from clob_pipeline.run_state import failed_tasks, unfinished_wallets


def test_failed_tasks_lists_other_failed_tasks_and_mapped_instances_only():
    states = {
        "select_wallets": "failed",
        "resolve_wallets_0": "success",
        "resolve_wallets_1": "failed",
        "ensure_schema": "success",
        "store_mappings": "failed",  # the caller itself
        "skipped_one": "skipped",
        "downstream": "upstream_failed",
    }
    assert failed_tasks(states, "store_mappings") == ["resolve_wallets_1", "select_wallets"]
    assert failed_tasks({"a": "success", "b": "skipped"}, "b") == []


def test_unfinished_wallets_of_a_skipped_batch_are_paused_not_failed():
    batches = [["a", "b"], ["c", "d"], ["e"], ["f"]]
    states = {"load_0": "failed", "load_1": "skipped", "load_2": "success", "load_3": "upstream_failed"}
    failed, skipped = unfinished_wallets(batches, {"a", "c", "e"}, states, "load")
    assert failed == ["b", "f"]  # not done, in a batch that failed or never ran
    assert skipped == ["d"]  # "c" finished before its task's retry skipped under the pause
    assert unfinished_wallets(batches, set("abcdef"), states, "load") == ([], [])
