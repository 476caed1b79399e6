-- The newest reconciliation against the chain of the incoming fills table (clob_reconcile, issue #20),
-- per wallet. Read only when clob_reconciliation exists (promotion/audit.py). MERGE POINT: the
-- column names below are this file's guess at that table; the lead wires the real ones at merge time.
WITH (
    SELECT argMax(run_id, reconciled_at)
    FROM {db:Identifier}.clob_reconciliation
    WHERE fills_table = {fills_table:String}
) AS newest
SELECT wallet,
       sum(matched) AS matched,
       sum(api_only) AS api_only,
       sum(chain_only) AS chain_only,
       max(reconciled_at) AS reconciled_at
FROM {db:Identifier}.clob_reconciliation
WHERE fills_table = {fills_table:String} AND run_id = newest
GROUP BY wallet
ORDER BY api_only + chain_only DESC, wallet;
