-- Per wallet, what its last *completed* load into this fills table recorded (the ledger is written only
-- when a wallet's load ends without error): the oldest held-back CLOB trade (0 = none) and the newest
-- fill (0 = none). The incremental's window starts from that newest fill, not from the table's: a walk
-- that failed part way stored its newest seconds first, so the table's newest fill says nothing about
-- what lies below it. It also starts no later than the held-back trade, so that trade is read again
-- until a completed load covering it clears the hold (WalletLoad._hold_after).
SELECT wallet,
       toUnixTimestamp64Milli(argMax(hold_from_ts, updated_at)) AS hold_from_ms,
       toUnixTimestamp64Milli(argMax(last_fill_ts, updated_at)) AS synced_ms
FROM {db:Identifier}.wallet_sync_state
WHERE table_uuid = toUUID({table_uuid:String}) AND wallet IN {wallets:Array(String)}
GROUP BY wallet;
