"""Rewrite the bundle's DDL for a ClickHouse cluster (pure; unit-tested).

The SQL files are written for one server (chDB or a single ClickHouse). When the ClickHouse
connection names a cluster (extra ``cluster``), the hook passes every statement through
:func:`for_cluster`, which
- adds ``ON CLUSTER {cluster:Identifier}`` to CREATE DATABASE / CREATE TABLE / ALTER TABLE /
  EXCHANGE TABLES / RENAME TABLE / DROP TABLE, so schema and swaps happen on every node;
- turns ``*MergeTree`` engines into their ``Replicated*MergeTree`` form with no path arguments,
  so the server's ``default_replica_path`` / ``default_replica_name`` (defaults
  ``/clickhouse/tables/{uuid}/{shard}`` and ``{replica}``) place the replicas.
Statements that are not DDL (SELECT, INSERT, lightweight DELETE) are returned unchanged.
"""

from __future__ import annotations

import re

ON_CLUSTER = "ON CLUSTER {cluster:Identifier}"

# (pattern of the statement head, at a line start) -> the head with ON CLUSTER appended
_HEADS = (
    re.compile(r"^(CREATE DATABASE IF NOT EXISTS [^\s;(]+)", re.MULTILINE),
    re.compile(r"^(CREATE TABLE IF NOT EXISTS [^\s;(]+)", re.MULTILINE),
    re.compile(r"^(ALTER TABLE [^\s;(]+)", re.MULTILINE),
    re.compile(r"^(EXCHANGE TABLES [^\s;(]+ AND [^\s;(]+)", re.MULTILINE),
    re.compile(r"^(RENAME TABLE [^\s;(]+ TO [^\s;(]+)", re.MULTILINE),
    re.compile(r"^(DROP TABLE IF EXISTS [^\s;(]+)", re.MULTILINE),
)
_ENGINE = re.compile(r"^(ENGINE\s*=\s*)(Replacing|Summing|Aggregating|Collapsing)?MergeTree\b(\(\))?", re.MULTILINE)


def for_cluster(statement: str) -> str:
    """``statement`` with ON CLUSTER and Replicated engines (unchanged if it is not DDL)."""
    for head in _HEADS:
        statement, count = head.subn(lambda m: f"{m.group(1)} {ON_CLUSTER}", statement, count=1)
        if count:
            break
    return _ENGINE.sub(lambda m: f"{m.group(1)}Replicated{m.group(2) or ''}MergeTree{m.group(3) or ''}", statement)
