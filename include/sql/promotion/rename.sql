RENAME TABLE {db:Identifier}.{table_a:Identifier} TO {db:Identifier}.{table_b:Identifier};
