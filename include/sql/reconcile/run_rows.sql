-- One reconciliation run's rows, wallet by wallet, day by day.
SELECT wallet, day, api_rows, chain_fills, matched, mismatched, api_only_rows, chain_only_fills, not_served_by_v2,
       api_size, chain_size, size_delta, api_usdc, chain_usdc, usdc_delta, api_only_tx, chain_only_tx, mismatched_tx,
       not_served_tx
FROM {db:Identifier}.clob_reconciliation
WHERE run_id = {run_id:String}
ORDER BY wallet, day;
