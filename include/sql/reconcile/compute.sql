-- One reconciliation run: a fills table's rows against the chain witness, per wallet and UTC day, for the
-- days in [start, end) that both sides cover. The API side of a wallet ends at the start of the day of its
-- last load into this table minus an hour (wallet_sync_state), so a day it was not loaded to the end is not
-- compared. Groups are (wallet, transaction, token, side) with summed sizes and collateral (size x price on
-- the API side): an API row that merges several on-chain fills of one order still matches. A group's day is
-- its block time's (the chain's; the API's only for a group the chain lacks): CLOB rows carry the match time,
-- seconds before the block, so both sides are read margin_ms wider than [start, end) and a group belongs
-- to the window by that one day, never half in and half out at midnight. For a wallet loaded through v2,
-- chain fills below v2's minimum size are "not served by v2", never losses: a group matches when the API
-- has all of it, or all but those fills (one transaction can fill a tiny order beside a served one of the
-- same token and side).
INSERT INTO {db:Identifier}.clob_reconciliation
WITH
    loaded AS (
        SELECT wallet, toStartOfDay(max(updated_at) - INTERVAL 1 HOUR) AS api_until
        FROM {db:Identifier}.wallet_sync_state
        WHERE table_uuid = (SELECT uuid FROM system.tables WHERE database = {db:String} AND name = {fills_table:String})
          AND wallet IN {wallets:Array(String)}
        GROUP BY wallet
    ),
    v2_wallets AS (  -- loaded into this table through the Data API v2 at least once (the ledger knows; v1 and
                     -- v2 rows are both stored as source data_api, one identity)
        SELECT wallet, countIf(source IN {v2_sources:Array(String)}) > 0 AS v2
        FROM {db:Identifier}.wallet_sync_state
        WHERE table_uuid = (SELECT uuid FROM system.tables WHERE database = {db:String} AND name = {fills_table:String})
          AND wallet IN {wallets:Array(String)}
        GROUP BY wallet
    ),
    api AS (
        SELECT proxy_wallet AS wallet, transaction_hash AS tx, asset AS token, side,
               count() AS n, sum(size) AS size_sum, sum(size * price) AS usdc_sum, min(timestamp) AS ts
        FROM {db:Identifier}.{fills_table:Identifier} FINAL
        WHERE proxy_wallet IN {wallets:Array(String)}
          AND timestamp >= fromUnixTimestamp64Milli({start_ms:Int64} - {margin_ms:Int64}, 'UTC')
          AND timestamp < fromUnixTimestamp64Milli({end_ms:Int64} + {margin_ms:Int64}, 'UTC')
        GROUP BY wallet, tx, token, side
    ),
    chain AS (
        SELECT wallet, tx_hash AS tx, token_id AS token, side,
               count() AS n, sum(size) AS size_sum, sum(usdc) AS usdc_sum, min(timestamp) AS ts,
               countIf(size < {v2_min_size:Decimal(38, 6)}) AS small_n,
               sumIf(size, size < {v2_min_size:Decimal(38, 6)}) AS small_size,
               sumIf(usdc, size < {v2_min_size:Decimal(38, 6)}) AS small_usdc
        FROM {db:Identifier}.clob_chain_fills FINAL
        WHERE wallet IN {wallets:Array(String)}
          AND timestamp >= fromUnixTimestamp64Milli({start_ms:Int64} - {margin_ms:Int64}, 'UTC')
          AND timestamp < fromUnixTimestamp64Milli({end_ms:Int64} + {margin_ms:Int64}, 'UTC')
        GROUP BY wallet, tx, token, side
    ),
    groups AS (
        SELECT if(a.wallet IS NULL, c.wallet, a.wallet) AS wallet,
               if(a.tx IS NULL, c.tx, a.tx) AS tx,
               toDate(if(c.ts IS NULL, a.ts, c.ts)) AS day,
               coalesce(a.n, 0) AS a_n, coalesce(c.n, 0) AS c_n,
               coalesce(a.size_sum, toDecimal128(0, 6)) AS a_size, coalesce(c.size_sum, toDecimal128(0, 6)) AS c_size,
               coalesce(toDecimal128(a.usdc_sum, 6), toDecimal128(0, 6)) AS a_usdc,
               coalesce(c.usdc_sum, toDecimal128(0, 6)) AS c_usdc,
               coalesce(c.small_n, 0) AS c_small_n, coalesce(c.small_size, toDecimal128(0, 6)) AS c_small_size,
               coalesce(c.small_usdc, toDecimal128(0, 6)) AS c_small_usdc,
               a.wallet IS NOT NULL AS on_api, c.wallet IS NOT NULL AS on_chain
        FROM api AS a
        FULL OUTER JOIN chain AS c ON a.wallet = c.wallet AND a.tx = c.tx AND a.token = c.token AND a.side = c.side
    ),
    classified AS (
        SELECT g.wallet AS wallet, g.tx AS tx, g.day AS day, g.a_n AS a_n, g.c_n AS c_n, g.a_size AS a_size,
               g.c_size AS c_size, g.a_usdc AS a_usdc, g.c_usdc AS c_usdc, g.on_api AS on_api, g.on_chain AS on_chain,
               -- the group's chain fills v2 cannot serve (none unless the wallet was loaded through v2)
               if(coalesce(v.v2, 0), g.c_small_n, 0) AS s_n,
               if(coalesce(v.v2, 0), g.c_small_size, toDecimal128(0, 6)) AS s_size,
               if(coalesce(v.v2, 0), g.c_small_usdc, toDecimal128(0, 6)) AS s_usdc,
               on_api AND on_chain AND a_size = c_size AND abs(a_usdc - c_usdc) <= {usdc_epsilon:Decimal(38, 6)} AS full_match,
               on_api AND s_n > 0 AND a_size = c_size - s_size
                   AND abs(a_usdc - (c_usdc - s_usdc)) <= {usdc_epsilon:Decimal(38, 6)} AS served_part_match,
               full_match OR served_part_match AS is_matched,
               on_api AND on_chain AND NOT is_matched AS is_mismatched,
               if(full_match OR is_mismatched, 0, s_n) AS not_served_n,  -- below v2's minimum, not a loss
               if(on_chain AND NOT on_api, c_n - s_n, 0) AS chain_only_n
        FROM groups AS g
        LEFT JOIN loaded AS l ON l.wallet = g.wallet
        LEFT JOIN v2_wallets AS v ON v.wallet = g.wallet
        WHERE g.day >= toDate(fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC'))
          AND g.day < toDate(fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC'))
          AND (l.wallet IS NULL OR g.day < toDate(l.api_until))
    )
SELECT {run_id:String}, now64(3), {fills_table:String}, wallet, day,
       sum(a_n), sum(c_n),
       countIf(is_matched), countIf(is_mismatched),
       sumIf(a_n, on_api AND NOT on_chain), sum(chain_only_n), sum(not_served_n),
       sum(a_size), sum(c_size), sum(a_size) - sum(c_size),
       sum(a_usdc), sum(c_usdc), sum(a_usdc) - sum(c_usdc),
       arraySort(groupUniqArrayIf(20)(tx, on_api AND NOT on_chain)),
       arraySort(groupUniqArrayIf(20)(tx, chain_only_n > 0)),
       arraySort(groupUniqArrayIf(20)(tx, is_mismatched)),
       arraySort(groupUniqArrayIf(20)(tx, not_served_n > 0))
FROM classified
GROUP BY wallet, day
SETTINGS join_use_nulls = 1, do_not_merge_across_partitions_select_final = 1;
