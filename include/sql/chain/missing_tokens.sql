-- Tokens of a wallet's witness rows in a window that have no market yet.
SELECT DISTINCT token_id
FROM {db:Identifier}.clob_chain_fills
WHERE wallet = {wallet:String}
  AND timestamp BETWEEN fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC') AND fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
  AND token_id NOT IN (SELECT token_id FROM {db:Identifier}.clob_chain_tokens)
ORDER BY token_id;
