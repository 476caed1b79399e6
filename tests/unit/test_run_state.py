"""Which tasks make an ALL_DONE leaf fail the run (pure part of run_state)."""

from __future__ import annotations

from clob_pipeline.run_state import failed_tasks


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
