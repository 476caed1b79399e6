-- Fills per UTC day of the incoming set and of the current production (0 rows for a missing one).
SELECT toDate(timestamp) AS day,
       countIf(side = 1) AS incoming,
       countIf(side = 2) AS current
FROM
(
    SELECT timestamp, 1 AS side FROM {db:Identifier}.{incoming_fills:Identifier} FINAL
    UNION ALL
    SELECT timestamp, 2 AS side FROM {db:Identifier}.{current_fills:Identifier} FINAL WHERE {current_exists:UInt8}
)
GROUP BY day
ORDER BY day
SETTINGS do_not_merge_across_partitions_select_final = 1;
