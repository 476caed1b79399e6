SELECT resume_end_s, resume_cursor, pages, rows_seen, rows_inserted, done
FROM {db:Identifier}.ingest_checkpoints FINAL
WHERE run_id = {run_id:String} AND wallet = {wallet:String} AND source = {source:String};
