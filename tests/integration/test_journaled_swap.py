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
