"""clob_health for real (dag.test on chDB): each check passes on good data and fails on data made
stale / shrunk / dropped; failures are posted to the alerts webhook when it is configured."""

from __future__ import annotations

from airflow.sdk import DagRunState
from seeding import task_states

from clob_pipeline.hooks.clickhouse import ClickHouseHook

CHECKS = ("check_fills_fresh", "check_mapping_count", "check_daily_fill_volume", "check_no_unfinished_swap")


def seed(days: dict[int, int], ingested_hours_ago: float = 1, mappings: int = 6) -> None:
    """Fills: ``days`` maps days-ago -> fills that day (noon UTC); all ingested ``ingested_hours_ago``."""
    with ClickHouseHook() as ch:
        for name in ("schema/database.sql", "schema/fills_table.sql", "schema/proxy_table.sql"):
            ch.run_sql_file(name, {"fills_table": "clob_fills_v2", "proxy_table": "pm_user_proxy_wallets_v2"})
        for ago, n in days.items():
            ch.run_statements(
                "INSERT INTO {db:Identifier}.clob_fills_v2 "
                "(fill_id, proxy_wallet, user_eoa, condition_id, timestamp, ingested_at) "
                "SELECT concat({tag:String}, toString(number)), concat('w', toString(number % 3)), 'e', 'c', "
                "toDateTime64(toDate(now(), 'UTC') - {ago:UInt32}, 3, 'UTC') + INTERVAL 12 HOUR, "
                "now64(3) - toIntervalSecond({age_s:UInt32}) FROM numbers({n:UInt32})",
                {"tag": f"d{ago}-", "ago": ago, "n": n, "age_s": int(ingested_hours_ago * 3600)},
            )
        ch.run_statements(
            "INSERT INTO {db:Identifier}.pm_user_proxy_wallets_v2 (user_eoa, proxy_wallet, wallet_type) "
            "SELECT concat('e', toString(number)), concat('p', toString(number)), 'proxy' FROM numbers({n:UInt32})",
            {"n": mappings},
        )


STEADY = {ago: 100 for ago in range(1, 9)}  # yesterday and the 7 days before: 100 fills each






def test_stale_fills_fail_and_are_posted_to_the_webhook(database, run_dag, webhook):
    seed(STEADY, ingested_hours_ago=30)
    dr = run_dag("clob_health", {})
    states = task_states(dr)
    assert dr.state == DagRunState.FAILED
    assert states["check_fills_fresh"] == "failed"
    assert states["check_mapping_count"] == states["check_daily_fill_volume"] == "success"
    alerts = [a for a in webhook if a["task_id"] == "check_fills_fresh"]
    assert len(alerts) == 1
    assert "hours_since_last_ingest=30" in alerts[0]["error"] and "max_age_hours=24" in alerts[0]["error"]
    assert "clob_fills_v2" in alerts[0]["error"]


def test_all_checks_pass_on_good_data_and_a_shrunk_mapping_fails_until_accepted(database, run_dag, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_WEBHOOK", raising=False)  # no webhook configured: checks still run
    seed(STEADY, mappings=6)
    dr = run_dag("clob_health", {})  # good data; its mapping count (6) is the baseline
    assert dr.state == DagRunState.SUCCESS, task_states(dr)
    assert all(task_states(dr)[c] == "success" for c in CHECKS)
    with ClickHouseHook() as ch:
        ch.run_statements("DELETE FROM {db:Identifier}.pm_user_proxy_wallets_v2 WHERE user_eoa IN ('e0', 'e1')")
    for _ in range(2):  # keeps failing: the baseline is the last count that passed
        dr = run_dag("clob_health", {})
        assert dr.state == DagRunState.FAILED and task_states(dr)["check_mapping_count"] == "failed"
        assert task_states(dr)["record_mapping_count"] == "failed"  # recorded, then failed the run
    accepted = run_dag("clob_health", {"accept_mapping_drop": True})
    assert accepted.state == DagRunState.SUCCESS
    assert run_dag("clob_health", {}).state == DagRunState.SUCCESS  # 4 is the new baseline


def test_a_daily_volume_drop_warns_and_fails_only_above_the_failure_level(database, run_dag, capfd):
    seed({**STEADY, 1: 30})  # yesterday 30 fills vs a median of 100: a 70 % drop
    warned = run_dag("clob_health", {})
    assert warned.state == DagRunState.SUCCESS and task_states(warned)["check_daily_fill_volume"] == "success"
    captured = capfd.readouterr()
    assert "WARNING check check_daily_fill_volume" in captured.out + captured.err
    assert "drop_pct=70.0" in captured.out + captured.err
    failed = run_dag("clob_health", {"fail_drop_pct": 60})
    assert failed.state == DagRunState.FAILED and task_states(failed)["check_daily_fill_volume"] == "failed"
    quiet = run_dag("clob_health", {"fail_drop_pct": 80})  # 70 % is below this failure level
    assert quiet.state == DagRunState.SUCCESS
