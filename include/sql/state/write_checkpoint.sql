INSERT INTO {db:Identifier}.ingest_checkpoints
    (run_id, wallet, source, resume_end_s, pages, rows_seen, rows_inserted, done, updated_at)
VALUES ({run_id:String}, {wallet:String}, {source:String}, {resume_end_s:Int64},
        {pages:UInt64}, {rows_seen:UInt64}, {rows_inserted:UInt64}, {done:UInt8}, now64(6));
