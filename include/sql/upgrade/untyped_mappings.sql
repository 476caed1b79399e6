-- Mappings whose wallet type no derivation has proven: Gamma-named wallets kept as an unverified
-- `proxy` (a deposit wallet before deposit wallets were derived), and rows without a type.
SELECT user_eoa, proxy_wallet, wallet_type, resolved_by, resolved_at
FROM {db:Identifier}.{proxy_table:Identifier} FINAL
WHERE wallet_type = '' OR (wallet_type = 'proxy' AND resolved_by = 'gamma')
ORDER BY user_eoa, proxy_wallet;
