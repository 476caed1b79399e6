-- The run's checkpoints for a set of wallets (one query per task, however many wallets it loads).
SELECT wallet, resume_end_s, pages, rows_seen, rows_inserted, done
FROM {db:Identifier}.ingest_checkpoints FINAL
WHERE run_id = {run_id:String} AND source = {source:String} AND wallet IN {wallets:Array(String)};
