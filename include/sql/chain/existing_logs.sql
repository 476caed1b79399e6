-- (transaction hash, log index) of a wallet's witness rows in a block range: a batch inserts only the
-- others, so a range read again after a crash between insert and range record adds no row.
SELECT tx_hash, log_index
FROM {db:Identifier}.clob_chain_fills
WHERE wallet = {wallet:String} AND block_number BETWEEN {lo_block:UInt64} AND {hi_block:UInt64};
