-- Identity of the named tables in the bundle database (missing tables have no row).
SELECT name, toString(uuid) AS uuid
FROM system.tables
WHERE database = {db:String} AND name IN {names:Array(String)};
