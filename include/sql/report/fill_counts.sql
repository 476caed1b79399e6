-- Fills per wallet of a fills table (deduplicated), for the demo's comparison of two loads.
SELECT proxy_wallet, count()
FROM {db:Identifier}.{fills_table:Identifier} FINAL
GROUP BY proxy_wallet
SETTINGS do_not_merge_across_partitions_select_final = 1;
