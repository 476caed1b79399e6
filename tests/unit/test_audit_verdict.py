"""The audit's verdict and summary (pure): what on-call reads first."""

from __future__ import annotations

from clob_pipeline.promotion.audit import NO_FILLS, NO_MAPPINGS, AuditTables, judge, markdown_summary


def audit(rows=(), mapping_changes=(), checks=None, **totals) -> dict:
    mapping_totals = {k: totals.pop(k) for k in list(totals) if k.startswith("mappings_")}
    return {
        "operation": "promote",
        "tables": {"incoming_fills": "clob_fills_v2", "current_fills": "clob_fills"},
        "totals": NO_FILLS | totals,
        "mapping_totals": NO_MAPPINGS | {k.removeprefix("mappings_"): v for k, v in mapping_totals.items()},
        "wallets": list(rows),
        "mapping_changes": list(mapping_changes),
        "checks": checks or {},
        "reconciliation": None,
    }


def wallet(name: str, status: str, current: int, incoming: int) -> dict:
    return {
        "wallet": name,
        "status": status,
        "current_fills": current,
        "incoming_fills": incoming,
        "added": max(incoming - current, 0),
        "removed": max(current - incoming, 0),
        "current_usdc": 10.0 * current,
        "incoming_usdc": 10.0 * incoming,
    }


def test_nothing_removed_is_ok():
    v = judge(audit([wallet("0xa", "changed", 3, 5)], wallets=1, wallets_changed=1, incoming_fills=5, current_fills=3, added=2))
    assert v["level"] == "ok" and v["reasons"] == []
    assert v["headline"] == "OK to promote: nothing is removed from production"
    assert v["numbers"].startswith("5 fills of 1 wallets replace 3 fills of 1 wallets: +2 / -0 fills")


def test_a_wallet_that_loses_its_fills_comes_first_with_its_counts():
    rows = [wallet("0xgone", "removed", 40, 0), wallet("0xa", "changed", 5, 4)]
    changes = [{"user_eoa": "0xe", "proxy_wallet": "0xgone", "change": "removed", "current_type": "safe", "incoming_type": ""}]
    a = audit(rows, changes, wallets=2, wallets_removed=1, current_fills=45, incoming_fills=4, removed=41, mappings_removed=1)
    v = judge(a)
    assert v["level"] == "review"
    assert v["reasons"] == [
        "1 wallet(s) lose all their fills: 0xgone (40 fills, 400.00 USDC)",
        "41 of production's 45 fills are not in clob_fills_v2",
        "1 mapping(s) removed: 0xe -> 0xgone (safe)",
    ]
    assert v["headline"] == "REVIEW before you promote: " + v["reasons"][0]
    a["verdict"] = v
    summary = markdown_summary(a, "s3://bucket/report.html")
    assert summary.startswith(f"**{v['headline']}**")
    assert "| 0xgone | removed | 40 | 0 | 0 | 40 |" in summary and summary.endswith("s3://bucket/report.html")


def test_a_check_that_warned_needs_a_review():
    v = judge(audit(checks={"check_x": {"rows": 1, "warning": True}, "check_y": {"rows": 2, "warning": False}}))
    assert v["level"] == "review" and v["reasons"] == ["check(s) passed with a warning: check_x"]


def test_a_rollback_compares_old_with_production_and_a_missing_production_reads_as_empty():
    rollback = AuditTables.for_operation("rollback", {"clob_fills": "u1", "pm_user_proxy_wallets": "u2"})
    assert (rollback.incoming_fills, rollback.current_fills) == ("clob_fills_old", "clob_fills")
    first = AuditTables.for_operation("promote", {})
    assert first.parameters("fills") == {"incoming_fills": "clob_fills_v2", "current_fills": "clob_fills_v2", "current_exists": 0}
