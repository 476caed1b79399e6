-- At least {min_proxy_mappings} users trade through a wallet other than their EOA: a proxy, a Safe or
-- a deposit wallet alike. The pair decides, not wallet_type, so a row an older version typed (or left
-- untyped) counts too; a user with two such wallets counts once. The per-type counts are for the log.
SELECT count() AS mappings,
       uniqExactIf(user_eoa, proxy_wallet != user_eoa AND proxy_wallet != '' AND user_eoa != '') AS proxy_separated,
       countIf(proxy_wallet != user_eoa AND wallet_type = 'proxy') AS proxy,
       countIf(proxy_wallet != user_eoa AND wallet_type = 'safe') AS safe,
       countIf(proxy_wallet != user_eoa AND wallet_type = 'deposit') AS deposit,
       {min_proxy_mappings:UInt32} AS min_proxy_mappings,
       proxy_separated >= min_proxy_mappings AS passed
FROM {db:Identifier}.{proxy_table:Identifier} FINAL;

-- Mappings present
SELECT user_eoa, proxy_wallet, wallet_type, resolved_by
FROM {db:Identifier}.{proxy_table:Identifier} FINAL
ORDER BY wallet_type, user_eoa
LIMIT 10;
