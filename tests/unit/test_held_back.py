"""Which held-back CLOB trade a load records for the next run (``WalletLoad._hold_after``, no I/O)."""

from __future__ import annotations

import pytest

from clob_pipeline.fills.chain_pager import ChainFillNormalizer
from clob_pipeline.fills.normalize import V2_FIELDS, ClobFillNormalizer, DataApiFillNormalizer
from clob_pipeline.operators.wallet_load import WalletLoad

W = "0x" + "ab" * 20
WINDOW = (1_700_000_000, 1_700_100_000)


def load(normalizer, hold_before_ms: int) -> WalletLoad:
    return WalletLoad(
        ch=None, log=None, run_id="r", source="clob", fills_table="t", table_uuid="u", wallet=W, pager=None,
        normalizer=normalizer, writer=None, checkpoint=None, stored=(0, None), window=WINDOW, batch_rows=1,
        hold_before_ms=hold_before_ms,
    )  # fmt: skip


def clob(held_from_ms: int | None) -> ClobFillNormalizer:
    normalizer = ClobFillNormalizer(W, W)
    normalizer.held_from_ms = held_from_ms
    return normalizer


@pytest.mark.parametrize(
    ("normalizer", "before_ms", "expected"),
    [
        (clob(None), 0, 0),  # nothing held
        (clob(1_700_050_000_000), 0, 1_700_050_000_000),  # held now
        (clob(None), 1_700_040_000_000, 0),  # re-read inside the window and settled: cleared
        (clob(1_700_060_000_000), 1_700_040_000_000, 1_700_060_000_000),  # the older one settled, a newer one is held
        (clob(None), 1_600_000_000_000, 1_600_000_000_000),  # outside this window: kept
        # a source of settled fills only, over a window that covers the hold: a trade settled since is loaded
        (DataApiFillNormalizer(W, W), 1_700_040_000_000, 0),
        (DataApiFillNormalizer(W, W, fields=V2_FIELDS), 1_700_000_000_000, 0),  # at the window's first second
        (ChainFillNormalizer(W, W), 1_700_040_000_000, 0),
        (DataApiFillNormalizer(W, W, fields=V2_FIELDS), 1_699_999_999_999, 1_699_999_999_999),  # before the window: kept
        (clob(1_700_060_000_000), 1_600_000_000_000, 1_600_000_000_000),  # the oldest of both
    ],
)
def test_a_hold_is_kept_until_a_completed_load_whose_window_covers_it_no_longer_holds_it(normalizer, before_ms, expected):
    assert load(normalizer, before_ms)._hold_after() == expected
