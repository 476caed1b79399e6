-- At least {min_proxy_mappings} users trade through a proxy wallet other than their EOA.
SELECT count() AS mappings,
       countIf(proxy_wallet != user_eoa AND proxy_wallet != '' AND user_eoa != '') AS proxy_separated,
       {min_proxy_mappings:UInt32} AS min_proxy_mappings,
       proxy_separated >= min_proxy_mappings AS passed
FROM {db:Identifier}.{proxy_table:Identifier} FINAL;

-- Mappings present
SELECT user_eoa, proxy_wallet, wallet_type, resolved_by
FROM {db:Identifier}.{proxy_table:Identifier} FINAL
ORDER BY wallet_type, user_eoa
LIMIT 10;
