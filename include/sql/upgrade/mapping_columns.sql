-- Upgrade a mapping table made without wallet types (a no-op on any table this bundle created).
ALTER TABLE {db:Identifier}.{proxy_table:Identifier}
    ADD COLUMN IF NOT EXISTS wallet_type LowCardinality(String) AFTER proxy_wallet;
