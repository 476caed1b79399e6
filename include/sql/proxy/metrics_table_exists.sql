-- Whether the wallet_metrics table named by the Param exists (1 or 0): discovery fails saying so before it reads.
EXISTS TABLE {db:Identifier}.{metrics_table:Identifier}
