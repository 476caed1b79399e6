-- No empty key field: every fill names its market, wallet and owner.
SELECT countIf(condition_id = '') AS empty_condition_id,
       countIf(proxy_wallet = '') AS empty_proxy_wallet,
       countIf(user_eoa = '') AS empty_user_eoa,
       empty_condition_id + empty_proxy_wallet + empty_user_eoa = 0 AS passed
FROM {db:Identifier}.{fills_table:Identifier} FINAL;

-- Offending rows
SELECT fill_id, proxy_wallet, user_eoa, condition_id, timestamp
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE condition_id = '' OR proxy_wallet = '' OR user_eoa = ''
ORDER BY timestamp
LIMIT 10;
