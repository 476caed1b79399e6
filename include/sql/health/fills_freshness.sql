-- Fills are fresh: the newest ingested_at in the live fills table is at most {max_age_hours} old.
SELECT count() AS rows,
       max(ingested_at) AS last_ingested_at,
       round(dateDiff('second', max(ingested_at), now64(3)) / 3600, 1) AS hours_since_last_ingest,
       {max_age_hours:UInt32} AS max_age_hours,
       rows > 0 AND hours_since_last_ingest <= max_age_hours AS passed
FROM {db:Identifier}.{fills_table:Identifier};

-- Newest fills per wallet, for context
SELECT proxy_wallet, max(ingested_at) AS last_ingested_at, max(timestamp) AS newest_fill
FROM {db:Identifier}.{fills_table:Identifier}
GROUP BY proxy_wallet
ORDER BY last_ingested_at DESC
LIMIT 10;
