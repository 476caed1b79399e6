-- EOA -> proxy-wallet mappings, incoming set against current production, in one pass over both:
-- kind 'type' rows count the mappings per wallet_type (and whether the proxy wallet is separate from
-- the EOA: what check_proxy_separated_mappings counts) on each side; kind 'change' rows are the
-- mappings the swap adds or removes, or whose wallet_type changes, with both sides' wallet_type.
-- Every row carries the totals (window aggregates). Type rows first; at most {max_rows} rows in all.
SELECT *
FROM
(
    SELECT kind, user_eoa, proxy_wallet, wallet_type,
           if(kind = 'change', proxy_wallet != user_eoa, separated) AS separated,
           multiIf(NOT in_current, 'added', NOT in_incoming, 'removed', incoming_type != current_type, 'type changed', '') AS change,
           incoming_type, current_type, incoming, current,
           sumIf(incoming, kind = 'type') OVER () AS total_incoming,
           sumIf(current, kind = 'type') OVER () AS total_current,
           countIf(kind = 'change' AND change != '') OVER () AS total_changes,
           countIf(kind = 'change' AND change = 'added') OVER () AS total_added,
           countIf(kind = 'change' AND change = 'removed') OVER () AS total_removed,
           countIf(kind = 'change' AND change = 'type changed') OVER () AS total_type_changed
    FROM
    (
        SELECT if(grouping(user_eoa, proxy_wallet) = 0, 'change', 'type') AS kind,
               user_eoa, proxy_wallet, wallet_type, separated,
               max(side = 1) AS in_incoming,
               max(side = 2) AS in_current,
               anyIf(wallet_type, side = 1) AS incoming_type,
               anyIf(wallet_type, side = 2) AS current_type,
               countIf(side = 1) AS incoming,
               countIf(side = 2) AS current
        FROM
        (
            SELECT user_eoa, proxy_wallet, wallet_type, proxy_wallet != user_eoa AS separated, 1 AS side
            FROM {db:Identifier}.{incoming_proxy:Identifier} FINAL
            UNION ALL
            SELECT user_eoa, proxy_wallet, wallet_type, proxy_wallet != user_eoa AS separated, 2 AS side
            FROM {db:Identifier}.{current_proxy:Identifier} FINAL
            WHERE {current_exists:UInt8}
        )
        GROUP BY GROUPING SETS ((user_eoa, proxy_wallet), (wallet_type, separated))
    )
)
WHERE kind = 'type' OR change != ''
ORDER BY kind = 'type' DESC, wallet_type, separated, change, user_eoa, proxy_wallet
LIMIT {max_rows:UInt32};
