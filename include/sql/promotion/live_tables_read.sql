-- The live table per role (fills, proxy); roles with no row are still on staging.
SELECT role, argMax(table_name, updated_at) AS table_name
FROM {db:Identifier}.live_tables
GROUP BY role;
