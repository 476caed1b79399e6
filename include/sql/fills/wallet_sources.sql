-- The sources a fills table holds per wallet: the loader refuses a wallet whose stored fills come from
-- the other family (chain vs API), before writing anything.
SELECT proxy_wallet AS wallet, groupUniqArray(source) AS sources
FROM {db:Identifier}.{fills_table:Identifier}
WHERE proxy_wallet IN {wallets:Array(String)}
GROUP BY proxy_wallet;
