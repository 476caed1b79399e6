-- Rows of a table after deduplication (what readers of a ReplacingMergeTree see with FINAL).
SELECT count() AS rows FROM {db:Identifier}.{table:Identifier} FINAL;
