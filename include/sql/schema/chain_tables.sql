-- The chain witness and its caches (clob_pipeline/chain/, hooks/chain_source.py). Never promoted or
-- swapped: reconciliation reads it, source=chain copies a wallet's window from it into a fills table.

-- Every OrderFilled log of a tracked wallet's orders that a scan read, decoded. One row per
-- (transaction hash, log index): a finalized log never changes, so a repeated insert is the same row.
-- size/usdc/price/fee in 6-decimal units; role = which order of the match was the wallet's.
CREATE TABLE IF NOT EXISTS {db:Identifier}.clob_chain_fills
(
    wallet        String,
    tx_hash       String,
    log_index     UInt32,
    block_number  UInt64,
    timestamp     DateTime64(3, 'UTC'),
    exchange      LowCardinality(String),
    era           LowCardinality(String),
    order_hash    String,
    taker         String,
    role          LowCardinality(String),
    side          LowCardinality(String),
    token_id      String,
    size          Decimal(38, 6),
    usdc          Decimal(38, 6),
    price         Decimal(18, 6),
    fee           Decimal(38, 6),
    scanned_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (wallet, timestamp, tx_hash, log_index);

-- Block ranges scanned per wallet (and chain configuration: another contract table reads again).
-- One row per scanned interval, keyed by its first block; hi_block grows as the scan stores batches,
-- so a killed scan resumes after the last stored batch and no range is read twice into the witness.
CREATE TABLE IF NOT EXISTS {db:Identifier}.clob_chain_scans
(
    wallet        String,
    config_key    String,
    lo_block      UInt64,
    hi_block      UInt64,
    lo_ts         UInt32,
    hi_ts         UInt32,
    run_id        String,
    updated_at    DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (wallet, config_key, lo_block);

-- Block timestamps seen by searches and header lookups: later searches start from them.
CREATE TABLE IF NOT EXISTS {db:Identifier}.chain_block_times
(
    block     UInt64,
    ts        UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY block;

-- Token id -> market, from Gamma's markets endpoint; each token is asked once.
CREATE TABLE IF NOT EXISTS {db:Identifier}.clob_chain_tokens
(
    token_id       String COMMENT 'ERC-1155 position id, decimal, as in OrderFilled',
    condition_id   String COMMENT 'condition id of the market (0x + 64 hex)',
    outcome        String COMMENT 'label of the outcome in Gamma (e.g. Yes, No)',
    outcome_index  Int16 COMMENT 'place of the outcome in clobTokenIds of the market',
    resolved_at    DateTime64(3, 'UTC') COMMENT 'when Gamma was asked, the newest answer wins'
)
ENGINE = ReplacingMergeTree(resolved_at)
ORDER BY token_id;

-- Reconciliation history: per run, wallet and day, a fills table's rows against the witness, matched on
-- (transaction hash, token, side) with summed sizes and collateral (one API row may merge several logs).
-- Groups: matched (sizes equal, collateral within the epsilon), mismatched (both sides, other amounts),
-- API-only, chain-only, and chain-only below the Data API v2 minimum size when the wallet's rows are v2's.
CREATE TABLE IF NOT EXISTS {db:Identifier}.clob_reconciliation
(
    run_id             String,
    reconciled_at      DateTime64(3, 'UTC'),
    fills_table        String,
    wallet             String,
    day                Date,
    api_rows           UInt64,
    chain_fills        UInt64,
    matched            UInt64,
    mismatched         UInt64,
    api_only_rows      UInt64,
    chain_only_fills   UInt64,
    not_served_by_v2   UInt64,
    api_size           Decimal(38, 6),
    chain_size         Decimal(38, 6),
    size_delta         Decimal(38, 6),
    api_usdc           Decimal(38, 6),
    chain_usdc         Decimal(38, 6),
    usdc_delta         Decimal(38, 6),
    api_only_tx        Array(String),
    chain_only_tx      Array(String),
    mismatched_tx      Array(String),
    not_served_tx      Array(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(reconciled_at)
ORDER BY (run_id, wallet, day);
