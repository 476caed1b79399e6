-- One wallet's stored fills: how many and the newest timestamp (deduplicated with FINAL).
SELECT count() AS fills, toUnixTimestamp64Milli(max(timestamp)) AS newest_ms
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE proxy_wallet = {wallet:String};
