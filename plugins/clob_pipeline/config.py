"""Names shared by DAGs, operators and tests: connection ids, pools, table names, SQL folder.

Kept in one place so the docker-compose file, the README and the tests can be checked against it.
Only cheap environment reads happen here: this module is imported at DAG-parse time.
"""

from __future__ import annotations

import os
from pathlib import Path

# --- Airflow connections (AIRFLOW_CONN_<ID upper-cased>) -------------------------------------
CLICKHOUSE_CONN_ID = "clickhouse_default"
DATA_API_CONN_ID = "polymarket_data_api"
CLOB_CONN_ID = "polymarket_clob"
GAMMA_CONN_ID = "polymarket_gamma"
ALERTS_WEBHOOK_CONN_ID = "alerts_webhook"  # optional: failure alerts of every DAG are posted here
POLYGON_RPC_CONN_ID = "polygon_rpc"  # optional: a JSON-RPC provider URL; enables source=chain and reconciliation

# --- Pools ---------------------------------------------------------------------------------
# Every task that opens ClickHouse runs in this pool. Embedded chDB allows one process per data
# folder, so the pool has one slot there; against a ClickHouse server raise it
# (``airflow pools set clickhouse 8 "..."``).
CLICKHOUSE_POOL = os.environ.get("CLOB_PIPELINE_CLICKHOUSE_POOL", "clickhouse")

# --- ClickHouse objects --------------------------------------------------------------------
DEFAULT_DATABASE = "polymarket"
STAGING_FILLS_TABLE = "clob_fills_v2"
STAGING_PROXY_TABLE = "pm_user_proxy_wallets_v2"
PRODUCTION_FILLS_TABLE = "clob_fills"
PRODUCTION_PROXY_TABLE = "pm_user_proxy_wallets"
OLD_SUFFIX = "_old"  # the previous production, kept by a promotion for clob_rollback
SYNC_STATE_TABLE = "wallet_sync_state"
CHECKPOINT_TABLE = "ingest_checkpoints"
WALLET_METRICS_TABLE = "wallet_metrics"
CHAIN_FILLS_TABLE = "clob_chain_fills"  # the chain witness: every scanned OrderFilled of a tracked wallet
RECONCILIATION_TABLE = "clob_reconciliation"  # per run, wallet and day: API fills against the witness

# --- Ingestion pause held by clob_promotion / clob_rollback ----------------------------------
INGESTION_LOCK = "live_tables"
# A pause older than this is treated as abandoned (its run was killed before releasing it).
INGESTION_LOCK_TTL_S = int(os.environ.get("CLOB_PIPELINE_LOCK_TTL_S", str(2 * 3600)))

# --- Files ---------------------------------------------------------------------------------
_BUNDLE_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = Path(os.environ.get("CLOB_PIPELINE_SQL_DIR", _BUNDLE_ROOT / "include" / "sql")).resolve()

# --- Audit reports of clob_promotion / clob_rollback ------------------------------------------


def reports_url() -> str:
    """Where audit reports go, through Airflow's object storage (``ObjectStoragePath``): any fsspec
    URL (``s3://bucket/clob-reports``, ``gs://…``, ``file:///…``); a local folder under AIRFLOW_HOME by
    default. Read when a task runs, so a deployment changes it without a code change."""
    default = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "clob_reports"
    return os.environ.get("CLOB_PIPELINE_REPORTS_URL") or default.resolve().as_uri()


def reports_conn_id() -> str | None:
    """Airflow connection with the credentials for :func:`reports_url` (e.g. ``aws_default``), if any."""
    return os.environ.get("CLOB_PIPELINE_REPORTS_CONN_ID") or None


# How long an approval waits for an answer by default (Param ``approval_timeout_minutes``). It must end
# before the ingestion pause it waits under is treated as abandoned (INGESTION_LOCK_TTL_S).
APPROVAL_TIMEOUT_MINUTES = 60
APPROVAL_TIMEOUT_MAX_MINUTES = max(1, INGESTION_LOCK_TTL_S // 60 - 30)

# --- Task retry defaults (seconds); env-overridable so tests need not sleep for minutes ----
RETRY_DELAY_S = float(os.environ.get("CLOB_PIPELINE_RETRY_DELAY_S", "30"))
RETRIES = int(os.environ.get("CLOB_PIPELINE_RETRIES", "3"))


def batch_rows() -> int:
    """Fills buffered per ClickHouse insert (and per checkpoint); read when a task runs.

    10,000: on embedded chDB an insert's working set (parse, sort, split by month, write a part)
    grows with the batch; 20,000-row batches measured ~60 MB higher task peaks for no faster load.
    """
    return int(os.environ.get("CLOB_PIPELINE_BATCH_ROWS", "10000"))


def chdb_merge_wait_s() -> float:
    """Longest wait, when an embedded (chDB) hook closes, for its database's running merges
    (``hooks/merge_wait.py`` says why); 0 disables the wait. Read when a hook closes."""
    return float(os.environ.get("CLOB_PIPELINE_CHDB_MERGE_WAIT_S", "30"))
