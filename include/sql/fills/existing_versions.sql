-- Fill ids (and their newest version) a wallet already has in a time range: the loader inserts
-- only fills that are new or carry a higher version, so a repeated run adds no rows.
SELECT fill_id, max(version) AS version
FROM {db:Identifier}.{fills_table:Identifier}
WHERE proxy_wallet = {wallet:String}
  AND timestamp >= fromUnixTimestamp64Milli({lo_ms:Int64}, 'UTC')
  AND timestamp <= fromUnixTimestamp64Milli({hi_ms:Int64}, 'UTC')
GROUP BY fill_id;
