-- make bench (scripts/bench_chain.py): n chain fills over `wallets` wallets in [start_s, end_s), built by ClickHouse,
-- and the API table holding the same fills except about 1 in 3,000 left out and 1 in 3,000 served one share larger;
-- every wallet has a ledger row from now, so every day of the window is compared.
INSERT INTO {db:Identifier}.clob_chain_fills
SELECT concat('0x', leftPad(lower(hex(number % {wallets:UInt64})), 40, '0')) AS wallet,
       concat('0x', leftPad(lower(hex(number)), 64, '0')) AS tx_hash,
       0 AS log_index,
       intDiv(ts - 1600000000, 2) AS block_number,
       toDateTime64(ts, 3, 'UTC') AS timestamp,
       '0xe111180000d2663c0091e4f400237545b87b996b' AS exchange, 'v2' AS era, tx_hash AS order_hash,
       '0x1111111111111111111111111111111111111111' AS taker, 'maker' AS role,
       if(cityHash64(number, 3) % 2 = 0, 'BUY', 'SELL') AS side,
       toString(1000000 + cityHash64(number, 4) % 5000) AS token_id,
       toDecimal128(size_cents, 6) / 100 AS size,
       toDecimal128(size_cents * price_mills, 6) / 100000 AS usdc,
       toDecimal64(price_mills, 6) / 1000 AS price,
       toDecimal128(0, 6) AS fee,
       now64(3) AS scanned_at
FROM (
    SELECT number,
           {start_s:UInt64} + cityHash64(number, 1) % ({end_s:UInt64} - {start_s:UInt64}) AS ts,
           1 + cityHash64(number, 2) % 50000 AS size_cents,
           10 + cityHash64(number, 5) % 980 AS price_mills
    FROM numbers({n:UInt64})
);

INSERT INTO {db:Identifier}.clob_fills_v2
SELECT concat(tx_hash, ':0'), 'data_api', wallet, wallet, '0xc0', token_id, side, 'Yes', 0,
       if(cityHash64(tx_hash) % 3000 = 1, size + 1, size), price, timestamp, tx_hash, '', '', '', '', 0, 1, now64(3)
FROM {db:Identifier}.clob_chain_fills
WHERE cityHash64(tx_hash) % 3000 != 0;

INSERT INTO {db:Identifier}.wallet_sync_state
    (wallet, source, table_uuid, fills_table, last_fill_ts, fills_total, last_run_id, updated_at)  -- no hold
SELECT proxy_wallet, 'data_api', (SELECT uuid FROM system.tables WHERE database = {db:String} AND name = 'clob_fills_v2'),
       'clob_fills_v2', max(timestamp), count(), 'bench', now64(6)
FROM {db:Identifier}.clob_fills_v2
GROUP BY proxy_wallet;
