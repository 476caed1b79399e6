"""The bundle's ClickHouseHook keeps the clickhousedb provider's contracts (on real chDB).

``get_client()`` is the provider's: a new client on the connection's database that the caller
closes. The provider's own methods rely on that (``bulk_insert_rows`` closes the client it gets),
so they must work on this hook unchanged, and the hook's shared client must survive them.
"""

from __future__ import annotations

import pytest
from airflow.providers.clickhousedb.hooks.clickhouse import ClickHouseHook as ProviderClickHouseHook

from clob_pipeline.errors import is_retryable
from clob_pipeline.hooks.clickhouse import ClickHouseHook

ROWS = [("0x" + "01" * 20, "0x" + "02" * 20, "proxy", "test"), ("0x" + "03" * 20, "0x" + "03" * 20, "direct", "test")]
COLUMNS = ["user_eoa", "proxy_wallet", "wallet_type", "resolved_by"]


def test_get_client_is_a_new_client_on_the_bundle_database_that_the_caller_closes(database):
    with ClickHouseHook() as ch:
        ch.run_sql_file("schema/database.sql")
        first, second = ch.get_client(), ch.get_client()
        try:
            assert first is not second and first is not ch.shared_client()
            assert first.query("SELECT currentDatabase()").result_rows == [(database,)]
        finally:
            first.close()
            second.close()
        assert ch.query_rows("SELECT 1") == [(1,)]  # closing them left the hook's own client open


def test_an_inherited_provider_method_works_through_the_hook(database):
    assert ClickHouseHook.bulk_insert_rows is ProviderClickHouseHook.bulk_insert_rows  # the provider's code, not an override
    with ClickHouseHook() as ch:
        for name in ("schema/database.sql", "schema/proxy_table.sql"):
            ch.run_sql_file(name, {"proxy_table": "pm_user_proxy_wallets_v2"})
        ch.bulk_insert_rows("pm_user_proxy_wallets_v2", ROWS, column_names=COLUMNS)
        ch.bulk_insert_rows("pm_user_proxy_wallets_v2", ROWS[:1], column_names=COLUMNS, batch_size=1)
        stored = ch.query_rows(
            "SELECT user_eoa, proxy_wallet, wallet_type, resolved_by FROM {db:Identifier}.pm_user_proxy_wallets_v2 "
            "ORDER BY user_eoa"
        )
        records = ch.get_records("SELECT count() FROM {db:Identifier}.pm_user_proxy_wallets_v2")  # common-sql's path
    assert stored == [ROWS[0], ROWS[0], ROWS[1]]
    assert records == [(3,)]


def test_query_file_dicts_names_every_column(database):
    with ClickHouseHook() as ch:
        for name in ("schema/database.sql", "schema/proxy_table.sql"):
            ch.run_sql_file(name, {"proxy_table": "pm_user_proxy_wallets_v2"})
        ch.bulk_insert_rows("pm_user_proxy_wallets_v2", ROWS, column_names=COLUMNS)
        counts = ch.query_file_dicts("proxy/mapping_counts.sql", {"proxy_table": "pm_user_proxy_wallets_v2"})
    assert counts == [{"mappings": 2, "proxy_separated": 1, "direct": 1, "deposit": 0, "users": 2, "users_with_several": 0}]



def test_a_missing_table_on_chdb_is_not_retryable(database):
    with ClickHouseHook() as ch, pytest.raises(Exception) as missing:
        ch.query_rows("SELECT count() FROM system.no_such_table")
    assert not is_retryable(missing.value), str(missing.value)[:300]
