-- A wallet's scanned range after a stored batch: everything in lo..hi is in clob_chain_fills.
INSERT INTO {db:Identifier}.clob_chain_scans (wallet, config_key, lo_block, hi_block, lo_ts, hi_ts, run_id, updated_at)
VALUES ({wallet:String}, {config_key:String}, {lo_block:UInt64}, {hi_block:UInt64}, {lo_ts:UInt32}, {hi_ts:UInt32},
        {run_id:String}, now64(6));
