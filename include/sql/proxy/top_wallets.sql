-- The most active wallets: top N by volume above a floor. The metrics table is a Param; grouping
-- (not FINAL) keeps this working whatever engine that table uses. Addresses are validated in Python.
SELECT wallet, max(total_volume_usd) AS total_volume_usd
FROM {db:Identifier}.{metrics_table:Identifier}
GROUP BY wallet
HAVING total_volume_usd > {min_volume_usd:Float64}
ORDER BY total_volume_usd DESC, wallet
LIMIT {top_n:UInt32};
