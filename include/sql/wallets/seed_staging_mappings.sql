-- After a promotion the staging mapping table is empty (its rows became production): copy the live
-- mappings that staging lacks, so the next backfill loads every tracked wallet and the next promotion
-- carries them over. Never deletes; a second copy adds nothing (the pair is the table's key).
INSERT INTO {db:Identifier}.{staging_proxy_table:Identifier}
    (user_eoa, proxy_wallet, wallet_type, resolved_by, resolved_at, updated_at)
SELECT user_eoa, proxy_wallet, wallet_type, resolved_by, resolved_at, updated_at
FROM {db:Identifier}.{live_proxy_table:Identifier} FINAL
WHERE (user_eoa, proxy_wallet) NOT IN (
    SELECT user_eoa, proxy_wallet FROM {db:Identifier}.{staging_proxy_table:Identifier} FINAL
);
