"""Failure alerts: post a task failure to the ``alerts_webhook`` HTTP connection, if there is one.

Used as ``on_failure_callback``. The connection holds the webhook URL (host, and any token as the
password or in the URL), so no secret is in code or logs; without the connection it does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

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


def post_failure_alert(context: dict[str, Any]) -> None:
    """``on_failure_callback``: POST :func:`alert_payload` to ``alerts_webhook``; skip if it is not set."""
    from airflow.providers.http.hooks.http import HttpHook
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(ALERTS_WEBHOOK_CONN_ID)
    except Exception:  # AirflowNotFoundException: alerts are optional
        return
    payload = alert_payload(context)
    try:
        HttpHook(method="POST", http_conn_id=ALERTS_WEBHOOK_CONN_ID).run(endpoint="", json=payload, extra_options={"timeout": 10})
        log.info("alert posted to %s for %s.%s", ALERTS_WEBHOOK_CONN_ID, payload["dag_id"], payload["task_id"])
    except Exception as exc:  # an alerting failure must not hide the task's own failure
        log.error("could not post the alert to %s: %s; the task failure stands, see its log", ALERTS_WEBHOOK_CONN_ID, exc)
