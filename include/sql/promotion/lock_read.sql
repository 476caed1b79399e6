-- The ingestion pause: who holds it and for how long (age in seconds).
SELECT argMax(holder, updated_at) AS holder,
       argMax(held, updated_at) AS held,
       argMax(reason, updated_at) AS reason,
       dateDiff('second', max(updated_at), now64(6)) AS age_s
FROM {db:Identifier}.pipeline_lock
WHERE name = {name:String};
