-- Promotion and rollback bookkeeping.

-- One row per step of a journaled swap, rewritten as the step moves planned -> started -> done
-- (or reverted / cancelled). The UUIDs are the tables' identities before the step: after an EXCHANGE
-- the name `a` carries `uuid_b`, so a resumed run can tell whether a step it started took effect.
-- validated_rows: on a visible step, the rows validated for the table it makes production (-1: none),
-- so whoever takes over an interrupted operation can tell whether the validated tables are intact.
CREATE TABLE IF NOT EXISTS {db:Identifier}.promotion_journal
(
    op_id       String,
    attempt     UInt32,
    operation   LowCardinality(String),
    seq         UInt16,
    role        LowCardinality(String),
    action      LowCardinality(String),
    visible     UInt8,
    table_a     String,
    table_b     String,
    uuid_a      String,
    uuid_b      String,
    validated_rows Int64 DEFAULT -1,
    state       LowCardinality(String),
    detail      String,
    updated_at  DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (op_id, attempt, seq);

-- Journals created before validated_rows existed.
ALTER TABLE {db:Identifier}.promotion_journal ADD COLUMN IF NOT EXISTS validated_rows Int64 DEFAULT -1 AFTER uuid_b;

-- Which table is live for each role (fills, proxy). No row = the staging table. Ingestion reads
-- it when a task starts, so after a promotion or rollback it writes where readers read.
CREATE TABLE IF NOT EXISTS {db:Identifier}.live_tables
(
    role        LowCardinality(String),
    table_name  String,
    set_by      String,
    updated_at  DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY role;

-- The ingestion pause a promotion or rollback holds while it validates and swaps.
CREATE TABLE IF NOT EXISTS {db:Identifier}.pipeline_lock
(
    name        LowCardinality(String),
    holder      String,
    held        UInt8,
    reason      String,
    updated_at  DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY name;
