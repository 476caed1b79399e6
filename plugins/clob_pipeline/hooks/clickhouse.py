"""ClickHouse hook: one client API for a ClickHouse server (HTTP) and embedded chDB.

Builds on the official ``apache-airflow-providers-clickhousedb`` hook, so it *is* a ``DbApiHook``
(``get_first``/``get_records`` for common-sql check operators) and reads the same connection
fields. One extra selects the embedded engine:

- server:   ``{"conn_type": "clickhouse", "host": "ch.example", "port": 8123, "login": ..., "password": ...,
  "schema": "polymarket"}``
- embedded: ``{"conn_type": "clickhouse", "schema": "polymarket", "extra": {"chdb_path": "/abs/path/chdb"}}``
  (clickhouse-connect's chDB interface, ``dsn="chdb:///abs/path"``).

``schema`` names the bundle's database (default ``polymarket``). Extra ``cluster`` (optional)
runs every DDL statement ``ON CLUSTER`` with Replicated engines (see ``cluster_ddl.py``).

Two kinds of client, so the provider's contract holds:

- ``get_client()`` is the provider's: a **new** client on the bundle's database that the caller
  closes. Inherited provider methods (``bulk_insert_rows``, and ``get_conn`` for common-sql's
  ``get_first``/``get_records``) open and close one each.
- ``shared_client()`` is this hook's own: opened on first use, kept for the task, closed by
  :meth:`close`. The helpers below (``run_sql_file``, ``query_file``, ``insert_arrow``, ...) run on
  it. It connects to ``default`` and every SQL file names ``{db:Identifier}`` explicitly, because
  the bundle's database may not exist yet when the first task runs. The hook adds ``db`` to every
  parameter set.

chDB allows one process per data folder (a second one fails with ``ChdbFolderBusyError`` naming the
holder, ``hooks/chdb_lock.py``); clients of one process share its engine. So close the hook
(``with ClickHouseHook() as ch:``) and every ``get_client()`` client as soon as a task is done with
them; tasks that use it share a one-slot pool. Closing an embedded hook first lets the database's
running merges finish (``hooks/merge_wait.py``), unless the ``with`` block is left by an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.clickhousedb.hooks.clickhouse import ClickHouseConnection
from airflow.providers.clickhousedb.hooks.clickhouse import ClickHouseHook as ProviderClickHouseHook

from clob_pipeline.cluster_ddl import for_cluster
from clob_pipeline.config import CLICKHOUSE_CONN_ID, DEFAULT_DATABASE, chdb_merge_wait_s
from clob_pipeline.hooks.chdb_lock import is_chdb_lock_error, open_error
from clob_pipeline.hooks.merge_wait import MergeWait, wait_for_merges
from clob_pipeline.sql_files import read_sql, split_statements

if TYPE_CHECKING:
    import pyarrow as pa
    from clickhouse_connect.driver.client import Client


class ClickHouseHook(ProviderClickHouseHook):
    """The bundle's ClickHouse hook (server or chDB), with helpers that run ``include/sql`` files."""

    hook_name = "ClickHouse (clob-pipeline)"

    def __init__(self, clickhouse_conn_id: str = CLICKHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(clickhouse_conn_id=clickhouse_conn_id, **kwargs)
        self._client: Client | None = None

    # --- connection --------------------------------------------------------------------------
    @cached_property
    def bundle_database(self) -> str:
        return self.database or self.connection.schema or DEFAULT_DATABASE

    @cached_property
    def chdb_path(self) -> str | None:
        path = self.connection.extra_dejson.get("chdb_path")
        if path and not os.path.isabs(path):
            raise ValueError(f"{self.get_conn_id()}: extra.chdb_path must be an absolute path; got {path!r}")
        return path or None

    @cached_property
    def cluster(self) -> str | None:
        return self.connection.extra_dejson.get("cluster") or None

    @property
    def backend(self) -> str:
        return f"chdb:{self.chdb_path}" if self.chdb_path else f"server:{self.connection.host}"

    def _get_client_kwargs(self) -> dict[str, Any]:
        kwargs = super()._get_client_kwargs()
        kwargs["database"] = self.bundle_database  # the provider's rule, with the bundle's default name
        return kwargs

    def _open_client(self, database: str) -> Client:
        import clickhouse_connect

        if self.chdb_path:
            os.makedirs(self.chdb_path, exist_ok=True)
            try:
                return clickhouse_connect.get_client(dsn=f"chdb://{self.chdb_path}", database=database)
            except Exception as err:
                if is_chdb_lock_error(err):  # busy: say who holds it, the rule, the fix; else what to check
                    raise open_error(self.chdb_path, err) from err
                raise
        return clickhouse_connect.get_client(**{**self._get_client_kwargs(), "database": database})

    def get_client(self) -> Client:
        """A new client on the bundle's database; the caller closes it (the provider's contract).

        chDB or server alike, so inherited provider methods such as ``bulk_insert_rows`` work on
        this hook. The database must exist (``ensure_schema`` creates it).
        """
        return self._open_client(self.bundle_database)

    def shared_client(self) -> Client:
        """This hook's own client, opened on first use and kept until :meth:`close`.

        On ``default``: the bundle's SQL names ``{db:Identifier}``, and its database may not exist yet.
        """
        if self._client is None:
            self._client = self._open_client("default")
        return self._client

    def get_conn(self) -> ClickHouseConnection:
        """DB-API connection for common-sql: a client of its own (``get_client``) that DbApiHook closes."""
        return ClickHouseConnection(self.get_client())

    def close(self, wait_for_merges: bool = True) -> None:
        """Close the client; an embedded engine first lets running merges finish (bounded wait)."""
        if self._client is None:
            return
        try:
            if wait_for_merges and self.chdb_path:
                self.let_merges_finish(chdb_merge_wait_s())
        finally:
            self._client.close()
            self._client = None

    def let_merges_finish(self, timeout_s: float) -> MergeWait | None:
        """Wait up to ``timeout_s`` for the database's running merges; log the wait if it was one.

        A failure to look is logged, never raised: the hook is closing and the task's outcome
        must not depend on it (a cancelled merge loses no data; it runs again later).
        """
        if timeout_s <= 0:
            return None
        try:
            wait = wait_for_merges(lambda: self.query_file("engine/running_merges.sql")[0][0], timeout_s)
        except Exception as err:  # noqa: BLE001 - see docstring
            self.log.warning("could not check running merges before closing %s: %s", self.backend, err)
            return None
        if wait.still_running:
            self.log.warning(
                "%d merge(s) still running in %s after %.1fs; closing anyway: they are cancelled and run again "
                "the next time the engine opens (no data is affected). Raise CLOB_PIPELINE_CHDB_MERGE_WAIT_S to wait longer.",
                wait.still_running,
                self.backend,
                wait.waited_s,
            )
        elif wait.running_at_start:
            self.log.info(
                "waited %.1fs for %d running merge(s) in %s before closing the engine",
                wait.waited_s,
                wait.running_at_start,
                self.backend,
            )
        return wait

    def __enter__(self) -> ClickHouseHook:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(wait_for_merges=exc_type is None)

    # --- helpers -----------------------------------------------------------------------------
    def _params(self, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
        base = {"db": self.bundle_database, "cluster": self.cluster} if self.cluster else {"db": self.bundle_database}
        return {**base, **(parameters or {})}

    def run_statements(self, sql: str, parameters: Mapping[str, Any] | None = None) -> int:
        """Run each statement of ``sql`` as a command (rewritten for the cluster, if one is set)."""
        statements = split_statements(sql)
        client = self.shared_client()
        for statement in statements:
            client.command(for_cluster(statement) if self.cluster else statement, parameters=self._params(parameters))
        return len(statements)

    def run_sql_file(self, name: str, parameters: Mapping[str, Any] | None = None) -> int:
        return self.run_statements(read_sql(name), parameters)

    def query_rows(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[tuple]:
        return self.query_result(sql, parameters).result_rows

    def query_file(self, name: str, parameters: Mapping[str, Any] | None = None) -> list[tuple]:
        return self.query_rows(read_sql(name), parameters)

    def query_result(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        """clickhouse-connect's ``QueryResult`` (``column_names``, ``result_rows``) of one statement."""
        return self.shared_client().query(sql, parameters=self._params(parameters))

    def query_file_dicts(self, name: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of an SQL file as dicts keyed by column name (the driver's ``named_results``)."""
        return list(self.query_result(read_sql(name), parameters).named_results())

    def insert_arrow(self, table: str, arrow_table: pa.Table) -> None:
        self.shared_client().insert_arrow(table, arrow_table, database=self.bundle_database)

    def insert_values(self, table: str, rows: Sequence[Sequence[Any]], column_names: Sequence[str]) -> None:
        """Rows into a bundle table through this hook's own client (a ``get_client()`` per insert is never closed)."""
        self.shared_client().insert(table, rows, column_names=list(column_names), database=self.bundle_database)

    # common-sql check operators call these with their own SQL; give them the db parameter too
    def get_first(self, sql: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return super().get_first(sql, self._params(parameters), **kwargs)

    def get_records(self, sql: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return super().get_records(sql, self._params(parameters), **kwargs)
