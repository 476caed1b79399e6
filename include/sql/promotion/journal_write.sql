INSERT INTO {db:Identifier}.promotion_journal
    (op_id, attempt, operation, seq, role, action, visible, table_a, table_b, uuid_a, uuid_b, validated_rows, state, detail,
     updated_at)
VALUES ({op_id:String}, {attempt:UInt32}, {operation:String}, {seq:UInt16}, {role:String}, {action:String},
        {visible:UInt8}, {table_a:String}, {table_b:String}, {uuid_a:String}, {uuid_b:String}, {validated_rows:Int64},
        {state:String}, {detail:String}, now64(6));
