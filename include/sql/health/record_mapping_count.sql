-- Keep the history: this run's live mapping count and whether it passed (same rule as mapping_count.sql).
INSERT INTO {db:Identifier}.health_mapping_counts (checked_at, proxy_table, mappings, passed, run_id)
SELECT now64(6), {proxy_table:String}, current, current >= previous OR {accept_drop:UInt8} = 1, {run_id:String}
FROM (
    SELECT (SELECT count() FROM {db:Identifier}.{proxy_table:Identifier} FINAL) AS current,
           (SELECT argMax(mappings, checked_at) FROM {db:Identifier}.health_mapping_counts WHERE passed = 1) AS previous
);
