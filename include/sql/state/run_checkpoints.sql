-- Every wallet's progress in one DAG run (the summary task reports and checks these).
SELECT wallet, source, pages, rows_seen, rows_inserted, done
FROM {db:Identifier}.ingest_checkpoints FINAL
WHERE run_id = {run_id:String}
ORDER BY wallet;
