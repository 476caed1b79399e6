-- Per wallet, the oldest held-back CLOB trade its last load in this fills table recorded (0 = none):
-- the incremental's window starts no later than it, so the trade is read again until it settles.
SELECT wallet, toUnixTimestamp64Milli(argMax(hold_from_ts, updated_at)) AS hold_from_ms
FROM {db:Identifier}.wallet_sync_state
WHERE table_uuid = toUUID({table_uuid:String}) AND wallet IN {wallets:Array(String)}
GROUP BY wallet;
