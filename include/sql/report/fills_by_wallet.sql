-- Per-wallet fill counts and date range (deduplicated), for the demo and ad-hoc checks.
-- do_not_merge_across_partitions_select_final: every version of a fill shares its timestamp, so
-- it never spans two monthly partitions and FINAL need not merge across them (less memory, faster).
SELECT proxy_wallet AS wallet,
       count() AS fills,
       min(timestamp) AS first_fill,
       max(timestamp) AS last_fill
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE empty({wallets:Array(String)}) OR has({wallets:Array(String)}, proxy_wallet)
GROUP BY proxy_wallet
ORDER BY proxy_wallet
SETTINGS do_not_merge_across_partitions_select_final = 1;
