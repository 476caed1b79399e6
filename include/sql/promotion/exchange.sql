-- Atomic in an Atomic database: readers see either the old or the new name binding, never neither.
EXCHANGE TABLES {db:Identifier}.{table_a:Identifier} AND {db:Identifier}.{table_b:Identifier};
