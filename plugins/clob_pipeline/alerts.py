"""Failure alerts through the http provider's ``HttpNotifier``, on every task of every DAG
(``on_failure_callback`` in ``dag_defaults.py``), posted to the ``alerts_webhook`` HTTP connection.

The connection holds the webhook URL (host, and any token as the password or in the URL), so no
secret is in code or logs. Without the connection nothing is sent. A leaf that fails only because
another task failed, or a run on-call marked failed by hand (``run_state.QuietFailure``), sends nothing:
that task alerted already, or on-call knows.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.http.notifications.http import HttpNotifier

from clob_pipeline.config import ALERTS_WEBHOOK_CONN_ID

log = logging.getLogger(__name__)


def alert_payload(context: dict[str, Any]) -> dict[str, Any]:
    """The JSON posted for a failed task: what failed, where, and the failure message (pure)."""
    ti = context.get("ti") or context.get("task_instance")
    exception = context.get("exception")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    message = str(exception) if exception else "task failed"
    return {
        "text": f"[clob-pipeline] {dag_id}.{task_id} failed: {message[:1500]}",
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": getattr(ti, "run_id", "?"),
        "try_number": getattr(ti, "try_number", None),
        "error": message[:4000],
    }


class FailureAlert(HttpNotifier):
    """``HttpNotifier`` that POSTs :func:`alert_payload` to ``alerts_webhook`` when that connection exists."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("http_conn_id", ALERTS_WEBHOOK_CONN_ID)
        kwargs.setdefault("extra_options", {"timeout": 10})
        super().__init__(**kwargs)

    def notify(self, context: Any) -> None:
        from airflow.sdk import BaseHook

        from clob_pipeline.run_state import QuietFailure

        if isinstance(context.get("exception"), QuietFailure):
            return
        try:
            BaseHook.get_connection(self.http_conn_id)
        except Exception:  # AirflowNotFoundException: alerts are optional
            return
        payload = alert_payload(context)
        try:
            self.hook.run(endpoint=self.endpoint, json=payload, extra_options=self.extra_options)
        except Exception as exc:  # an alerting failure must not hide the task's own failure
            log.error("could not post the alert to %s: %s; the task failure stands, see its log", self.http_conn_id, exc)
            return
        log.info("alert posted to %s for %s.%s", self.http_conn_id, payload["dag_id"], payload["task_id"])
