"""Reconciliation of a fills table against the chain witness: ``verdict.py`` turns a run's rows
(``include/sql/reconcile/compute.sql``) into the lines on-call reads and the numbers that block a
promotion (pure)."""
