-- Stored fills of a set of wallets: how many and the newest timestamp each (deduplicated with FINAL).
-- Wallets with no fills have no row.
SELECT proxy_wallet AS wallet, count() AS fills, toUnixTimestamp64Milli(max(timestamp)) AS newest_ms
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE proxy_wallet IN {wallets:Array(String)}
GROUP BY proxy_wallet;
