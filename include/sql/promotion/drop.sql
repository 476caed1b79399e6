-- Only ever the previous *_old backup, after the new production is in place.
DROP TABLE IF EXISTS {db:Identifier}.{table_a:Identifier} SYNC;
