-- The wallets a reconciliation of a fills table checks by default: those it holds and those loaded into it
-- (wallet_sync_state, by the table's UUID). A wallet loaded with no fill served is the one whose chain
-- fills the API may have missed entirely; listing only the table's rows would never check it.
SELECT wallet
FROM (
    SELECT DISTINCT proxy_wallet AS wallet FROM {db:Identifier}.{fills_table:Identifier}
    UNION DISTINCT
    SELECT DISTINCT wallet FROM {db:Identifier}.wallet_sync_state
    WHERE table_uuid = (SELECT uuid FROM system.tables WHERE database = {db:String} AND name = {fills_table:String})
)
ORDER BY wallet;
