-- EOA -> proxy-wallet mappings (staging pm_user_proxy_wallets_v2; production pm_user_proxy_wallets).
-- wallet_type: proxy | safe | deposit | direct (the EOA trades itself). Keyed by the pair, so a re-run or a
-- failed lookup never removes a known mapping.
CREATE TABLE IF NOT EXISTS {db:Identifier}.{proxy_table:Identifier}
(
    user_eoa     String,
    proxy_wallet String,
    wallet_type  LowCardinality(String),
    resolved_by  LowCardinality(String),
    resolved_at  DateTime64(3, 'UTC'),
    updated_at   DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (user_eoa, proxy_wallet);
