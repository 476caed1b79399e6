-- The wallets a fills table holds (the ones a reconciliation of that table checks by default).
SELECT DISTINCT proxy_wallet FROM {db:Identifier}.{fills_table:Identifier} ORDER BY proxy_wallet;
