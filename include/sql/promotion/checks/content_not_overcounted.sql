-- No fill stored twice under two ids, which no_duplicate_fills cannot see:
-- 1. no fill content (wallet, transaction, asset, side, size, price, second) stored more often than the
--    source served it in that second (copies);
-- 2. none stored under two sources with rows of unknown multiplicity (copies = 0: rows from before
--    fills had one identity across sources);
-- 3. no trade side (wallet, transaction, asset, side) holding rows of two API sources (clob and
--    data_api). Both serve every fill of a transaction they cover, and a fill they describe alike is one
--    row (the CLOB's replaces the Data API's), so a Data API row beside a CLOB row is a fill the two
--    describe differently (the CLOB's price is the taker's limit price; its match_time may precede the
--    block time): the same fill under two ids. Chain rows are another family (one_source_family).
WITH contents AS (
    SELECT proxy_wallet, transaction_hash, asset, side, size, price, timestamp,
           count() AS stored, max(copies) AS served, uniqExact(source) AS sources
    FROM {db:Identifier}.{fills_table:Identifier} FINAL
    GROUP BY proxy_wallet, transaction_hash, asset, side, size, price, timestamp
),
trade_sides AS (
    SELECT proxy_wallet, transaction_hash, asset, side
    FROM {db:Identifier}.{fills_table:Identifier} FINAL
    WHERE source IN ('clob', 'data_api')
    GROUP BY proxy_wallet, transaction_hash, asset, side
    HAVING uniqExact(source) > 1
)
SELECT count() AS contents_checked,
       countIf(served > 0 AND stored > served) AS stored_more_than_served,
       countIf(served = 0 AND sources > 1) AS under_two_sources,
       (SELECT count() FROM trade_sides) AS described_differently_by_two_sources,
       stored_more_than_served + under_two_sources + described_differently_by_two_sources = 0 AS passed
FROM contents
SETTINGS do_not_merge_across_partitions_select_final = 1;

-- Offending rows
SELECT proxy_wallet, timestamp, transaction_hash, side, size, price,
       count() AS stored, max(copies) AS served, groupUniqArray(source) AS sources
FROM {db:Identifier}.{fills_table:Identifier} FINAL
GROUP BY proxy_wallet, transaction_hash, asset, side, size, price, timestamp
HAVING (served > 0 AND stored > served) OR (served = 0 AND length(sources) > 1)
    OR (proxy_wallet, transaction_hash, asset, side) IN (
        SELECT proxy_wallet, transaction_hash, asset, side
        FROM {db:Identifier}.{fills_table:Identifier} FINAL
        WHERE source IN ('clob', 'data_api')
        GROUP BY proxy_wallet, transaction_hash, asset, side
        HAVING uniqExact(source) > 1
    )
ORDER BY stored - served DESC, transaction_hash, timestamp DESC
LIMIT 10
SETTINGS do_not_merge_across_partitions_select_final = 1;
