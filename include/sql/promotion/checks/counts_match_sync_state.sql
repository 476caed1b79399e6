-- Every wallet's row count in the staging fills table equals what ingestion recorded for this very
-- table (the ledger is keyed by table UUID). A difference means rows were written or lost outside
-- the loaders.
WITH
    (SELECT uuid FROM system.tables WHERE database = {db:String} AND name = {fills_table:String}) AS table_id,
    stored AS (
        SELECT proxy_wallet AS wallet, count() AS rows
        FROM {db:Identifier}.{fills_table:Identifier} FINAL
        GROUP BY proxy_wallet
    ),
    ledger AS (
        SELECT wallet, argMax(fills_total, updated_at) AS recorded
        FROM {db:Identifier}.wallet_sync_state
        WHERE table_uuid = table_id
        GROUP BY wallet
    )
SELECT count() AS wallets_compared,
       countIf(stored.rows != ledger.recorded) AS wallets_mismatched,
       sum(stored.rows) AS rows_in_table,
       sum(ledger.recorded) AS rows_recorded,
       wallets_mismatched = 0 AS passed
FROM stored
FULL OUTER JOIN ledger ON stored.wallet = ledger.wallet
SETTINGS join_use_nulls = 0;

-- Offending wallets
WITH
    (SELECT uuid FROM system.tables WHERE database = {db:String} AND name = {fills_table:String}) AS table_id,
    stored AS (
        SELECT proxy_wallet AS wallet, count() AS rows
        FROM {db:Identifier}.{fills_table:Identifier} FINAL
        GROUP BY proxy_wallet
    ),
    ledger AS (
        SELECT wallet, argMax(fills_total, updated_at) AS recorded
        FROM {db:Identifier}.wallet_sync_state
        WHERE table_uuid = table_id
        GROUP BY wallet
    )
SELECT if(stored.wallet != '', stored.wallet, ledger.wallet) AS wallet, stored.rows AS rows_in_table, ledger.recorded AS rows_recorded
FROM stored
FULL OUTER JOIN ledger ON stored.wallet = ledger.wallet
WHERE stored.rows != ledger.recorded
ORDER BY wallet
LIMIT 10
SETTINGS join_use_nulls = 0;
