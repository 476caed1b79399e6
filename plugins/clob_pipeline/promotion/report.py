"""The audit as a self-contained HTML report (verdict first, then charts and tables), written per run
through Airflow's object storage: a local folder by default, any fsspec URL in a deployment
(``config.reports_url``). No script, stylesheet or font is fetched when it is opened."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clob_pipeline.promotion import charts
from clob_pipeline.promotion.audit import check_text, wallets_off_chain

TEMPLATE = Path(__file__).with_name("report_template.html")


def render_report(audit: Mapping[str, Any], run_id: str) -> str:
    """The report's HTML (pure apart from reading the template)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(TEMPLATE.read_text())
    return template.render(
        a=audit,
        v=audit["verdict"],
        t=audit["totals"],
        m=audit["mapping_totals"],
        run_id=run_id,
        check_text=check_text,
        reconciliation_off=len(wallets_off_chain(audit)),
        wallets_charted=charts.WALLETS_CHARTED,
        colors={"incoming": charts.INCOMING, "current": charts.CURRENT, "added": charts.ADDED, "removed": charts.REMOVED},
        fills_chart=charts.fills_per_day_svg(
            audit["fills_per_day"],
            f"{audit['tables']['incoming_fills']} (after {audit['operation']})",
            f"{audit['tables']['current_fills'] or 'no production'} (now)",
        ),
        wallet_chart=charts.wallet_deltas_svg(audit["wallets"]),
    )


def report_path(dag_id: str, run_id: str) -> Any:
    """``<reports_url>/<dag_id>/<run_id>/audit.html`` as an ``ObjectStoragePath`` (run id made
    filename-safe: ``manual__2026-01-01T00:00:00+00:00`` -> ``manual__2026-01-01T00_00_00_00_00``)."""
    from airflow.sdk import ObjectStoragePath

    from clob_pipeline.config import reports_conn_id, reports_url

    safe_run = re.sub(r"[^A-Za-z0-9._-]", "_", run_id)
    return ObjectStoragePath(reports_url(), conn_id=reports_conn_id()) / dag_id / safe_run / "audit.html"


def write_report(html: str, dag_id: str, run_id: str) -> str:
    """Write the report for this run (a retry overwrites it); returns its URL."""
    path = report_path(dag_id, run_id)
    if path.protocol in ("file", "local", ""):
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html)
    return str(path)
