-- No promotion or rollback is left half done. While one is (a worker died mid-swap), readers may see
-- one role promoted and the other not, and ingestion stays paused.
SELECT count() AS unfinished_operations,
       arrayStringConcat(groupArray(concat(operation, ' ', op_id, ' (', toString(done_steps), '/',
                                           toString(steps), ' steps done)')), ', ') AS operations,
       min(last_change) AS since,
       unfinished_operations = 0 AS passed
FROM
(
    SELECT op_id, any(operation) AS operation, countIf(state = 'done') AS done_steps,
           countIf(state = 'started') AS started_steps, count() AS steps, max(updated_at) AS last_change
    FROM {db:Identifier}.promotion_journal FINAL
    WHERE (op_id, attempt) IN (SELECT op_id, max(attempt) FROM {db:Identifier}.promotion_journal GROUP BY op_id)
    GROUP BY op_id, attempt
    HAVING done_steps + started_steps > 0 AND done_steps < steps
);
