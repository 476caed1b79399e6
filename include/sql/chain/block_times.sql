-- Every cached block timestamp (a few dozen per searched time; small).
SELECT block, ts FROM {db:Identifier}.chain_block_times FINAL ORDER BY block;
