"""clob_promotion and clob_rollback for real (dag.test on chDB): checks gate the swap, the swap moves
exactly the validated tables, rollback restores them, ingestion follows the live tables."""

from __future__ import annotations

import copy
import time

import pytest
from airflow.sdk import DagRunState
from conftest import ch_rows
from fills_truth import expected_fills, stored_fills
from seeding import checksum, checksums, seed_mapping, task_states

PRODUCTION = {"fills": "clob_fills", "proxy": "pm_user_proxy_wallets"}


@pytest.fixture()
def staged(database, emulator_factory, run_dag):
    """An emulator with 6 wallets (5 proxy-separated users) and a staging set loaded by clob_backfill."""
    emu = emulator_factory(
        wallets=6,
        proxy_users=5,
        fills_per_wallet=40,
        anchor_s=int(time.time()) - 600,
        history_days=20,
        late_fraction=0,
        rate_scale=0,
    )
    seed_mapping(emu)
    assert run_dag("clob_backfill", {"lookback": "all"}).state == DagRunState.SUCCESS
    return emu


def live_tables() -> dict[str, str]:
    return dict(ch_rows("SELECT role, argMax(table_name, updated_at) FROM {db:Identifier}.live_tables GROUP BY role"))


def pause_held() -> bool:
    rows = ch_rows("SELECT argMax(held, updated_at) FROM {db:Identifier}.pipeline_lock")
    return bool(rows and rows[0][0])


def test_promote_ingest_promote_again_and_roll_back(staged, run_dag):
    emu = staged
    before = checksums()
    assert before["clob_fills_v2"][0] == sum(expected_fills(emu, emu.dataset.wallets).values())

    dry = run_dag("clob_promotion", {"dry_run": True})
    assert dry.state == DagRunState.SUCCESS
    assert task_states(dry)["swap_tables"] == "skipped"
    assert task_states(dry)["approve_swap"] == "skipped"  # approval "required" (the default), yet a dry run never asks
    assert checksums() == before and not pause_held()

    first = run_dag("clob_promotion", {"approval": "auto"})
    assert first.state == DagRunState.SUCCESS, task_states(first)
    after = checksums()
    assert after["clob_fills"] == before["clob_fills_v2"]
    assert after["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets_v2"]
    assert after["clob_fills_v2"] == (0, 0) and after["clob_fills_old"] is None  # moved (staging re-created empty); no backup yet
    assert live_tables() == PRODUCTION and not pause_held()
    journal = ch_rows("SELECT seq, action, state FROM {db:Identifier}.promotion_journal FINAL ORDER BY seq")
    assert journal == [(1, "rename", "done"), (2, "rename", "done"), (3, "finish", "done")]

    refused = run_dag("clob_rollback", {})  # production exists but no *_old yet
    assert refused.state == DagRunState.FAILED
    assert task_states(refused)["plan_rollback"] == "failed" and task_states(refused)["swap_tables"] == "upstream_failed"
    assert checksums() == after

    # After the promotion the incremental run writes to production (staging is re-created empty).
    emu.post("/__emulator/new-fills", {"per_wallet": 3})
    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS
    assert stored_fills("clob_fills") == expected_fills(emu, emu.dataset.wallets)
    assert checksum("clob_fills_v2") == (0, 0)

    # A second staging set, promoted over the first: the first becomes *_old.
    emu.post("/__emulator/new-fills", {"per_wallet": 2})
    seed_mapping(emu)
    assert run_dag("clob_backfill", {"lookback": "all"}).state == DagRunState.SUCCESS
    before2 = checksums()
    assert before2["clob_fills_v2"] != before2["clob_fills"]
    assert run_dag("clob_promotion", {"approval": "auto"}).state == DagRunState.SUCCESS
    after2 = checksums()
    assert after2["clob_fills"] == before2["clob_fills_v2"] and after2["clob_fills_old"] == before2["clob_fills"]
    assert after2["pm_user_proxy_wallets_old"] == before2["pm_user_proxy_wallets"]

    dry_rb = run_dag("clob_rollback", {"dry_run": True})
    assert dry_rb.state == DagRunState.SUCCESS and checksums() == after2

    assert run_dag("clob_rollback", {}).state == DagRunState.SUCCESS
    rolled = checksums()
    assert rolled["clob_fills"] == before2["clob_fills"]  # identical to before the second promotion
    assert rolled["pm_user_proxy_wallets"] == before2["pm_user_proxy_wallets"]
    assert rolled["clob_fills_old"] == before2["clob_fills_v2"]  # the rolled-back set is kept aside
    assert live_tables() == PRODUCTION and not pause_held()

    # Ingestion follows the restored table: it re-reads from that table's newest fills, losing nothing.
    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS
    assert stored_fills("clob_fills") == expected_fills(emu, emu.dataset.wallets)


