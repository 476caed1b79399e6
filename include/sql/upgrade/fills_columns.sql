-- Upgrade a fills table created before fills had one identity across sources (a no-op on a current
-- one): the maker order id, once part of a CLOB fill's id, and the multiset count of a fill's content.
ALTER TABLE {db:Identifier}.{fills_table:Identifier}
    ADD COLUMN IF NOT EXISTS maker_order_id String AFTER trade_id,
    ADD COLUMN IF NOT EXISTS copies UInt32 AFTER version;
