"""What a promotion or rollback will change, measured by ClickHouse before the swap, and its verdict.

The audit compares the *incoming* set (staging for a promotion, ``*_old`` for a rollback) with the
*current* production: per wallet (fills added and removed by ``fill_id``, first/last fill, USDC
volume), mappings added, removed or re-typed, fills per day of both sets. Every number comes from the
SQL files in ``include/sql/audit/``; this module only runs them (:func:`measure`), turns their rows
into plain JSON-able data, and judges the result (:func:`judge`, pure) so on-call reads one verdict
first. The report (``report.py``) and the approval's body (:func:`markdown_summary`) show the same data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clob_pipeline.promotion.plan import TABLE_SETS

MAX_WALLET_ROWS = 1000  # wallets listed in the report (changed first); the totals count every wallet
MAX_MAPPING_ROWS = 500  # mapping changes listed; the totals count every change
TOP_ROWS = 10  # wallets and mappings named in the approval's summary
NAMED_IN_VERDICT = 3  # wallets or mappings the verdict names before "and N more"
# issue #20's reconciliation table: its newest verdict for the incoming fills table, where there is one.
RECONCILIATION_TABLE = "clob_reconciliation"
# The totals when a query returns no row (both sets empty, or no mapping changes).
NO_FILLS = dict.fromkeys(
    ("wallets", "wallets_added", "wallets_removed", "wallets_changed", "incoming_fills", "current_fills", "added", "removed"), 0
) | {"incoming_usdc": 0.0, "current_usdc": 0.0}
NO_MAPPINGS = dict.fromkeys(("incoming", "current", "changes", "added", "removed", "type_changed"), 0)
# The columns of mapping_deltas.sql's two kinds of row.
CHANGE_COLUMNS = ("user_eoa", "proxy_wallet", "change", "incoming_type", "current_type", "separated")
TYPE_COLUMNS = ("wallet_type", "separated", "incoming", "current")


@dataclass(frozen=True)
class AuditTables:
    """Which tables an operation compares: the incoming set against the current production (a role's
    current table is None while it has no production, e.g. before the first promotion)."""

    operation: str
    incoming_fills: str
    current_fills: str | None
    incoming_proxy: str
    current_proxy: str | None

    @classmethod
    def for_operation(cls, operation: str, existing: Mapping[str, Any]) -> AuditTables:
        fills, proxy = TABLE_SETS
        source = {"promote": "staging", "rollback": "old"}[operation]
        return cls(
            operation=operation,
            incoming_fills=getattr(fills, source),
            current_fills=fills.production if fills.production in existing else None,
            incoming_proxy=getattr(proxy, source),
            current_proxy=proxy.production if proxy.production in existing else None,
        )

    def parameters(self, role: str) -> dict[str, Any]:
        """Query parameters of one role. A missing production is read as the incoming table filtered
        to nothing (``current_exists`` = 0), so every audit query has one shape."""
        incoming, current = (
            (self.incoming_fills, self.current_fills) if role == "fills" else (self.incoming_proxy, self.current_proxy)
        )
        return {
            f"incoming_{role}": incoming,
            f"current_{role}": current or incoming,
            "current_exists": int(current is not None),
        }


def measure(ch: Any, tables: AuditTables, checks: Mapping[str, Any]) -> dict[str, Any]:
    """Run the audit queries on ``ch`` (a ``ClickHouseHook``); ``checks`` = each check task's numbers
    (its XCom) or state. Returns the audit as plain data, verdict included."""
    fills, proxy = tables.parameters("fills"), tables.parameters("proxy")
    wallets = _plain_rows(ch.query_file_dicts("audit/wallet_deltas.sql", {**fills, "max_wallets": MAX_WALLET_ROWS}))
    mappings = _plain_rows(ch.query_file_dicts("audit/mapping_deltas.sql", {**proxy, "max_rows": MAX_MAPPING_ROWS}))
    audit = {
        "operation": tables.operation,
        "database": ch.bundle_database,
        "tables": {
            "incoming_fills": tables.incoming_fills,
            "current_fills": tables.current_fills,
            "incoming_proxy": tables.incoming_proxy,
            "current_proxy": tables.current_proxy,
        },
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "totals": NO_FILLS | _totals(wallets, "total_"),
        "wallets": [_drop_totals(w) for w in wallets],
        "fills_per_day": _plain_rows(ch.query_file_dicts("audit/fills_per_day.sql", fills)),
        "mapping_totals": NO_MAPPINGS | _totals(mappings, "total_"),
        "mapping_changes": [_columns(m, CHANGE_COLUMNS) for m in mappings if m["kind"] == "change"],
        "mapping_types": [_columns(m, TYPE_COLUMNS) for m in mappings if m["kind"] == "type"],
        "checks": dict(checks),
        "reconciliation": reconciliation(ch, tables.incoming_fills),
    }
    audit["verdict"] = judge(audit)
    return audit


def reconciliation(ch: Any, fills_table: str) -> list[dict[str, Any]] | None:
    """The newest chain reconciliation of ``fills_table`` per wallet, or None where there is none
    (no ``clob_reconciliation`` table: the chain source is not deployed)."""
    if not ch.query_file("promotion/table_uuids.sql", {"names": [RECONCILIATION_TABLE]}):
        return None
    return _plain_rows(ch.query_file_dicts("audit/reconciliation.sql", {"fills_table": fills_table}))


def wallets_off_chain(audit: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The newest reconciliation's wallets that are off the chain (mismatched, API-only or chain-only;
    fills below the v2 minimum size are not a loss)."""
    rows = audit.get("reconciliation") or []
    return [r for r in rows if r.get("mismatched") or r.get("api_only") or r.get("chain_only")]


