-- The staging fills table is not empty and covers at least {min_wallets} wallets.
SELECT count() AS rows,
       uniqExact(proxy_wallet) AS wallets_with_fills,
       {min_wallets:UInt32} AS min_wallets,
       rows > 0 AND wallets_with_fills >= min_wallets AS passed
FROM {db:Identifier}.{fills_table:Identifier} FINAL;

-- Wallets present (fills per wallet)
SELECT proxy_wallet, count() AS fills
FROM {db:Identifier}.{fills_table:Identifier} FINAL
GROUP BY proxy_wallet
ORDER BY fills DESC
LIMIT 10;
