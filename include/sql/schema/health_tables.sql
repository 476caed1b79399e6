-- History of the live proxy-mapping count, one row per clob_health run: the mapping-count check
-- compares with the last count that passed, so a drop keeps alerting until restored or accepted.
CREATE TABLE IF NOT EXISTS {db:Identifier}.health_mapping_counts
(
    checked_at   DateTime64(6, 'UTC'),
    proxy_table  String,
    mappings     UInt64,
    passed       UInt8,
    run_id       String
)
ENGINE = MergeTree
ORDER BY checked_at;
