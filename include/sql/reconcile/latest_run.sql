-- The newest reconciliation run of a fills table (the demo prints its verdict).
SELECT run_id
FROM {db:Identifier}.clob_reconciliation
WHERE fills_table = {fills_table:String}
ORDER BY reconciled_at DESC
LIMIT 1;
