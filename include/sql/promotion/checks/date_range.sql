-- Timestamps are sane: none before {min_date} (catches 1970 from a zero/NULL epoch), none in the
-- future beyond a small clock skew.
SELECT min(timestamp) AS oldest,
       max(timestamp) AS newest,
       countIf(timestamp < toDateTime64({min_date:String}, 3, 'UTC')) AS before_min_date,
       countIf(timestamp > now64(3) + toIntervalSecond({max_future_skew_s:UInt32})) AS in_future,
       before_min_date + in_future = 0 AS passed
FROM {db:Identifier}.{fills_table:Identifier} FINAL;

-- Offending rows
SELECT fill_id, proxy_wallet, timestamp, transaction_hash
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE timestamp < toDateTime64({min_date:String}, 3, 'UTC')
   OR timestamp > now64(3) + toIntervalSecond({max_future_skew_s:UInt32})
ORDER BY timestamp
LIMIT 10;
