-- The bundle's schema upgrades that have run in this database, one row each (ensure_schema runs the
-- pending ones once, in order, and records each here after it finished; schema_upgrade.py lists them).
CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_versions
(
    version     UInt32,
    name        String,
    detail      String,
    run_id      String,
    applied_at  DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;
