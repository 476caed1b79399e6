-- Merges running in the bundle's database: an embedded (chDB) hook waits for them to finish
-- before it closes the engine, which would otherwise cancel them.
SELECT count() AS merges
FROM system.merges
WHERE database = {db:String};
