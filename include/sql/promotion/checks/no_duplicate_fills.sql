-- No fill_id twice in the staging fills table, read with FINAL: rows that only a background merge
-- would collapse count as one, rows that FINAL keeps apart (same fill_id under another key) fail.
SELECT count() AS rows,
       uniqExact(fill_id) AS distinct_fill_ids,
       rows - distinct_fill_ids AS duplicate_rows,
       duplicate_rows = 0 AS passed
FROM {db:Identifier}.{fills_table:Identifier} FINAL;

-- Offending rows
SELECT fill_id, count() AS copies, groupUniqArray(proxy_wallet) AS wallets, min(timestamp) AS first_ts
FROM {db:Identifier}.{fills_table:Identifier} FINAL
GROUP BY fill_id
HAVING copies > 1
ORDER BY copies DESC, fill_id
LIMIT 10;
