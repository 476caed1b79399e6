-- Mapping totals: all, proxy-separated, direct.
SELECT count() AS mappings,
       countIf(proxy_wallet != user_eoa) AS proxy_separated,
       countIf(proxy_wallet = user_eoa) AS direct
FROM {db:Identifier}.{proxy_table:Identifier} FINAL;
