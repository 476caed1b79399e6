-- EOA -> proxy-wallet mappings the swap adds or removes, or whose wallet_type changes (incoming set
-- against current production), with both sides' wallet_type. separated = a proxy wallet other than
-- the EOA (what check_proxy_separated_mappings counts). At most {max_rows} rows; the total_* columns count all.
SELECT user_eoa, proxy_wallet,
       multiIf(NOT in_current, 'added', NOT in_incoming, 'removed', 'type changed') AS change,
       incoming_type, current_type,
       proxy_wallet != user_eoa AS separated,
       count() OVER () AS total_changes,
       countIf(NOT in_current) OVER () AS total_added,
       countIf(NOT in_incoming) OVER () AS total_removed,
       countIf(in_incoming AND in_current) OVER () AS total_type_changed
FROM
(
    SELECT user_eoa, proxy_wallet,
           max(side = 1) AS in_incoming,
           max(side = 2) AS in_current,
           anyIf(wallet_type, side = 1) AS incoming_type,
           anyIf(wallet_type, side = 2) AS current_type
    FROM
    (
        SELECT user_eoa, proxy_wallet, wallet_type, 1 AS side FROM {db:Identifier}.{incoming_proxy:Identifier} FINAL
        UNION ALL
        SELECT user_eoa, proxy_wallet, wallet_type, 2 AS side FROM {db:Identifier}.{current_proxy:Identifier} FINAL
        WHERE {current_exists:UInt8}
    )
    GROUP BY user_eoa, proxy_wallet
)
WHERE NOT (in_incoming AND in_current AND incoming_type = current_type)
ORDER BY change, user_eoa, proxy_wallet
LIMIT {max_rows:UInt32};
