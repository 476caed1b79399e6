-- A fills table (staging clob_fills_v2; production clob_fills has the same layout).
-- ReplacingMergeTree(version): one row per fill_id after merges / with FINAL; a CLOB trade's later
-- status (higher last_update) replaces the earlier one. Loaders also skip fills already stored, so
-- re-runs add no rows at all. Column order matches clob_pipeline/fills/schema.py.
CREATE TABLE IF NOT EXISTS {db:Identifier}.{fills_table:Identifier}
(
    fill_id          String,
    source           LowCardinality(String),
    proxy_wallet     String,
    user_eoa         String,
    condition_id     String,
    asset            String,
    side             LowCardinality(String),
    outcome          String,
    outcome_index    Int16,
    size             Decimal(38, 6),
    price            Decimal(18, 6),
    timestamp        DateTime64(3, 'UTC'),
    transaction_hash String,
    trade_id         String,
    trader_side      LowCardinality(String),
    status           LowCardinality(String),
    version          UInt64,
    ingested_at      DateTime64(3, 'UTC'),
    INDEX ts_minmax timestamp TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (proxy_wallet, fill_id);
