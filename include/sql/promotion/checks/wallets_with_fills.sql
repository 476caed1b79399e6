-- The staging fills table is not empty and covers at least {min_wallets} wallets.
SELECT count() AS rows,
       uniqExact(proxy_wallet) AS wallets_with_fills,
       {min_wallets:UInt32} AS min_wallets,
       rows > 0 AND wallets_with_fills >= min_wallets AS passed
FROM {db:Identifier}.{fills_table:Identifier} FINAL;

-- Offending: tracked wallets (staging mappings) that have no fills in staging
SELECT proxy_wallet AS wallet_without_fills, argMax(user_eoa, updated_at) AS user_eoa
FROM {db:Identifier}.{proxy_table:Identifier} FINAL
WHERE proxy_wallet != ''
  AND proxy_wallet NOT IN (SELECT DISTINCT proxy_wallet FROM {db:Identifier}.{fills_table:Identifier})
GROUP BY proxy_wallet
ORDER BY proxy_wallet
LIMIT 10;
