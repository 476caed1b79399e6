-- No fill content (wallet, transaction, asset, side, size, price, second) stored more often than the
-- source served it in that second (copies), and none stored under two sources with rows of unknown
-- multiplicity (copies = 0: rows from before fills had one identity across sources). Either means
-- a fill is in the table twice under two ids, which no_duplicate_fills cannot see.
WITH contents AS (
    SELECT proxy_wallet, transaction_hash, asset, side, size, price, timestamp,
           count() AS stored, max(copies) AS served, uniqExact(source) AS sources
    FROM {db:Identifier}.{fills_table:Identifier} FINAL
    GROUP BY proxy_wallet, transaction_hash, asset, side, size, price, timestamp
)
SELECT count() AS contents_checked,
       countIf(served > 0 AND stored > served) AS stored_more_than_served,
       countIf(served = 0 AND sources > 1) AS under_two_sources,
       stored_more_than_served + under_two_sources = 0 AS passed
FROM contents
SETTINGS do_not_merge_across_partitions_select_final = 1;

-- Offending rows
SELECT proxy_wallet, timestamp, transaction_hash, side, size, price,
       count() AS stored, max(copies) AS served, groupUniqArray(source) AS sources
FROM {db:Identifier}.{fills_table:Identifier} FINAL
GROUP BY proxy_wallet, transaction_hash, asset, side, size, price, timestamp
HAVING (served > 0 AND stored > served) OR (served = 0 AND length(sources) > 1)
ORDER BY stored - served DESC, timestamp DESC
LIMIT 10
SETTINGS do_not_merge_across_partitions_select_final = 1;
