-- Per-wallet ledger: what the loader measured in a fills table after its last run (count and
-- newest fill). Keyed by the table's UUID, not its name: a promotion or rollback moves a table
-- under another name and its ledger rows follow it, so validation compares the right numbers.
CREATE TABLE IF NOT EXISTS {db:Identifier}.wallet_sync_state
(
    wallet        String,
    source        LowCardinality(String),
    table_uuid    UUID,
    fills_table   String,
    last_fill_ts  DateTime64(3, 'UTC'),
    fills_total   UInt64,
    last_run_id   String,
    hold_from_ts  DateTime64(3, 'UTC'),
    updated_at    DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (wallet, source, table_uuid);

-- Upgrade a ledger created before it was keyed by table (no-op on a current one).
ALTER TABLE {db:Identifier}.wallet_sync_state
    ADD COLUMN IF NOT EXISTS table_uuid UUID AFTER source,
    MODIFY ORDER BY (wallet, source, table_uuid);

-- hold_from_ts: the oldest CLOB trade the wallet's last load had to hold back (no transaction hash
-- yet, or being retried); epoch 0 = none. The incremental re-reads from there until a completed load
-- whose window covers it clears it (a CLOB load that sees it settled, or a Data API load: settled fills only).
ALTER TABLE {db:Identifier}.wallet_sync_state
    ADD COLUMN IF NOT EXISTS hold_from_ts DateTime64(3, 'UTC') AFTER last_run_id;

-- Progress of one wallet inside one DAG run, written after every stored batch so a retried task
-- resumes where it stopped: every fill newer than resume_end_s (a second) is stored, whatever the
-- source (pagers resume from a second, never from a cursor: cursors expire). Tables created before
-- keep an unused resume_cursor column.
CREATE TABLE IF NOT EXISTS {db:Identifier}.ingest_checkpoints
(
    run_id        String,
    wallet        String,
    source        LowCardinality(String),
    resume_end_s  Int64,
    pages         UInt64,
    rows_seen     UInt64,
    rows_inserted UInt64,
    done          UInt8,
    updated_at    DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (run_id, wallet, source)
TTL toDateTime(updated_at) + INTERVAL 30 DAY;

-- Trading volume per wallet; proxy discovery reads the most active wallets from here.
CREATE TABLE IF NOT EXISTS {db:Identifier}.wallet_metrics
(
    wallet           String,
    total_volume_usd Float64,
    updated_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY wallet;
