-- No wallet holds both chain fills and API fills in the staging table: their identities differ (transaction
-- hash and log index vs content and rank), so together they would count a trade twice (README, "Chain fills
-- and API fills"). The loaders refuse it; this check catches rows written any other way.
SELECT uniqExact(proxy_wallet) AS wallets,
       uniqExactIf(proxy_wallet, has_chain AND has_api) AS wallets_with_both,
       wallets_with_both = 0 AS passed
FROM (
    SELECT proxy_wallet, countIf(source = 'chain') > 0 AS has_chain, countIf(source != 'chain') > 0 AS has_api
    FROM {db:Identifier}.{fills_table:Identifier}
    GROUP BY proxy_wallet
);

-- Offending rows
SELECT proxy_wallet, countIf(source = 'chain') AS chain_rows, countIf(source != 'chain') AS api_rows,
       groupUniqArray(source) AS sources
FROM {db:Identifier}.{fills_table:Identifier}
GROUP BY proxy_wallet
HAVING chain_rows > 0 AND api_rows > 0
ORDER BY api_rows + chain_rows DESC
LIMIT 10;
