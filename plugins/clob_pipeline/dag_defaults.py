"""Defaults every DAG of the bundle shares: owner, retries with exponential backoff, start date."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from clob_pipeline.config import RETRIES, RETRY_DELAY_S, SQL_DIR

START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")
TEMPLATE_SEARCHPATH = [str(SQL_DIR)]

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": RETRIES,
    "retry_delay": timedelta(seconds=RETRY_DELAY_S),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}
