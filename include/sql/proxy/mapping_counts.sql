-- Mapping totals: all rows, proxy-separated wallets (proxy, Safe and deposit alike), direct, how
-- many of the proxy-separated are deposit wallets, then users (EOAs) and the users with several
-- wallets (the key is the pair: an EOA can trade from more than one). Callers read columns by
-- position: add new ones at the end.
SELECT sum(n) AS mappings,
       sum(separated) AS proxy_separated,
       sum(n - separated) AS direct,
       sum(deposit) AS deposit,
       count() AS users,
       countIf(n > 1) AS users_with_several
FROM (
    SELECT user_eoa,
           count() AS n,
           countIf(proxy_wallet != user_eoa) AS separated,
           countIf(proxy_wallet != user_eoa AND wallet_type = 'deposit') AS deposit
    FROM {db:Identifier}.{proxy_table:Identifier} FINAL
    GROUP BY user_eoa
);
