-- The bundle's tables of the given names that exist (the fills or the mapping tables: staging,
-- production, the kept backup), to upgrade in place.
SELECT name
FROM system.tables
WHERE database = {db:String} AND name IN {names:Array(String)}
ORDER BY name;
