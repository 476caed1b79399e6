INSERT INTO {db:Identifier}.live_tables (role, table_name, set_by, updated_at)
VALUES ({role:String}, {table_name:String}, {set_by:String}, now64(6));
