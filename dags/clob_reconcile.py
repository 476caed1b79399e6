"""
### clob_reconcile — compare a fills table with the chain, wallet by wallet and day by day

Manual trigger; scheduled when `CLOB_PIPELINE_RECONCILE_SCHEDULE` holds a cron (e.g. `30 7 * * *`).
Needs the `polygon_rpc` connection (a Polygon JSON-RPC URL); without it the run skips, saying so.

1. `ensure_schema`: the bundle's tables, including the witness `clob_chain_fills` and `clob_reconciliation`.
2. `reconcile`: scans every wallet of the table or loaded into it (or the `wallets` Param) on Polygon for the finalized
   blocks it has not read yet (`eth_getLogs` on the exchange contracts, both `OrderFilled` layouts),
   then compares, per wallet and UTC day, the table's fills with the chain's on (transaction, token,
   side) with summed sizes and USDC, stores the numbers in `clob_reconciliation` (history, one run id
   per try) and logs the verdict first: `12 wallets: 11 complete; 0x…: API is missing 3 fills (tx 0x…)`.
   It fails when a wallet is off by more than `tolerance` fills.

**Params**
- `target`: `staging` (`clob_fills_v2`, default) or `production` (`clob_fills`).
- `days`: complete UTC days ending yesterday (default 7). Keep them inside the history the table was
  loaded with: a day loaded only partly reads as fills the API is missing.
- `tolerance`: fills a wallet may be off (default 0).
- `wallets`: optional list of proxy wallets; empty = every wallet the table holds or was loaded for.
"""

from __future__ import annotations

import os

from airflow.sdk import Param, chain, dag

from clob_pipeline.config import CLICKHOUSE_POOL
from clob_pipeline.dag_defaults import DAG_ARGS
from clob_pipeline.dag_parts import ensure_schema_task
from clob_pipeline.fills.params import WALLET_PATTERN
from clob_pipeline.operators.chain_reconcile import TARGETS, ChainReconcileOperator


@dag(
    dag_id="clob_reconcile",
    schedule=os.environ.get("CLOB_PIPELINE_RECONCILE_SCHEDULE") or None,
    **DAG_ARGS,
    render_template_as_native_obj=True,
    doc_md=__doc__,
    tags=["polymarket", "clickhouse", "chain", "reconciliation"],
    params={
        "target": Param("staging", type="string", enum=list(TARGETS), title="Fills table", description="staging or production"),
        "days": Param(7, type="integer", minimum=1, maximum=3650, title="Days", description="Complete UTC days to yesterday."),
        "tolerance": Param(0, type="integer", minimum=0, title="Tolerance", description="Fills a wallet may be off."),
        "wallets": Param(
            None,
            type=["null", "array"],
            items={"type": "string", "pattern": WALLET_PATTERN},
            title="Wallets",
            description="Proxy wallets to reconcile; empty = every wallet the table holds or was loaded for.",
        ),
    },
)
def clob_reconcile() -> None:
    reconcile = ChainReconcileOperator(  # an empty wallet list: every wallet of the table
        task_id="reconcile", target="{{ params.target }}", days="{{ params.days }}", tolerance="{{ params.tolerance }}",
        wallets="{{ params.wallets or [] }}", pool=CLICKHOUSE_POOL,
    )  # fmt: skip
    chain(ensure_schema_task(), reconcile)


clob_reconcile()
