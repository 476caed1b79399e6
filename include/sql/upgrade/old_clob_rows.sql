-- CLOB rows stored before fills had one identity across sources: their fill_id is the trade id or
-- "trade id:maker order id" instead of 32 hex characters. maker_order_id is taken from the old id.
SELECT * REPLACE (if(position(fill_id, ':') > 0, substring(fill_id, position(fill_id, ':') + 1), maker_order_id) AS maker_order_id)
FROM {db:Identifier}.{fills_table:Identifier} FINAL
WHERE source = 'clob' AND NOT match(fill_id, '^[0-9a-f]{32}$')
ORDER BY proxy_wallet, timestamp;
