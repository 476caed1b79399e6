-- The schema upgrades already recorded in this database.
SELECT DISTINCT version
FROM {db:Identifier}.schema_versions
ORDER BY version;
