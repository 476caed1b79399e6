-- Wallets to ingest: every proxy wallet in the mapping table, with the EOA it belongs to.
SELECT proxy_wallet AS wallet, argMax(user_eoa, updated_at) AS user_eoa
FROM {db:Identifier}.{proxy_table:Identifier} FINAL
WHERE proxy_wallet != ''
GROUP BY proxy_wallet
ORDER BY proxy_wallet;
