"""The run's true colour for DAGs whose leaf runs on ALL_DONE.

Airflow marks a run by its leaf tasks. A leaf with trigger rule ALL_DONE (``store_mappings``,
``summarize``, ``record_mapping_count``) runs and succeeds after an upstream task failed, so the run
would end ``success``: on-call, checking "did the last run succeed?", would be misled. Such a leaf
does its own work first, then calls :func:`fail_if_run_failed`, which fails it naming the tasks that
failed. No extra task or edges: the graph keeps its shape.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

FAILED_STATES = frozenset({"failed", "upstream_failed"})


class QuietFailure(AirflowFailException):
    """Fails a task only to give its run the true colour; the cause is reported elsewhere, so the
    failure alert stays silent (``alerts.FailureAlert``)."""


class UpstreamTaskFailedError(QuietFailure):
    """This leaf did its work but another task of the run failed (that task sent the alert)."""


class RunStoppedError(QuietFailure):
    """No task of the run failed, yet its work did not complete: on-call marked the run failed by
    hand. Airflow then skips the pending tasks but still runs the teardowns, and once they succeed it
    would end the run ``success`` (apache/airflow#45530): the teardown raises this instead."""


def failed_tasks(states: dict[str, Any], own_task_id: str) -> list[str]:
    """The tasks of a run (``task_id`` or ``task_id_<map index>``) that failed, besides the caller (pure)."""
    return sorted(key for key, state in states.items() if str(state) == "failed" and key != own_task_id)


def unfinished_wallets(
    batches: Sequence[Sequence[str]], done: Collection[str], states: Mapping[str, Any], task_id: str
) -> tuple[list[str], list[str]]:
    """The wallets of the mapped ``task_id`` (one batch per map index) that did not finish, as
    ``(failed, skipped)`` (pure). A wallet whose batch task was skipped (the ingestion pause) did not
    fail: counting it as failed would turn a pause into a red run and an alert."""
    failed: list[str] = []
    skipped: list[str] = []
    for index, batch in enumerate(batches):
        paused = str(states.get(f"{task_id}_{index}")) == "skipped"
        for wallet in batch:
            if wallet not in done:
                (skipped if paused else failed).append(wallet)
    return failed, skipped


def run_task_states(context: Any) -> dict[str, Any]:
    """Every task instance state of this run (``task_id`` or ``task_id_<map index>`` -> state)."""
    ti = context["ti"]
    return ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})


def fail_if_run_failed(context: Any, done: str, states: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`UpstreamTaskFailedError` if another task of this run failed; ``done`` says what this
    leaf did anyway (kept in the message, so the log shows both). ``states``: the run's task states if
    the caller already read them (:func:`run_task_states`)."""
    ti = context["ti"]
    states = run_task_states(context) if states is None else states
    failed = failed_tasks(states, ti.task_id)
    if not failed and not any(str(s) in FAILED_STATES for k, s in states.items() if k != ti.task_id):
        return
    raise UpstreamTaskFailedError(
        f"{ti.dag_id} did not complete: {', '.join(failed) or 'an upstream task'} failed ({done}). "
        "Read the failed task's log: it says what failed and what to do; then clear it or trigger again."
    )
