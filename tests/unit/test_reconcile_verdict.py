"""The reconciliation verdict (pure): headline first, what is off, what never counts as a loss, the window."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clob_pipeline.fills.params import ParamError
from clob_pipeline.operators.chain_reconcile import validate_reconcile_params, window
from clob_pipeline.reconcile.verdict import summarize


def day(wallet: str, **numbers) -> dict:
    row = {
        "wallet": wallet, "day": "2026-09-01", "api_rows": 10, "chain_fills": 10, "matched": 10, "mismatched": 0,
        "api_only_rows": 0, "chain_only_fills": 0, "not_served_by_v2": 0, "size_delta": Decimal(0),
        "usdc_delta": Decimal(0), "api_only_tx": [], "chain_only_tx": [], "mismatched_tx": [], "not_served_tx": [],
    }  # fmt: skip
    return {**row, **numbers}


def test_the_headline_counts_complete_wallets_then_names_what_is_off():
    rows = [
        day("0xa", chain_only_fills=3, chain_only_tx=["0x1", "0x2", "0x3"]),
        day("0xb"),
        day("0xc", not_served_by_v2=2, not_served_tx=["0x9"]),
    ]
    verdict = summarize(rows, ["0xa", "0xb", "0xc", "0xd"], tolerance=0)
    assert verdict.headline() == "4 wallets: 3 complete; 0xa: API is missing 3 fills (tx 0x1, 0x2, 0x3)"
    assert [w.wallet for w in verdict.blocking] == ["0xa"]
    assert "not served by v2 (not a loss)" in next(w for w in verdict.wallets if w.wallet == "0xc").describe()
    assert summarize(rows, [], tolerance=3).blocking == []  # within the tolerance


def test_every_kind_of_difference_is_off():
    rows = [
        day("0xa", mismatched=1, mismatched_tx=["0x5"], size_delta=Decimal("-1")),
        day("0xa", api_only_rows=2, api_only_tx=["0x6"]),
    ]
    verdict = summarize(rows, ["0xa"], tolerance=2)
    wallet = verdict.wallets[0]
    assert (wallet.off, wallet.days) == (3, 2) and verdict.blocking == [wallet]
    text = wallet.describe()
    assert "API serves 1 trade with other amounts" in text and "size -1" in text and "API has 2 rows the chain does not" in text


def test_the_window_is_complete_days_before_today_and_before_the_finalized_day():
    now = 1_796_536_926  # 2026-12-06T06:02Z
    assert window(7, now, now) == (1_796_515_200 - 7 * 86_400, 1_796_515_200)
    assert window(1, now, now - 86_400) == (1_796_515_200 - 2 * 86_400, 1_796_515_200 - 86_400)


@pytest.mark.parametrize(
    ("target", "days", "tolerance"), [("prod", 7, 0), ("staging", 0, 0), ("staging", 7, -1), ("staging", "x", 0)]
)
def test_bad_params_name_the_field(target, days, tolerance):
    with pytest.raises(ParamError, match="Param"):
        validate_reconcile_params(target, days, tolerance)
