-- Mapping totals: all, proxy-separated (proxy, Safe and deposit wallets alike), direct, and how
-- many of the proxy-separated are deposit wallets.
SELECT count() AS mappings,
       countIf(proxy_wallet != user_eoa) AS proxy_separated,
       countIf(proxy_wallet = user_eoa) AS direct,
       countIf(proxy_wallet != user_eoa AND wallet_type = 'deposit') AS deposit
FROM {db:Identifier}.{proxy_table:Identifier} FINAL;