PLANTS = {
    # check that must fail -> SQL that plants the bad rows ({db} / {t} = staging fills table)
    "check_no_duplicate_fills": "INSERT INTO {db:Identifier}.clob_fills_v2 SELECT * REPLACE "
    "('0xabababababababababababababababababababab' AS proxy_wallet) FROM {db:Identifier}.clob_fills_v2 FINAL LIMIT 1",
    "check_no_empty_keys": "INSERT INTO {db:Identifier}.clob_fills_v2 SELECT * REPLACE ('' AS condition_id, "
    "'planted-empty' AS fill_id) FROM {db:Identifier}.clob_fills_v2 FINAL LIMIT 1",
    "check_date_range": "INSERT INTO {db:Identifier}.clob_fills_v2 SELECT * REPLACE (toDateTime64(0, 3, 'UTC') AS timestamp, "
    "'planted-1970' AS fill_id) FROM {db:Identifier}.clob_fills_v2 FINAL LIMIT 1",
    # a phantom: one more fill of the same content than the source served in that second
    "check_content_not_overcounted": "INSERT INTO {db:Identifier}.clob_fills_v2 SELECT * REPLACE "
    "('planted-phantom' AS fill_id) FROM {db:Identifier}.clob_fills_v2 FINAL WHERE copies = 1 LIMIT 1",
    "check_counts_match_sync_state": "INSERT INTO {db:Identifier}.clob_fills_v2 SELECT * REPLACE "
    "('planted-extra' AS fill_id) FROM {db:Identifier}.clob_fills_v2 FINAL LIMIT 1",
}
# the same fill read again from the CLOB, described at another price (the CLOB's taker limit price): two ids
OTHER_SOURCE_PRICE = (
    "INSERT INTO {db:Identifier}.clob_fills_v2 SELECT * REPLACE ('planted-clob-price' AS fill_id, 'clob' AS source, "
    "price + toDecimal64('0.01', 6) AS price) "
    "FROM (SELECT * FROM {db:Identifier}.clob_fills_v2 FINAL WHERE source = 'data_api' LIMIT 1)"  # (an alias would shadow source)
)
UNPLANT = (
    "DELETE FROM {db:Identifier}.clob_fills_v2 "
    "WHERE fill_id LIKE 'planted-%' OR proxy_wallet = '0xabababababababababababababababababababab'"
)


def test_each_failed_check_blocks_the_swap_and_changes_nothing(staged, run_dag):
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

    before = checksums()
    cases = [(task_id, sql, {}) for task_id, sql in PLANTS.items()]
    cases += [("check_content_not_overcounted", OTHER_SOURCE_PRICE, {})]
    cases += [
        ("check_wallets_with_fills", None, {"min_wallets": 7}),
        ("check_proxy_separated_mappings", None, {"min_proxy_mappings": 6}),
    ]
    for task_id, plant, conf in cases:
        if plant:
            with ClickHouseHook() as ch:
                ch.run_statements(plant)
        planted = checksums()
        dr = run_dag("clob_promotion", {"approval": "auto", **conf})  # a check that wrongly passes swaps: red, never a wait
        states = task_states(dr)
        assert dr.state == DagRunState.FAILED, task_id
        assert states[task_id] == "failed", (task_id, states)
        assert states["swap_tables"] == "upstream_failed", (task_id, states)
        # the teardown released the pause, then failed quietly: as the run's only leaf it carries its colour
        assert states["resume_ingestion"] == "failed" and not pause_held()
        assert checksums() == planted, task_id  # a refused promotion touches nothing
        if plant:
            with ClickHouseHook() as ch:
                ch.run_statements(UNPLANT)
        assert checksums() == before

    # The same data with the plants removed passes every check: the checks above were not vacuous.
    ok = run_dag("clob_promotion", {"approval": "auto", "min_wallets": 6, "min_proxy_mappings": 5})
    assert ok.state == DagRunState.SUCCESS, task_states(ok)
    assert checksum("clob_fills") == before["clob_fills_v2"]


