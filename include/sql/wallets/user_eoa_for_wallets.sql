-- The EOA behind each of the given proxy wallets (wallets with no mapping are direct traders).
SELECT proxy_wallet AS wallet, argMax(user_eoa, updated_at) AS user_eoa
FROM {db:Identifier}.{proxy_table:Identifier} FINAL
WHERE proxy_wallet IN {wallets:Array(String)}
GROUP BY proxy_wallet;
