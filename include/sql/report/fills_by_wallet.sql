-- Per-wallet fill counts and date range (deduplicated), for run summaries and the demo.
SELECT proxy_wallet AS wallet,
       count() AS fills,
       min(timestamp) AS first_fill,
       max(timestamp) AS last_fill
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE empty({wallets:Array(String)}) OR has({wallets:Array(String)}, proxy_wallet)
GROUP BY proxy_wallet
ORDER BY proxy_wallet;
