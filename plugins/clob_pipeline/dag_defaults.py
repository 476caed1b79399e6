"""Defaults every DAG of the bundle shares: owner, failure alerts (``alerts.py``), retries with
exponential backoff (none for errors a retry cannot fix: ``retry_policy.py``), start date, no catch-up,
one run at a time, ``include/sql`` as the template search path."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from clob_pipeline.alerts import FailureAlert
from clob_pipeline.config import RETRIES, RETRY_DELAY_S, SQL_DIR
from clob_pipeline.retry_policy import FailFastRetryPolicy

START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")
TEMPLATE_SEARCHPATH = [str(SQL_DIR)]

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": RETRIES,
    "retry_delay": timedelta(seconds=RETRY_DELAY_S),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "retry_policy": FailFastRetryPolicy(),
    # HttpNotifier to the alerts_webhook connection; sends nothing when that connection is not set.
    "on_failure_callback": [FailureAlert()],
}

# ``@dag(**DAG_ARGS, ...)``: the settings all six DAGs share (each adds its id, schedule, Params).
DAG_ARGS = {
    "start_date": START_DATE,
    "catchup": False,
    "max_active_runs": 1,
    "default_args": DEFAULT_ARGS,
    "template_searchpath": TEMPLATE_SEARCHPATH,
}
