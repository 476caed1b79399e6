"""The journaled swap on real chDB with a failure injected between the two table swaps."""

from __future__ import annotations

import pytest
from conftest import ch_rows
from seeding import checksums

from clob_pipeline.hooks.clickhouse import ClickHouseHook
from clob_pipeline.promotion.swap import JournaledSwap, SwapFailedError


class Crash(BaseException):
    """Stands for the worker process dying: not an Exception, so no reversal runs."""


class FailingSwap(JournaledSwap):
    """Runs the real SQL, but raises instead of running step number ``fail_at``."""

    def __init__(self, *args, fail_at: int, error: BaseException, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fail_at, self.error = fail_at, error

    def _execute(self, step) -> None:
        if step.seq == self.fail_at:
            raise self.error
        super()._execute(step)


@pytest.fixture()
def tables(database):
    """Staging and production for both roles, each with distinct rows."""
    with ClickHouseHook() as ch:
        ch.run_sql_file("schema/database.sql")
        ch.run_sql_file("schema/promotion_tables.sql")
        for fills, proxy, marker in (
            ("clob_fills_v2", "pm_user_proxy_wallets_v2", "new"),
            ("clob_fills", "pm_user_proxy_wallets", "old"),
        ):
            ch.run_sql_file("schema/fills_table.sql", {"fills_table": fills})
            ch.run_sql_file("schema/proxy_table.sql", {"proxy_table": proxy})
            ch.run_statements(
                "INSERT INTO {db:Identifier}.{t:Identifier} (fill_id, proxy_wallet, timestamp) "
                "SELECT {m:String} || toString(number), 'w', now64(3) FROM numbers({n:UInt32})",
                {"t": fills, "m": marker, "n": 10 if marker == "new" else 7},
            )
            ch.run_statements(
                "INSERT INTO {db:Identifier}.{t:Identifier} (user_eoa, proxy_wallet) VALUES ({m:String}, 'p')",
                {"t": proxy, "m": marker},
            )
    return checksums()


def test_failure_between_the_two_swaps_reverses_the_first(tables):
    before = tables
    with ClickHouseHook() as ch, pytest.raises(SwapFailedError, match=r"step 2 .* Reversed 1 finished step"):
        FailingSwap(ch, "op-1", "promote", fail_at=2, error=RuntimeError("injected")).run()
    assert checksums() == before  # readers see the old production for both roles
    states = ch_rows("SELECT seq, state FROM {db:Identifier}.promotion_journal FINAL WHERE op_id = 'op-1' ORDER BY seq")
    assert states[:2] == [(1, "reverted"), (2, "failed")]

    # The retry of the same run plans a fresh attempt and completes it.
    with ClickHouseHook() as ch:
        swap = JournaledSwap(ch, "op-1", "promote")
        swap.run()
    assert swap.attempt == 2
    after = checksums()
    assert after["clob_fills"] == before["clob_fills_v2"] and after["clob_fills_old"] == before["clob_fills"]
    assert after["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets_v2"]
    assert after["pm_user_proxy_wallets_old"] == before["pm_user_proxy_wallets"]


def test_a_crash_between_the_two_swaps_is_finished_by_the_next_attempt(tables):
    before = tables
    with ClickHouseHook() as ch, pytest.raises(Crash):
        FailingSwap(ch, "op-2", "promote", fail_at=2, error=Crash()).run()
    mid = checksums()
    assert mid["clob_fills"] == before["clob_fills_v2"]  # fills swapped, proxy not: the state to repair
    assert mid["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets"]

    with ClickHouseHook() as ch:
        swap = JournaledSwap(ch, "op-2", "promote")
        swap.run()
    assert swap.resumed and swap.attempt == 1
    after = checksums()
    assert after["clob_fills"] == before["clob_fills_v2"] and after["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets_v2"]
    assert (
        after["clob_fills_old"] == before["clob_fills"] and after["pm_user_proxy_wallets_old"] == before["pm_user_proxy_wallets"]
    )
    # A third call of the same run finds every step done and changes nothing.
    with ClickHouseHook() as ch:
        JournaledSwap(ch, "op-2", "promote").run()
    assert checksums() == after


def test_a_crash_after_a_step_ran_but_before_it_was_journaled_is_recognised_from_the_catalog(tables):
    before = tables

    class DiesAfterExecuting(JournaledSwap):
        def _execute(self, step) -> None:
            super()._execute(step)
            if step.seq == 1:
                raise Crash()

    with ClickHouseHook() as ch, pytest.raises(Crash):
        DiesAfterExecuting(ch, "op-3", "promote").run()
    with ClickHouseHook() as ch:
        JournaledSwap(ch, "op-3", "promote").run()  # must not exchange step 1 back
    after = checksums()
    assert after["clob_fills"] == before["clob_fills_v2"] and after["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets_v2"]


# --- a crash after every statement, then each way of recovering --------------------------------

from clob_pipeline.dag_parts import SCHEMA_FILES  # noqa: E402
from clob_pipeline.promotion.journal import unfinished_operations  # noqa: E402
from clob_pipeline.promotion.swap import OperationAliveError, finish_unfinished  # noqa: E402

FILLS = ("clob_fills_v2", "clob_fills", "clob_fills_old")
PROXY = ("pm_user_proxy_wallets_v2", "pm_user_proxy_wallets", "pm_user_proxy_wallets_old")
# scenario -> (operation, rows per table slot staging/production/old (None = no table), incoming slot, outgoing slot)
SCENARIOS = {
    "promote": ("promote", (10, 7, 3), 0, 1),
    "first_promotion": ("promote", (10, None, None), 0, None),
    "rollback": ("rollback", (0, 7, 3), 2, 1),
}


class CrashAfter(JournaledSwap):
    """Runs the real SQL and dies (``Crash``) right after its ``after``-th write statement."""

    def __init__(self, *args, after: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.after, self.statements = after, 0

    def _statement(self, name, parameters) -> None:
        super()._statement(name, parameters)
        self.statements += 1
        if self.statements == self.after:
            raise Crash()


def snapshot(ch) -> dict:
    """``seeding.checksums`` through one open hook (the crash matrix takes thousands of them)."""
    names = list(FILLS + PROXY)
    exists = {n for (n,) in ch.query_rows("SELECT name FROM system.tables WHERE database = {db:String}")}
    sql = "SELECT count(), sum(cityHash64(*)) FROM {db:Identifier}.{t:Identifier} FINAL"
    return {n: tuple(int(v) for v in ch.query_rows(sql, {"t": n})[0]) if n in exists else None for n in names}


def build(ch, rows: tuple[int | None, ...]) -> dict:
    """A fresh database holding the scenario's tables, each with rows of its own; returns their checksums."""
    ch.run_statements("DROP DATABASE IF EXISTS {db:Identifier} SYNC")
    for name in SCHEMA_FILES:
        ch.run_sql_file(name, {"fills_table": FILLS[0], "proxy_table": PROXY[0]})
    for fills, proxy, n in zip(FILLS, PROXY, rows, strict=True):
        if n is None:
            for table in (fills, proxy):
                ch.run_statements("DROP TABLE IF EXISTS {db:Identifier}.{t:Identifier} SYNC", {"t": table})
            continue
        ch.run_sql_file("schema/fills_table.sql", {"fills_table": fills})
        ch.run_sql_file("schema/proxy_table.sql", {"proxy_table": proxy})
        if n:
            ch.run_statements(
                "INSERT INTO {db:Identifier}.{t:Identifier} (fill_id, proxy_wallet, timestamp) "
                "SELECT {m:String} || toString(number), 'w', now64(3) FROM numbers({n:UInt32})",
                {"t": fills, "m": fills, "n": n},
            )
            ch.run_statements(
                "INSERT INTO {db:Identifier}.{t:Identifier} (user_eoa, proxy_wallet) VALUES ({m:String}, 'p')",
                {"t": proxy, "m": proxy},
            )
    return snapshot(ch)


def assert_consistent(ch, before: dict, scenario: str, where: str) -> None:
    """Validated tables live, the previous production in *_old, empty usable staging, nothing unfinished."""
    _, _, incoming, outgoing = SCENARIOS[scenario]
    after = snapshot(ch)
    for names in (FILLS, PROXY):
        assert after[names[1]] == before[names[incoming]], (where, names[1], after)
        assert after[names[2]] == (before[names[outgoing]] if outgoing is not None else None), (where, names[2], after)
        assert after[names[0]] == (0, 0), (where, names[0], after)  # staging: present and empty
    live = dict(ch.query_rows("SELECT role, argMax(table_name, updated_at) FROM {db:Identifier}.live_tables GROUP BY role"))
    assert live == {"fills": FILLS[1], "proxy": PROXY[1]}, where
    assert unfinished_operations(ch) == [], where
    ch.run_statements("INSERT INTO {db:Identifier}.clob_fills_v2 (fill_id, proxy_wallet) VALUES ('next', 'w')")
    assert snapshot(ch)["clob_fills_v2"][0] == 1, where  # staging is usable by the next backfill


def statements_of_a_clean_run(ch, operation: str, rows: tuple) -> int:
    build(ch, rows)
    swap = CrashAfter(ch, "count", operation, after=0)
    swap.run()
    return swap.statements


def recover_by_retry(ch, operation: str) -> None:
    """The swap task's retry: the same run (op_id) calls the executor again."""
    JournaledSwap(ch, "crashed", operation).run()


def recover_by_new_run(ch, operation: str) -> None:
    """A new run of the same DAG: ensure_schema, then finish_unfinished (Airflow says the crashed run
    failed). Its own swap follows only if the crashed run had changed nothing (the checks of a real
    run refuse a promotion of the empty staging a completed one leaves)."""
    for name in SCHEMA_FILES:
        ch.run_sql_file(name, {"fills_table": FILLS[0], "proxy_table": PROXY[0]})
    recovered = finish_unfinished(ch, "new-run", lambda op: "failed")
    completed = ch.query_rows(
        "SELECT count() FROM {db:Identifier}.promotion_journal FINAL WHERE op_id = 'crashed' AND action = 'finish' "
        "AND state = 'done'"
    )[0][0]
    if not completed and not any(r.direction == "forward" for r in recovered):
        JournaledSwap(ch, "new-run", operation).run()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("recover", [recover_by_retry, recover_by_new_run], ids=["retry", "new_run"])
def test_a_crash_after_any_statement_is_recovered_to_a_consistent_state(database, scenario, recover):
    operation, rows, _, _ = SCENARIOS[scenario]
    with ClickHouseHook() as ch:
        total = statements_of_a_clean_run(ch, operation, rows)
        assert total >= 6
        for after in range(1, total + 1):
            before = build(ch, rows)
            with pytest.raises(Crash):
                CrashAfter(ch, "crashed", operation, after=after).run()
            recover(ch, operation)
            assert_consistent(ch, before, scenario, f"{scenario}: crash after statement {after} of {total}")


def test_a_crash_leaves_readers_one_statement_of_mixed_roles_and_the_journal_open(database):
    """Between the two visible statements nothing else runs: the crash point inside the mixed window
    is exactly the first swap; the operation is then unfinished, which ingestion and health see."""
    ordered: list[str] = []

    class Recording(JournaledSwap):
        def _statement(self, name, parameters) -> None:
            ordered.append(name)
            super()._statement(name, parameters)

    with ClickHouseHook() as ch:
        build(ch, SCENARIOS["promote"][1])
        Recording(ch, "clean", "promote").run()
    first = ordered.index("promotion/exchange.sql")
    assert ordered[first + 1] == "promotion/exchange.sql"  # no journal write between the two swaps
    with ClickHouseHook() as ch:
        before = build(ch, SCENARIOS["promote"][1])
        with pytest.raises(Crash):
            CrashAfter(ch, "crashed", "promote", after=first + 1).run()
    mid = checksums()
    assert mid["clob_fills"] == before["clob_fills_v2"] and mid["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets"]
    with ClickHouseHook() as ch:
        from clob_pipeline.promotion.live import ingestion_pause

        assert [u.op_id for u in unfinished_operations(ch)] == ["crashed"]
        assert "crashed" in ingestion_pause(ch).describe()  # ingestion stays away, whatever the pause row says


def test_a_live_run_is_never_taken_over_and_a_tampered_operation_is_reversed(database):
    with ClickHouseHook() as ch:
        before = build(ch, SCENARIOS["promote"][1])
    with ClickHouseHook() as ch, pytest.raises(Crash):
        FailingSwap(ch, "crashed", "promote", fail_at=2, error=Crash()).run()  # fills swapped, mappings not
    with ClickHouseHook() as ch, pytest.raises(OperationAliveError, match="crashed .* its run is running"):
        finish_unfinished(ch, "new-run", lambda op: "running")
    mixed = checksums()
    assert mixed["clob_fills"] == before["clob_fills_v2"]  # refused: nothing changed
    # Someone writes to the validated mappings before the recovery: they are no longer what was validated.
    with ClickHouseHook() as ch:
        ch.run_statements("INSERT INTO {db:Identifier}.pm_user_proxy_wallets_v2 (user_eoa, proxy_wallet) VALUES ('x', 'y')")
        (done,) = finish_unfinished(ch, "new-run", lambda op: "failed")
    assert done.direction == "reversed" and "1 were validated" in done.reason
    after = checksums()
    assert after["clob_fills"] == before["clob_fills"] and after["pm_user_proxy_wallets"] == before["pm_user_proxy_wallets"]
    assert after["clob_fills_v2"] == before["clob_fills_v2"] and after["clob_fills_old"] == before["clob_fills_old"]
    with ClickHouseHook() as ch:
        assert unfinished_operations(ch) == []


def test_tables_changed_by_hand_after_a_crash_stop_the_recovery_for_a_person(database):
    from clob_pipeline.promotion.swap import NeedsPersonError

    with ClickHouseHook() as ch:
        build(ch, SCENARIOS["promote"][1])
        with pytest.raises(Crash):
            FailingSwap(ch, "crashed", "promote", fail_at=2, error=Crash()).run()
        ch.run_statements("DROP TABLE {db:Identifier}.pm_user_proxy_wallets SYNC")  # someone "cleans up"
        left = snapshot(ch)
        with pytest.raises(NeedsPersonError, match="CRITICAL: promote crashed .* changed by hand"):
            finish_unfinished(ch, "new-run", lambda op: "failed")
        assert snapshot(ch) == left  # nothing touched
        assert [u.op_id for u in unfinished_operations(ch)] == ["crashed"]
