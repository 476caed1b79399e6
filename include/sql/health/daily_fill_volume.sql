-- Fills per day (by fill timestamp, UTC) on the last complete day against the median of the 7 days
-- before it. A drop above {warn_drop_pct} % is a WARNING (the task succeeds); above
-- {fail_drop_pct} % the check fails (100 = never).
WITH
    toDate(now(), 'UTC') - 1 AS day,
    (
        SELECT groupArray((d, c))
        FROM
        (
            SELECT toDate(timestamp, 'UTC') AS d, count() AS c
            FROM {db:Identifier}.{fills_table:Identifier} FINAL
            WHERE timestamp >= toDateTime64(toDate(now(), 'UTC') - 8, 3, 'UTC')
              AND timestamp < toDateTime64(toDate(now(), 'UTC'), 3, 'UTC')
            GROUP BY d
        )
    ) AS per_day,
    arrayMap(i -> arraySum(arrayMap(x -> if(x.1 = day - i, x.2, 0), per_day)), range(1, 8)) AS trailing
SELECT day,
       arraySum(arrayMap(x -> if(x.1 = day, x.2, 0), per_day)) AS fills_last_day,
       arrayElement(arraySort(trailing), 4) AS trailing_7d_median,
       if(trailing_7d_median = 0, 0, round(100 * (1 - fills_last_day / trailing_7d_median), 1)) AS drop_pct,
       {warn_drop_pct:Float64} AS warn_drop_pct,
       {fail_drop_pct:Float64} AS fail_drop_pct,
       drop_pct > warn_drop_pct AS warning,
       NOT (drop_pct > fail_drop_pct) AS passed;

-- Fills per day, oldest first
SELECT toDate(timestamp, 'UTC') AS day, count() AS fills
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE timestamp >= toDateTime64(toDate(now(), 'UTC') - 8, 3, 'UTC')
GROUP BY day
ORDER BY day
LIMIT 10;
