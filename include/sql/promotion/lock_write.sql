INSERT INTO {db:Identifier}.pipeline_lock (name, holder, held, reason, updated_at)
VALUES ({name:String}, {holder:String}, {held:UInt8}, {reason:String}, now64(6));
