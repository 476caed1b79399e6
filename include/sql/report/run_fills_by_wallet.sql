-- Per-wallet result for a backfill's summary: the fill count the loaders recorded for this table
-- (the count measured with FINAL when each load started plus the fill ids it added) and the date
-- range of the wallet's fills. min/max need no FINAL because every version of a fill shares its
-- timestamp, so the summary does not scan the fills with FINAL right after the load (on embedded
-- chDB that costs 50-100 MB per million fills). Wallets with no ledger row are not listed.
WITH (SELECT uuid FROM system.tables WHERE database = {db:String} AND name = {fills_table:String}) AS table_id
SELECT ledger.wallet AS wallet, ledger.fills AS fills, fill_range.first_fill AS first_fill, fill_range.last_fill AS last_fill
FROM
(
    SELECT wallet, argMax(fills_total, updated_at) AS fills
    FROM {db:Identifier}.wallet_sync_state
    WHERE table_uuid = table_id AND wallet IN {wallets:Array(String)}
    GROUP BY wallet
) AS ledger
LEFT JOIN
(
    SELECT proxy_wallet AS wallet, min(timestamp) AS first_fill, max(timestamp) AS last_fill
    FROM {db:Identifier}.{fills_table:Identifier}
    WHERE proxy_wallet IN {wallets:Array(String)}
    GROUP BY proxy_wallet
) AS fill_range USING (wallet)
ORDER BY wallet
SETTINGS join_use_nulls = 1;
