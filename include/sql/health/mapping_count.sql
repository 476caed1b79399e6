-- The live proxy-mapping count is not lower than the last count that passed (a drop = data loss).
-- {accept_drop} = 1 takes the current count as the new baseline.
SELECT (SELECT count() FROM {db:Identifier}.{proxy_table:Identifier} FINAL) AS mappings,
       (SELECT argMax(mappings, checked_at) FROM {db:Identifier}.health_mapping_counts WHERE passed = 1) AS previous_mappings,
       (SELECT max(checked_at) FROM {db:Identifier}.health_mapping_counts WHERE passed = 1) AS previous_checked_at,
       mappings >= previous_mappings OR {accept_drop:UInt8} = 1 AS passed;
