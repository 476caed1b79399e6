-- The loader's ledger for one wallet in one fills table (identified by UUID, so it follows the
-- table through promotions and rollbacks).
INSERT INTO {db:Identifier}.wallet_sync_state
    (wallet, source, table_uuid, fills_table, last_fill_ts, fills_total, last_run_id, hold_from_ts, updated_at)
VALUES ({wallet:String}, {source:String}, toUUID({table_uuid:String}), {fills_table:String},
        fromUnixTimestamp64Milli({last_fill_ms:Int64}, 'UTC'), {fills_total:UInt64}, {run_id:String},
        fromUnixTimestamp64Milli({hold_from_ms:Int64}, 'UTC'), now64(6));
