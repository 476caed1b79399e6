-- Mappings already stored for some EOAs (so a re-run or a weaker lookup never adds or overrides).
SELECT user_eoa, proxy_wallet, wallet_type
FROM {db:Identifier}.{proxy_table:Identifier} FINAL
WHERE user_eoa IN {eoas:Array(String)};
