-- The newest reconciliation against the chain of the incoming fills table (clob_reconcile or the
-- promotion's check_chain_reconciliation, both write clob_reconciliation), per wallet over the days it
-- compared. Read only when clob_reconciliation exists (promotion/audit.py). A wallet is off the chain
-- when it has mismatched groups, API-only rows or chain-only fills; fills below the Data API v2 minimum
-- size are listed apart (not a loss).
WITH (
    SELECT argMax(run_id, reconciled_at)
    FROM {db:Identifier}.clob_reconciliation
    WHERE fills_table = {fills_table:String}
) AS newest
SELECT wallet,
       sum(matched) AS matched,
       sum(mismatched) AS mismatched,
       sum(api_only_rows) AS api_only,
       sum(chain_only_fills) AS chain_only,
       sum(not_served_by_v2) AS not_served_by_v2,
       max(reconciled_at) AS reconciled_at
FROM {db:Identifier}.clob_reconciliation
WHERE fills_table = {fills_table:String} AND run_id = newest
GROUP BY wallet
ORDER BY mismatched + api_only + chain_only DESC, wallet;
