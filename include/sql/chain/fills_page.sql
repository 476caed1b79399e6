-- One page of a wallet's witness rows with their markets, newest first, in whole seconds (WITH TIES:
-- the rows of the oldest second on the page come along), for source=chain's copy into a fills table.
SELECT f.tx_hash AS tx_hash, f.log_index AS log_index, toUnixTimestamp64Milli(f.timestamp) AS timestamp_ms,
       f.token_id AS token_id, t.condition_id AS condition_id, t.outcome AS outcome, t.outcome_index AS outcome_index,
       f.side AS side, toInt64(f.size * 1000000) AS size_micro, toInt64(f.price * 1000000) AS price_micro,
       f.role AS role, f.order_hash AS order_hash
FROM (
    SELECT * FROM {db:Identifier}.clob_chain_fills FINAL
    WHERE wallet = {wallet:String}
      AND timestamp BETWEEN fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC') AND fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
) AS f
LEFT JOIN (SELECT token_id, condition_id, outcome, outcome_index FROM {db:Identifier}.clob_chain_tokens FINAL) AS t
    ON t.token_id = f.token_id
ORDER BY f.timestamp DESC
LIMIT {limit:UInt64} WITH TIES
SETTINGS join_use_nulls = 1;
