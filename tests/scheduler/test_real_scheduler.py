"""The bundle under a real Airflow deployment: Postgres metadata DB, LocalExecutor, and Airflow's own
api-server, scheduler and dag-processor as separate processes, every DAG triggered over the REST API.

``dag.test()`` (the other DAG tests) runs every task in one process and ignores pools; this test
is the one that shows the DAGs parse in the dag-processor, that the ``clickhouse`` pool of 1 slot
serialises embedded-chDB tasks, and that the README runbook's cycle (discovery -> backfill -> promotion
-> backfill -> promotion -> rollback) works as on-call would run it: approving one promotion and
rejecting another on the approval step through the REST API (a screenshot of the approval page in the
UI is kept in ``.artefacts/``), also after on-call marks a promotion failed by hand midway, and rolling
back to a production set that differs from the one it replaces. Postgres is a throwaway cluster of
Debian's ``postgresql`` package (``scripts/ensure_postgres.sh`` installs it; ``make test`` runs that first).

Skipped only when ``CLOB_PIPELINE_SKIP_SCHEDULER_TEST=1``; missing Postgres binaries fail it.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from browser import airflow_ui_screenshot
from real_airflow import RealAirflow, chdb_query, postgres_bin_dir

pytestmark = pytest.mark.skipif(
    os.environ.get("CLOB_PIPELINE_SKIP_SCHEDULER_TEST") == "1",
    reason="CLOB_PIPELINE_SKIP_SCHEDULER_TEST=1 (explicitly disabled)",
)

WALLETS = 8  # the emulator makes all 8 proxy-separated users; promotion needs >= 5 mappings
FILLS_PER_WALLET = 40
PRODUCTION = (
    "SELECT (SELECT count() FROM {db:Identifier}.clob_fills FINAL), "
    "(SELECT uniqExact(proxy_wallet) FROM {db:Identifier}.clob_fills), "
    "(SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets FINAL)"
)
# production (fills, wallets, mappings) and the kept backup (fills, wallets)
COUNTS = PRODUCTION + (
    ", (SELECT count() FROM {db:Identifier}.clob_fills_old FINAL), "
    "(SELECT uniqExact(proxy_wallet) FROM {db:Identifier}.clob_fills_old)"
)


@pytest.fixture(scope="module")
def airflow_deployment(tmp_path_factory):
    assert postgres_bin_dir() is not None, (
        "Postgres server binaries not found under /usr/lib/postgresql/*/bin: run scripts/ensure_postgres.sh "
        "(make test does), or set CLOB_PIPELINE_SKIP_SCHEDULER_TEST=1 to skip this test on purpose"
    )
    with RealAirflow(wallets=WALLETS, fills_per_wallet=FILLS_PER_WALLET) as deployment:
        yield deployment


def test_the_runbook_cycle_under_the_real_scheduler(airflow_deployment: RealAirflow) -> None:
    af = airflow_deployment
    timings: dict[str, float] = {"setup": af.setup_s}
    assert af.pool("clickhouse")["slots"] == 1

    def run(dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
        started = time.monotonic()
        run = af.trigger_and_wait(dag_id, conf or {})
        timings[f"{dag_id}#{sum(k.startswith(dag_id) for k in timings) + 1}"] = time.monotonic() - started
        assert run["state"] == "success", af.explain(dag_id, run["dag_run_id"])
        return run

    run("pm_proxy_discovery")
    mappings = chdb_query(af.env, "SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2 FINAL")[0][0]
    assert mappings == WALLETS

    run("clob_backfill", {"lookback": "all"})  # no wallets: every tracked wallet
    staged = chdb_query(af.env, "SELECT count(), uniqExact(proxy_wallet) FROM {db:Identifier}.clob_fills_v2 FINAL")[0]
    expected_fills = af.expected_fills()
    assert tuple(staged) == (expected_fills, WALLETS)

    # A promotion that on-call marks failed after it paused ingestion: its teardown still releases
    # the pause, nothing is swapped, and the run stays red. The pool at 0 slots, set while
    # pause_ingestion runs (it keeps its slot), holds the next task back: none runs when the run is marked.
    stopped_id = af.trigger("clob_promotion", {})
    af.wait_for_task("clob_promotion", stopped_id, "pause_ingestion", "running")
    af.set_pool_slots("clickhouse", 0)
    af.wait_for_task("clob_promotion", stopped_id, "pause_ingestion", "success")
    af.mark_run("clob_promotion", stopped_id, "failed")
    af.set_pool_slots("clickhouse", 1)
    stopped = af.wait("clob_promotion", stopped_id)
    stopped_states = dict(af.task_states("clob_promotion", stopped_id))
    assert stopped["state"] == "failed", (stopped["state"], stopped_states)  # Airflow alone would end it green
    assert stopped_states["swap_tables"] == "skipped" and stopped_states["resume_ingestion"] == "failed", stopped_states
    teardown_log = af.task_log(stopped_id, "resume_ingestion")
    assert "ingestion resumed" in teardown_log and "it was marked failed by hand" in teardown_log, teardown_log[-3000:]
    assert "Nothing was swapped" in teardown_log
    held = chdb_query(af.env, "SELECT argMax(held, updated_at) FROM {db:Identifier}.pipeline_lock")
    assert held == [[0]], held
    assert chdb_query(af.env, "SELECT count() FROM {db:Identifier}.clob_fills_v2 FINAL")[0][0] == expected_fills

    # On-call approves the first promotion on its approval step, after reading the audit in its body.
    started = time.monotonic()
    approved_id = af.trigger("clob_promotion", {})
    asked = await_approval(af, approved_id, shows="OK to promote", screenshot="approval-page.png")
    assert f"{expected_fills} fills of {WALLETS} wallets replace 0 fills of 0 wallets" in asked["body"], asked["body"]
    af.respond("clob_promotion", approved_id, "approve_swap", "Approve")
    assert af.wait("clob_promotion", approved_id)["state"] == "success", af.explain("clob_promotion", approved_id)
    timings["clob_promotion approved (incl. UI screenshot)"] = time.monotonic() - started
    prod = chdb_query(
        af.env,
        "SELECT (SELECT count() FROM {db:Identifier}.clob_fills FINAL), "
        "(SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets FINAL), "
        "(SELECT count() FROM {db:Identifier}.clob_fills_v2)",
    )[0]
    assert tuple(prod) == (expected_fills, WALLETS, 0)

    # After the promotion staging is empty; the next backfill still finds the tracked wallets. This one
    # loads all wallets but one, so the second set differs from the first and the rollback has work to do.
    dropped, *kept = sorted(af.emulator.dataset.wallets)
    dropped_fills = len(list(af.emulator.dataset.visible_fills(dropped)))
    second = run("clob_backfill", {"lookback": "all", "wallets": kept, "wallets_per_task": 3})  # 3 load tasks through the pool
    restaged = chdb_query(af.env, "SELECT count(), uniqExact(proxy_wallet) FROM {db:Identifier}.clob_fills_v2 FINAL")[0]
    assert tuple(restaged) == (expected_fills - dropped_fills, WALLETS - 1)
    states = af.task_states("clob_backfill", second["dag_run_id"])
    assert states.count(("load_wallet_fills", "success")) == -(-(WALLETS - 1) // 3)

    # On-call rejects the promotion of that set: its audit says a wallet would lose its fills.
    started = time.monotonic()
    rejected_id = af.trigger("clob_promotion", {})
    asked = await_approval(af, rejected_id, shows="REVIEW before you promote")
    assert asked["subject"].endswith("Audit verdict: REVIEW") and f"{dropped} ({dropped_fills} fills," in asked["body"], asked
    af.respond("clob_promotion", rejected_id, "approve_swap", "Reject")
    rejected = af.wait("clob_promotion", rejected_id)
    timings["clob_promotion rejected"] = time.monotonic() - started
    rejected_states = dict(af.task_states("clob_promotion", rejected_id))
    assert rejected["state"] == "failed" and rejected_states["swap_tables"] == "upstream_failed", rejected_states
    assert "promote REJECTED by admin" in af.task_log(rejected_id, "approve_swap")
    assert chdb_query(af.env, PRODUCTION)[0] == [expected_fills, WALLETS, WALLETS]  # production untouched, no backup yet
    assert chdb_query(af.env, "SELECT argMax(held, updated_at) FROM {db:Identifier}.pipeline_lock") == [[0]]

    # Promoted after all (approval "auto", as a script would): the first set becomes *_old, and the
    # rollback brings back the dropped wallet.
    run("clob_promotion", {"approval": "auto"})
    cycle = chdb_query(af.env, COUNTS)[0]
    assert cycle == [expected_fills - dropped_fills, WALLETS - 1, WALLETS, expected_fills, WALLETS]
    rollback = run("clob_rollback")
    assert chdb_query(af.env, COUNTS)[0] == [expected_fills, WALLETS, WALLETS, expected_fills - dropped_fills, WALLETS - 1]
    restore = af.xcom("clob_rollback", rollback["dag_run_id"], "audit_rollback")
    assert restore["totals"]["wallets_added"] == 1 and restore["totals"]["added"] == dropped_fills, restore

    # The one-slot pool serialised the chDB tasks: no two ClickHouse task tries overlapped.
    assert af.max_concurrent_pool_tasks("clickhouse") == 1
    assert "XCom not found" not in af.scheduler_log()
    print("real-scheduler timings (s): " + json.dumps({k: round(v, 1) for k, v in timings.items()}))


def await_approval(af: RealAirflow, run_id: str, shows: str, screenshot: str | None = None) -> dict[str, Any]:
    """Wait until the promotion asks for approval; check the request names its audit report (written,
    verdict first) and, with ``screenshot``, keep a screenshot of its Required actions page in the UI."""
    af.wait_until_asked("clob_promotion", run_id, "approve_swap")
    asked = af.hitl_detail("clob_promotion", run_id, "approve_swap")
    audit = af.xcom("clob_promotion", run_id, "audit_promote")
    assert (
        asked["subject"].startswith("Promote staging to production?")
        and shows in asked["body"]
        and audit["report"] in asked["body"]
    ), asked
    html = Path(urlparse(audit["report"]).path).read_text()
    assert html.index('id="verdict"') < html.index("<svg") and shows in html
    if screenshot and os.environ.get("CLOB_PIPELINE_SKIP_BROWSER_TESTS") != "1":
        page = airflow_ui_screenshot(
            str(af.root),
            af.api_url,
            af.ui_token(),
            f"/dags/clob_promotion/runs/{run_id}/tasks/approve_swap/required_actions",
            shows,
            screenshot,
        )
        assert "Approve" in page and "Reject" in page, page[-2000:]
    return asked


def test_the_rest_api_refuses_an_unauthenticated_trigger(airflow_deployment: RealAirflow) -> None:
    request = urllib.request.Request(
        f"{airflow_deployment.api_url}/api/v2/dags/clob_backfill/dagRuns",
        data=json.dumps({"logical_date": None}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
