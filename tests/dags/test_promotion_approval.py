"""The audit and the approval step of clob_promotion, run for real (dag.test on chDB) with a person
answering (tests/hitl_answers.py): a staging set that drops a wallet shows it as removed with its
counts; a rejection and a timeout end the run red with production untouched and the pause released;
an approval swaps; the rollback's audit shows what it restores."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from airflow.sdk import DagRunState
from hitl_answers import MARK_SUCCESS, TIMEOUT, HitlAnswer
from seeding import checksums, seed_mapping, task_states
from test_promotion_dags import pause_held

ASK = {"approval": "required"}


@pytest.fixture()
def production_and_a_smaller_staging_set(database, emulator_factory, run_dag):
    """Production holds 6 wallets' fills; staging the same minus one wallet (a backfill of 5 wallets)."""
    emu = emulator_factory(
        wallets=6, proxy_users=5, fills_per_wallet=30, anchor_s=int(time.time()) - 600, history_days=10, rate_scale=0
    )
    seed_mapping(emu)
    assert run_dag("clob_backfill", {"lookback": "all"}).state == DagRunState.SUCCESS
    assert run_dag("clob_promotion", {"approval": "auto"}).state == DagRunState.SUCCESS
    dropped, *kept = sorted(emu.dataset.wallets)
    assert run_dag("clob_backfill", {"lookback": "all", "wallets": kept}).state == DagRunState.SUCCESS
    return emu, dropped


def audit_of(dag_run, task_id: str = "audit_promote") -> dict:
    return dag_run.get_task_instance(task_id).xcom_pull(task_ids=task_id)


def report_text(audit: dict) -> str:
    url = urlparse(audit["report"])
    assert url.scheme == "file", audit["report"]  # the default: a local folder under AIRFLOW_HOME
    return Path(url.path).read_text()


def alerted(webhook: list[dict]) -> list[str]:
    return [alert["task_id"] for alert in webhook]


def test_rejection_and_timeout_swap_nothing_and_an_approval_swaps(production_and_a_smaller_staging_set, run_dag, capfd, webhook):
    emu, dropped = production_and_a_smaller_staging_set
    dropped_fills = len(list(emu.dataset.visible_fills(dropped)))
    before = checksums()
    assert before["clob_fills_v2"] != before["clob_fills"]

    with HitlAnswer("Reject") as answer:
        rejected = run_dag("clob_promotion", ASK)
    states = task_states(rejected)
    assert rejected.state == DagRunState.FAILED, states
    assert states["approve_swap"] == "failed" and states["swap_tables"] == "upstream_failed", states
    assert states["resume_ingestion"] == "failed"  # released the pause, then kept the run red
    assert checksums() == before and not pause_held()
    assert "promote REJECTED by oncall" in capfd.readouterr().out
    assert alerted(webhook) == []  # a person decided: no alert (the teardown fails quietly too)

    # The audit names the dropped wallet as removed, with its counts, everywhere on-call looks.
    audit = audit_of(rejected)
    assert audit["verdict"] == "review" and dropped in audit["headline"], audit["headline"]
    assert f"{dropped} ({dropped_fills} fills," in audit["headline"]
    assert audit["totals"]["wallets_removed"] == 1 and audit["totals"]["removed"] == dropped_fills
    assert f"| {dropped} | removed | {dropped_fills} | 0 | 0 | {dropped_fills} |" in audit["summary_md"]
    assert answer.asked["body"].startswith(audit["summary_md"]) and audit["report"] in answer.asked["body"]
    assert answer.asked["subject"] == "Promote staging to production? Audit verdict: REVIEW"
    assert answer.asked["options"] == ["Approve", "Reject"]
    html = report_text(audit)
    assert html.index('id="verdict"') < html.index("<svg") and "REVIEW before you promote" in html
    assert f'<td><code>{dropped}</code></td><td class="removed">removed</td>' in html

    with HitlAnswer(TIMEOUT) as answer:
        timed_out = run_dag("clob_promotion", {**ASK, "approval_timeout_minutes": 7})
    states = task_states(timed_out)
    assert timed_out.state == DagRunState.FAILED, states
    assert states["approve_swap"] == "failed" and states["swap_tables"] == "upstream_failed", states
    assert checksums() == before and not pause_held()
    assert 6.5 * 60 < (answer.deadline - timed_out.get_task_instance("approve_swap").start_date).total_seconds() < 7.5 * 60
    assert "promote NOT APPROVED: nobody answered within 7 minutes" in capfd.readouterr().out
    assert alerted(webhook) == ["approve_swap"]  # nobody answered: on-call is alerted

    with HitlAnswer("Approve"):
        approved = run_dag("clob_promotion", ASK)
    assert approved.state == DagRunState.SUCCESS, task_states(approved)
    after = checksums()
    assert after["clob_fills"] == before["clob_fills_v2"] and after["clob_fills_old"] == before["clob_fills"]
    assert "promote APPROVED by oncall" in capfd.readouterr().out

    # The rollback's audit shows what it restores: the dropped wallet comes back with its fills.
    dry_rollback = run_dag("clob_rollback", {"dry_run": True})
    assert dry_rollback.state == DagRunState.SUCCESS, task_states(dry_rollback)
    restore = audit_of(dry_rollback, "audit_rollback")
    assert restore["verdict"] == "ok" and restore["totals"]["wallets_added"] == 1
    assert f"| {dropped} | added | 0 | {dropped_fills} | {dropped_fills} | 0 |" in restore["summary_md"]
    assert checksums() == after


def test_an_approval_step_marked_success_by_hand_swaps_nothing(production_and_a_smaller_staging_set, run_dag, capfd):
    """"Mark as success" on the waiting approval answers nothing: the swap must not take it for a yes."""
    before = checksums()
    with HitlAnswer(MARK_SUCCESS):
        marked = run_dag("clob_promotion", ASK)
    states = task_states(marked)
    assert marked.state == DagRunState.FAILED, states
    assert states["approve_swap"] == "success" and states["swap_tables"] == "failed", states
    assert checksums() == before and not pause_held()
    assert "approve_swap recorded no approval" in capfd.readouterr().out
