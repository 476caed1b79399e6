-- Per wallet: the incoming fills (staging for a promotion, *_old for a rollback) against the current
-- production, matched on fill_id (a fill's identity across sources): how many each side holds, how
-- many the swap adds and removes, each side's first/last fill and USDC volume (size * price). Every
-- row also carries the totals over all wallets (window aggregates), so one query gives both.
-- The current side is read only when {current_exists} (no production before the first promotion).
-- Changed wallets first; at most {max_wallets} rows (the totals still count every wallet).
SELECT wallet,
       multiIf(current_fills = 0, 'added', incoming_fills = 0, 'removed', added + removed > 0, 'changed', 'unchanged') AS status,
       incoming_fills, current_fills, added, removed,
       incoming_first, incoming_last, current_first, current_last,
       incoming_usdc, current_usdc,
       count() OVER () AS total_wallets,
       countIf(current_fills = 0) OVER () AS total_wallets_added,
       countIf(incoming_fills = 0) OVER () AS total_wallets_removed,
       countIf(current_fills > 0 AND incoming_fills > 0 AND added + removed > 0) OVER () AS total_wallets_changed,
       sum(incoming_fills) OVER () AS total_incoming_fills,
       sum(current_fills) OVER () AS total_current_fills,
       sum(added) OVER () AS total_added,
       sum(removed) OVER () AS total_removed,
       sum(incoming_usdc) OVER () AS total_incoming_usdc,
       sum(current_usdc) OVER () AS total_current_usdc
FROM
(
    SELECT wallet,
           countIf(in_incoming) AS incoming_fills,
           countIf(in_current) AS current_fills,
           countIf(in_incoming AND NOT in_current) AS added,
           countIf(in_current AND NOT in_incoming) AS removed,
           minIfOrNull(incoming_ts, in_incoming) AS incoming_first,
           maxIfOrNull(incoming_ts, in_incoming) AS incoming_last,
           minIfOrNull(current_ts, in_current) AS current_first,
           maxIfOrNull(current_ts, in_current) AS current_last,
           toFloat64(sumIf(incoming_usdc, in_incoming)) AS incoming_usdc,
           toFloat64(sumIf(current_usdc, in_current)) AS current_usdc
    FROM
    (
        SELECT proxy_wallet AS wallet,
               max(side = 1) AS in_incoming,
               max(side = 2) AS in_current,
               minIf(timestamp, side = 1) AS incoming_ts,
               minIf(timestamp, side = 2) AS current_ts,
               sumIf(usdc, side = 1) AS incoming_usdc,
               sumIf(usdc, side = 2) AS current_usdc
        FROM
        (
            SELECT proxy_wallet, fill_id, timestamp, size * price AS usdc, 1 AS side
            FROM {db:Identifier}.{incoming_fills:Identifier} FINAL
            UNION ALL
            SELECT proxy_wallet, fill_id, timestamp, size * price AS usdc, 2 AS side
            FROM {db:Identifier}.{current_fills:Identifier} FINAL
            WHERE {current_exists:UInt8}
        )
        GROUP BY proxy_wallet, fill_id
    )
    GROUP BY wallet
)
ORDER BY added + removed DESC, removed DESC, wallet
LIMIT {max_wallets:UInt32}
SETTINGS do_not_merge_across_partitions_select_final = 1;
