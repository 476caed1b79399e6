"""The promotion's validation checks: which SQL file, on which table, and what on-call does next."""

from __future__ import annotations

from typing import NamedTuple

from clob_pipeline.config import STAGING_FILLS_TABLE, STAGING_PROXY_TABLE


class CheckSpec(NamedTuple):
    task_id: str
    sql: str
    subject: str
    next_step: str


PROMOTION_CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "check_no_duplicate_fills",
        "promotion/checks/no_duplicate_fills.sql",
        STAGING_FILLS_TABLE,
        "The same fill_id is stored under two keys (e.g. two wallets or a mixed data_api/clob load). Find the "
        "source of the listed fill_ids, delete the wrong rows from staging, re-run clob_backfill for those wallets, "
        "then trigger clob_promotion again.",
    ),
    CheckSpec(
        "check_content_not_overcounted",
        "promotion/checks/content_not_overcounted.sql",
        STAGING_FILLS_TABLE,
        "The listed fills are stored more often than the API served them in their second, under two sources "
        "with ids of different kinds (rows from before the identity upgrade), or as CLOB and Data API rows of one "
        "trade side that the two sources describe differently (price or second). Delete the wallet's rows for the "
        "listed transactions from staging, re-run clob_backfill for that wallet over that window with one source, "
        "then promote again.",
    ),
    CheckSpec(
        "check_one_source_family",
        "promotion/checks/one_source_family.sql",
        STAGING_FILLS_TABLE,
        "The listed wallets hold fills from the chain and from an API in one table, which counts their trades "
        "twice (README, 'Chain fills and API fills'). Delete one family's rows of those wallets from staging, "
        "re-run clob_backfill for them with the other, then promote again.",
    ),
    CheckSpec(
        "check_no_empty_keys",
        "promotion/checks/no_empty_keys.sql",
        STAGING_FILLS_TABLE,
        "Rows with an empty key cannot be joined or attributed. Fix the mapping (pm_proxy_discovery) or the loader "
        "for the listed rows, delete them from staging, re-run clob_backfill, then promote again.",
    ),
    CheckSpec(
        "check_date_range",
        "promotion/checks/date_range.sql",
        STAGING_FILLS_TABLE,
        "Timestamps before the minimum date (1970 = a zero epoch) or in the future mean a parsing bug or a bad "
        "clock. Inspect the listed fills, delete them from staging, fix the cause, then promote again.",
    ),
    CheckSpec(
        "check_wallets_with_fills",
        "promotion/checks/wallets_with_fills.sql",
        STAGING_FILLS_TABLE,
        "Staging holds too few wallets to replace production. Run pm_proxy_discovery and clob_backfill (see their "
        "summaries for failed wallets), or lower min_wallets if this is intended.",
    ),
    CheckSpec(
        "check_proxy_separated_mappings",
        "promotion/checks/proxy_separated_mappings.sql",
        STAGING_PROXY_TABLE,
        "Too few users mapped to a separate proxy wallet: proxy discovery failed or found nothing. Read the "
        "pm_proxy_discovery logs, run it again, or lower min_proxy_mappings if this is intended.",
    ),
    CheckSpec(
        "check_counts_match_sync_state",
        "promotion/checks/counts_match_sync_state.sql",
        STAGING_FILLS_TABLE,
        "Rows per wallet differ from what the loaders recorded: something wrote to or deleted from staging outside "
        "the pipeline. Re-run clob_backfill for the listed wallets (it re-measures them), then promote again.",
    ),
)
