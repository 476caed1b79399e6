-- Stored fills of a set of wallets: how many and the newest timestamp each (deduplicated with FINAL).
-- Wallets with no fills have no row. do_not_merge_across_partitions_select_final: every version of a
-- fill shares its timestamp, so it never spans two monthly partitions (see report/fills_by_wallet.sql).
SELECT proxy_wallet AS wallet, count() AS fills, toUnixTimestamp64Milli(max(timestamp)) AS newest_ms
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE proxy_wallet IN {wallets:Array(String)}
GROUP BY proxy_wallet
SETTINGS do_not_merge_across_partitions_select_final = 1;
