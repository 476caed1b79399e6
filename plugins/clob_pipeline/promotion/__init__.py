"""Promotion of staging to production: table sets, the swap plan, the journaled swap, the live set."""
