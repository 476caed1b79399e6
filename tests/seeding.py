"""Test helpers that put known data into ClickHouse and fingerprint tables."""

from __future__ import annotations

from conftest import ch_rows

BAD_ADDRESS = "0xNOT-AN-ADDRESS"


def seed_mapping(emulator, proxy_table: str = "pm_user_proxy_wallets_v2") -> None:
    """Write the emulator's users into the mapping table (what pm_proxy_discovery would find)."""
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

    with ClickHouseHook() as ch:
        for name in ("schema/database.sql", "schema/proxy_table.sql"):
            ch.run_sql_file(name, {"proxy_table": proxy_table})
        ch.bulk_insert_rows(
            proxy_table,
            [(u.user_eoa, u.proxy_wallet, u.wallet_type, "test") for u in emulator.dataset.users],
            column_names=["user_eoa", "proxy_wallet", "wallet_type", "resolved_by"],
        )


def seed_metrics(emulator, low: str | None = None) -> None:
    """Every emulated EOA in ``wallet_metrics`` above the volume floor, plus a malformed address (and a
    ``low``-volume one): what pm_proxy_discovery selects from."""
    from clob_pipeline.hooks.clickhouse import ClickHouseHook

    wallets = [u.user_eoa for u in emulator.dataset.users] + [BAD_ADDRESS] + ([low] if low else [])
    volumes = [50_000.0 + i * 1000 for i in range(len(emulator.dataset.users))] + [99_999.0] + ([5.0] if low else [])
    with ClickHouseHook() as ch:
        for name in ("schema/database.sql", "schema/state_tables.sql"):
            ch.run_sql_file(name)
        ch.run_sql_file("demo/seed_wallet_metrics.sql", {"wallets": wallets, "volumes": volumes})


def mappings(table: str = "pm_user_proxy_wallets_v2") -> set[tuple]:
    """``(user_eoa, proxy_wallet, wallet_type)`` of a mapping table, read with FINAL."""
    return set(ch_rows("SELECT user_eoa, proxy_wallet, wallet_type FROM {db:Identifier}.{t:Identifier} FINAL", {"t": table}))


def checksum(table: str) -> tuple[int, int] | None:
    """(rows, order-independent hash of every column) of a table read with FINAL; None if missing."""
    exists = ch_rows("SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}", {"t": table})
    if not exists[0][0]:
        return None
    rows, digest = ch_rows("SELECT count(), sum(cityHash64(*)) FROM {db:Identifier}.{t:Identifier} FINAL", {"t": table})[0]
    return int(rows), int(digest)


PROMOTION_TABLES = (
    "clob_fills_v2",
    "clob_fills",
    "clob_fills_old",
    "pm_user_proxy_wallets_v2",
    "pm_user_proxy_wallets",
    "pm_user_proxy_wallets_old",
)


def checksums() -> dict[str, tuple[int, int] | None]:
    return {t: checksum(t) for t in PROMOTION_TABLES}


class TaskStates(dict):
    """A run's task-instance states keyed by ``(task_id, map_index)``: every mapped instance has its own.

    ``states["task"]`` is an unmapped task's state (map index -1); for a mapped task it raises, so a
    test cannot read one instance and mean all: ``states.all("task")`` lists every instance's state.
    """

    def __getitem__(self, key: str | tuple[str, int]) -> str | None:
        if isinstance(key, str):
            if (key, -1) not in self and self.all(key):
                raise KeyError(f"{key!r} is mapped ({len(self.all(key))} instances): use .all({key!r})")
            key = (key, -1)
        return super().__getitem__(key)

    def all(self, task_id: str) -> list[str | None]:
        """The states of every instance of ``task_id``, in map-index order."""
        return [state for (tid, _), state in sorted(self.items(), key=lambda item: item[0]) if tid == task_id]


def task_states(dag_run) -> TaskStates:
    return TaskStates({(ti.task_id, ti.map_index): ti.state for ti in dag_run.get_task_instances()})
