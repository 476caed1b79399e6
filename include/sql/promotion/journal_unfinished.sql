-- Operations left half done, whoever started them: the latest attempt of the op_id has a step started
-- or done, but not every step done. Oldest first.
SELECT op_id,
       any(operation) AS operation,
       attempt,
       countIf(state = 'done') AS done_steps,
       countIf(state = 'started') AS started_steps,
       count() AS steps,
       max(updated_at) AS last_change
FROM {db:Identifier}.promotion_journal FINAL
WHERE (op_id, attempt) IN (SELECT op_id, max(attempt) FROM {db:Identifier}.promotion_journal GROUP BY op_id)
GROUP BY op_id, attempt
HAVING done_steps + started_steps > 0 AND done_steps < steps
ORDER BY last_change;
