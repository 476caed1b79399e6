-- The bundle's fills tables that exist (staging, production, the kept backup), to upgrade in place.
SELECT name
FROM system.tables
WHERE database = {db:String} AND name IN {names:Array(String)}
ORDER BY name;
