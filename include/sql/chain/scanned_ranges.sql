-- Block ranges already scanned for a wallet under a chain configuration (the newest hi per range).
SELECT lo_block, hi_block, lo_ts, hi_ts
FROM {db:Identifier}.clob_chain_scans FINAL
WHERE wallet = {wallet:String} AND config_key = {config_key:String}
ORDER BY lo_block;
