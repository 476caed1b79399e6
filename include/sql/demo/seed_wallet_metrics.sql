-- Demo only: wallet volumes for proxy discovery to rank (idempotent: ReplacingMergeTree by wallet).
INSERT INTO {db:Identifier}.wallet_metrics (wallet, total_volume_usd, updated_at)
SELECT w, v, toDateTime64('2026-01-01 00:00:00', 3, 'UTC')
FROM (SELECT arrayJoin(arrayZip({wallets:Array(String)}, {volumes:Array(Float64)})) AS p, p.1 AS w, p.2 AS v);
