-- Mappings per wallet_type (and whether the proxy wallet is separate from the EOA), incoming set
-- against current production; every row also carries both sides' totals.
SELECT wallet_type, separated, incoming, current,
       sum(incoming) OVER () AS total_incoming,
       sum(current) OVER () AS total_current
FROM
(
    SELECT wallet_type,
           proxy_wallet != user_eoa AS separated,
           countIf(side = 1) AS incoming,
           countIf(side = 2) AS current
    FROM
    (
        SELECT user_eoa, proxy_wallet, wallet_type, 1 AS side FROM {db:Identifier}.{incoming_proxy:Identifier} FINAL
        UNION ALL
        SELECT user_eoa, proxy_wallet, wallet_type, 2 AS side FROM {db:Identifier}.{current_proxy:Identifier} FINAL
        WHERE {current_exists:UInt8}
    )
    GROUP BY wallet_type, separated
)
ORDER BY wallet_type, separated;
