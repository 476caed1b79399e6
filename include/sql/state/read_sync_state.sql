SELECT toUnixTimestamp64Milli(last_fill_ts) AS last_fill_ms, fills_total
FROM {db:Identifier}.wallet_sync_state FINAL
WHERE wallet = {wallet:String} AND source = {source:String};