def test_ingestion_skips_while_a_promotion_holds_the_pause(staged, run_dag):
    from clob_pipeline.hooks.clickhouse import ClickHouseHook
    from clob_pipeline.promotion.live import hold_pause, release_pause

    emu = staged
    emu.post("/__emulator/new-fills", {"per_wallet": 2})
    before = checksum("clob_fills_v2")
    with ClickHouseHook() as ch:
        hold_pause(ch, "manual__promotion-under-test", "test")
    dr = run_dag("clob_incremental", {})
    states = task_states(dr)
    assert states["list_wallets"] == "skipped" and states["summarize"] == "skipped"
    assert checksum("clob_fills_v2") == before  # nothing written while paused
    with ClickHouseHook() as ch:
        assert release_pause(ch, "manual__promotion-under-test")
    assert run_dag("clob_incremental", {}).state == DagRunState.SUCCESS
    assert stored_fills() == expected_fills(emu, emu.dataset.wallets)


class Crash(BaseException):
    """Stands for the worker dying mid-swap: not an Exception, so the executor reverses nothing."""


def crash_at_step(monkeypatch, seq: int, times: int) -> list[int]:
    """Make the swap die just before its step ``seq``, the first ``times`` times it gets there."""
    from clob_pipeline.promotion.swap import JournaledSwap

    crashes: list[int] = []
    real = JournaledSwap._execute

    def execute(self, step) -> None:
        if step.seq == seq and len(crashes) < times:
            crashes.append(seq)
            raise Crash()
        real(self, step)

    monkeypatch.setattr(JournaledSwap, "_execute", execute)
    return crashes


def unfinished() -> list[tuple]:
    return ch_rows("SELECT op_id, operation FROM {db:Identifier}.promotion_journal FINAL WHERE state = 'started'")


def test_a_swap_killed_between_the_two_renames_is_finished_by_its_own_retry(staged, run_dag, monkeypatch, capfd):
    before = checksums()
    crashes = crash_at_step(monkeypatch, seq=2, times=1)  # after RENAME clob_fills_v2 -> clob_fills
    dr = run_dag("clob_promotion", {"approval": "auto"})
    assert crashes == [2]
    assert dr.state == DagRunState.SUCCESS, task_states(dr)
    swap = next(ti for ti in dr.get_task_instances() if ti.task_id == "swap_tables")
    assert swap.try_number == 2  # the retry resumed the journal without a person
    after = checksums()
    assert after["clob_fills"] == before["clob_fills_v2"] and after["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets_v2"]
    assert after["clob_fills_v2"] == after["pm_user_proxy_wallets_v2"] == (0, 0)
    assert live_tables() == PRODUCTION and not pause_held() and unfinished() == []
    out = capfd.readouterr()
    assert "resumed from the journal and finished forward because validated tables intact" in out.out + out.err


