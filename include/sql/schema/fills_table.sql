-- A fills table (staging clob_fills_v2; production clob_fills has the same layout).
-- ReplacingMergeTree(version): one row per fill_id after merges / with FINAL; a CLOB trade's later
-- status (higher last_update) replaces the earlier one, and the CLOB's row of a fill replaces the
-- Data API's (version 0). Loaders skip fills already stored at that version, so re-runs add no rows.
-- fill_id is the fill's content plus its rank among identical fills of its second
-- (clob_pipeline/fills/identity.py); copies = how many fills of that content the source served in
-- that second. Column order matches clob_pipeline/fills/schema.py.
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
    maker_order_id   String,
    trader_side      LowCardinality(String),
    status           LowCardinality(String),
    version          UInt64,
    copies           UInt32,
    ingested_at      DateTime64(3, 'UTC'),
    INDEX ts_minmax timestamp TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (proxy_wallet, fill_id);

-- Vertical merges for every merge, not only above 131,072 rows: a horizontal merge reads all 18
-- columns of every source part at once (measured on chDB: ~140 MB for six 20k-row parts), a
-- vertical one reads the sorting key and then one column at a time (~40 MB). As an ALTER so that
-- tables created before this setting get it too (a no-op when set).
ALTER TABLE {db:Identifier}.{fills_table:Identifier}
    MODIFY SETTING vertical_merge_algorithm_min_rows_to_activate = 1,
                   vertical_merge_algorithm_min_columns_to_activate = 1;
