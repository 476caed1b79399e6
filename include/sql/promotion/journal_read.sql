-- Every step of one operation's attempts, latest state of each.
SELECT attempt, operation, seq, role, action, visible, table_a, table_b, uuid_a, uuid_b, validated_rows, state, detail
FROM {db:Identifier}.promotion_journal FINAL
WHERE op_id = {op_id:String}
ORDER BY attempt, seq;