def judge(audit: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict (pure): ``ok`` when the swap removes nothing from production, else ``review`` with
    the reasons, most serious first; ``headline`` is the one line on-call reads first."""
    t, m, op = audit["totals"], audit["mapping_totals"], audit["operation"]
    reasons: list[str] = []
    gone = [w for w in audit["wallets"] if w["status"] == "removed"]
    if t["wallets_removed"]:
        named = ", ".join(
            f"{w['wallet']} ({w['current_fills']} fills, {w['current_usdc']:,.2f} USDC)" for w in gone[:NAMED_IN_VERDICT]
        )
        reasons.append(f"{t['wallets_removed']} wallet(s) lose all their fills: {named}{_more(t['wallets_removed'])}")
    if t["removed"]:
        reasons.append(
            f"{t['removed']} of production's {t['current_fills']} fills are not in {audit['tables']['incoming_fills']}"
        )
    for change, total, label in (("removed", "removed", "removed"), ("type changed", "type_changed", "change wallet_type")):
        if count := m[total]:
            rows = [c for c in audit["mapping_changes"] if c["change"] == change][:NAMED_IN_VERDICT]
            named = ", ".join(f"{c['user_eoa']} -> {c['proxy_wallet']} ({_type_change(c)})" for c in rows)
            reasons.append(f"{count} mapping(s) {label}: {named}{_more(count)}")
    off = wallets_off_chain(audit)
    if off:
        reasons.append(
            f"{len(off)} wallet(s) do not reconcile with the chain: " + ", ".join(r["wallet"] for r in off[:NAMED_IN_VERDICT])
        )
    warned = [task_id for task_id, numbers in audit["checks"].items() if isinstance(numbers, dict) and numbers.get("warning")]
    if warned:
        reasons.append(f"check(s) passed with a warning: {', '.join(warned)}")
    incoming_wallets = t["wallets"] - t["wallets_removed"]
    current_wallets = t["wallets"] - t["wallets_added"]
    numbers = (
        f"{t['incoming_fills']} fills of {incoming_wallets} wallets replace {t['current_fills']} fills of "
        f"{current_wallets} wallets: +{t['added']} / -{t['removed']} fills; wallets +{t['wallets_added']} "
        f"/ -{t['wallets_removed']} / {t['wallets_changed']} changed; mappings +{m['added']} "
        f"/ -{m['removed']}"
    )
    if reasons:
        return {"level": "review", "headline": f"REVIEW before you {op}: {reasons[0]}", "reasons": reasons, "numbers": numbers}
    return {"level": "ok", "headline": f"OK to {op}: nothing is removed from production", "reasons": [], "numbers": numbers}


def markdown_summary(audit: Mapping[str, Any], report_url: str) -> str:
    """The audit in a few lines of markdown (pure): the approval's body and the task log's summary."""
    v, t, m, tables = audit["verdict"], audit["totals"], audit["mapping_totals"], audit["tables"]
    lines = [f"**{v['headline']}**", ""]
    lines += [f"- {reason}" for reason in v["reasons"][1:]]
    lines += [
        "",
        f"| | production now ({tables['current_fills'] or 'none'}) | after {audit['operation']} ({tables['incoming_fills']}) |",
        "|---|---:|---:|",
        f"| fills | {t['current_fills']} | {t['incoming_fills']} |",
        f"| wallets | {t['wallets'] - t['wallets_added']} | {t['wallets'] - t['wallets_removed']} |",
        f"| USDC volume | {t['current_usdc']:,.2f} | {t['incoming_usdc']:,.2f} |",
        f"| mappings | {m['current']} | {m['incoming']} |",
        "",
        f"Changes: {v['numbers']}.",
    ]
    changed = [w for w in audit["wallets"] if w["status"] != "unchanged"][:TOP_ROWS]
    if changed:
        lines += ["", "| wallet | status | fills now | fills after | added | removed |", "|---|---|---:|---:|---:|---:|"]
        lines += [
            f"| {w['wallet']} | {w['status']} | {w['current_fills']} | {w['incoming_fills']} | {w['added']} | {w['removed']} |"
            for w in changed
        ]
    if audit["checks"]:
        lines += ["", "Checks: " + "; ".join(f"{task_id} {check_text(n)}" for task_id, n in audit["checks"].items())]
    lines += ["", reconciliation_line(audit)]
    lines += ["", f"Full report (charts, every wallet): {report_url}"]
    return "\n".join(lines)


def reconciliation_line(audit: Mapping[str, Any]) -> str:
    """The newest chain reconciliation of the incoming fills table, in one line (pure)."""
    rows, table = audit.get("reconciliation"), audit["tables"]["incoming_fills"]
    if rows is None:
        return "Chain reconciliation: none (no clob_reconciliation table: the chain source is not deployed)."
    if not rows:
        return f"Chain reconciliation: {table} was never reconciled (run clob_reconcile, or a promotion with polygon_rpc)."
    off = wallets_off_chain(audit)
    not_served = sum(int(r.get("not_served_by_v2") or 0) for r in rows)
    head = f"Chain reconciliation of {table} (newest run): {len(rows)} wallets, " + (
        f"{len(off)} off: " + ", ".join(r["wallet"] for r in off[:NAMED_IN_VERDICT]) + _more(len(off)) if off else "all complete"
    )
    return head + (f"; {not_served} fills below the v2 minimum size not served (not a loss)." if not_served else ".")


def check_text(numbers: Any) -> str:
    """A check's XCom (its numbers) or state as one line."""
    if isinstance(numbers, dict):
        shown = {k: v for k, v in numbers.items() if k != "warning"}
        return ("passed with a WARNING: " if numbers.get("warning") else "passed: ") + ", ".join(
            f"{k}={v}" for k, v in shown.items()
        )
    return str(numbers)


def _type_change(change: Mapping[str, Any]) -> str:
    if change["change"] == "type changed":
        return f"{change['current_type']} -> {change['incoming_type']}"
    return change["current_type"] or change["incoming_type"]


def _more(count: int) -> str:
    return f" and {count - NAMED_IN_VERDICT} more" if count > NAMED_IN_VERDICT else ""


def _totals(rows: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    """The ``total_*`` columns every row of a query carries (window aggregates), without the prefix;
    empty when the query returned no row."""
    return {k.removeprefix(prefix): v for k, v in rows[0].items() if k.startswith(prefix)} if rows else {}


def _columns(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: row[name] for name in names}


def _drop_totals(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("total_")}


def _plain_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    """A ClickHouse value as JSON-able data for XCom and the report: times as ``YYYY-MM-DD HH:MM:SS``
    (UTC), days as ``YYYY-MM-DD``, decimals as floats, booleans as bool."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