def test_a_new_run_takes_over_a_crashed_promotion_and_health_flags_it_until_then(staged, run_dag, monkeypatch, capfd):
    from clob_pipeline.hooks.clickhouse import ClickHouseHook
    from clob_pipeline.promotion.live import hold_pause

    before = checksums()
    crash_at_step(monkeypatch, seq=2, times=2)  # the run and its retry both die between the two renames (only they)
    crashed = run_dag("clob_promotion", {"approval": "auto"})
    assert crashed.state == DagRunState.FAILED and task_states(crashed)["swap_tables"] == "failed"
    assert task_states(crashed)["resume_ingestion"] == "failed" and not pause_held()  # it ran, released, kept the run red
    mixed = checksums()
    assert mixed["clob_fills"] == before["clob_fills_v2"] and mixed["pm_user_proxy_wallets"] is None  # mixed roles
    assert unfinished() == [(crashed.run_id, "promote")] * len(unfinished())

    health = run_dag("clob_health", {})
    assert health.state == DagRunState.FAILED and task_states(health)["check_no_unfinished_swap"] == "failed"
    assert f"promote {crashed.run_id}" in capfd.readouterr().out

    # A pause left by a run Airflow does not know is taken over, with a warning.
    with ClickHouseHook() as ch:
        hold_pause(ch, "manual__ghost", "test")
    new = run_dag("clob_promotion", {"approval": "auto"})
    out = capfd.readouterr().out
    assert new.state == DagRunState.SUCCESS, (task_states(new), out[-4000:])
    assert task_states(new)["finish_unfinished"] == "skipped" and task_states(new)["swap_tables"] == "skipped"
    assert "WARNING took over an abandoned pause: ingestion paused by manual__ghost" in out
    assert f"promote {crashed.run_id}" in out and "its run: failed" in out and "finished FORWARD" in out
    after = checksums()
    assert after["clob_fills"] == before["clob_fills_v2"] and after["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets_v2"]
    assert after["clob_fills_v2"] == after["pm_user_proxy_wallets_v2"] == (0, 0)
    assert live_tables() == PRODUCTION and not pause_held() and unfinished() == []
    assert task_states(run_dag("clob_health", {}))["check_no_unfinished_swap"] == "success"


def test_a_pause_held_by_a_live_run_refuses_the_promotion_and_stays_with_its_holder(staged, run_dag, monkeypatch):
    from clob_pipeline.hooks.clickhouse import ClickHouseHook
    from clob_pipeline.promotion import tasks
    from clob_pipeline.promotion.live import held_pause, hold_pause

    before = checksums()
    with ClickHouseHook() as ch:
        hold_pause(ch, "manual__other-promotion", "promote in progress")
    other_is_running = lambda ti, run_id, *dag_ids: "running" if run_id == "manual__other-promotion" else None  # noqa: E731
    monkeypatch.setattr(tasks, "dag_run_state", other_is_running)
    dr = run_dag("clob_promotion", {"approval": "auto"})
    states = task_states(dr)
    assert dr.state == DagRunState.FAILED, states  # the teardown is the only leaf, and a failed setup keeps it red
    assert states["pause_ingestion"] == "failed" and states["swap_tables"] == "upstream_failed"
    assert states["resume_ingestion"] == "upstream_failed"  # it never touches another run's pause
    with ClickHouseHook() as ch:
        assert held_pause(ch).holder == "manual__other-promotion"
    assert checksums() == before


def test_a_cleared_run_whose_check_now_fails_is_red_whatever_its_old_outcome(staged, dagbag, monkeypatch):
    """Clearing a whole run keeps the completing task's old ``outcome`` XCom until that task runs
    again; when a check now fails, that task never runs, and the old outcome must not colour the run.
    dag.test() clears the run at the same logical date; keeping that run (instead of a new one) is
    what the UI's Clear does."""
    import airflow.models.dagrun as dagrun_mod
    import pendulum
    from sqlalchemy import select

    from clob_pipeline.hooks.clickhouse import ClickHouseHook

    dag = dagbag.dags["clob_promotion"]
    conf = {**copy.deepcopy(dagbag.param_defaults["clob_promotion"]), "dry_run": True}
    when = pendulum.datetime(2026, 3, 1, tz="UTC")
    first = dag.test(logical_date=when, run_conf=conf)
    assert first.state == DagRunState.SUCCESS, task_states(first)
    with ClickHouseHook() as ch:
        ch.run_statements(PLANTS["check_no_empty_keys"])

    def reuse_cleared_run(*, dag, logical_date, session, **_):
        DagRun = dagrun_mod.DagRun  # noqa: N806
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.logical_date == logical_date))
        run.state, run.dag = DagRunState.RUNNING, dag
        session.commit()
        return run

    monkeypatch.setattr(dagrun_mod, "get_or_create_dagrun", reuse_cleared_run)
    again = dag.test(logical_date=when, run_conf=conf)
    states = task_states(again)
    assert again.run_id == first.run_id and states["check_no_empty_keys"] == "failed"
    assert states["unless_dry_run"] == "upstream_failed"  # its old "dry run" outcome is still stored
    assert again.state == DagRunState.FAILED, states
    assert states["resume_ingestion"] == "failed" and not pause_held()
