-- Record a schema upgrade as done (after it finished: a crash before this line runs it again).
INSERT INTO {db:Identifier}.schema_versions (version, name, detail, run_id, applied_at)
VALUES ({version:UInt32}, {name:String}, {detail:String}, {run_id:String}, now64(6));
