"""Every DDL statement of the bundle gets ON CLUSTER and a Replicated engine when a cluster is set."""

from __future__ import annotations

from clob_pipeline.cluster_ddl import ON_CLUSTER, for_cluster
from clob_pipeline.config import SQL_DIR
from clob_pipeline.sql_files import read_sql, split_statements

DDL_HEADS = ("CREATE ", "ALTER TABLE", "EXCHANGE TABLES", "RENAME TABLE", "DROP TABLE")


def bundle_statements() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(SQL_DIR)), stmt)
        for path in sorted(SQL_DIR.rglob("*.sql"))
        for stmt in split_statements(read_sql(str(path.relative_to(SQL_DIR))))
    ]


def body(statement: str) -> str:
    return "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--")).strip()


def test_every_ddl_statement_runs_on_the_cluster_with_replicated_engines():
    ddl = [(name, stmt) for name, stmt in bundle_statements() if body(stmt).startswith(DDL_HEADS)]
    assert len(ddl) >= 12  # schema files plus the swap statements
    for name, stmt in ddl:
        rewritten = for_cluster(stmt)
        assert rewritten.count(ON_CLUSTER) == 1, (name, rewritten)
        if "ENGINE = " in body(stmt) and "MergeTree" in body(stmt):
            assert "ENGINE = Replicated" in rewritten, (name, rewritten)
        if "DATABASE" in body(stmt).split("\n")[0]:
            assert "ENGINE = Atomic" in rewritten  # Atomic stays: EXCHANGE needs it


def test_queries_and_inserts_are_unchanged():
    other = [stmt for _, stmt in bundle_statements() if not body(stmt).startswith(DDL_HEADS)]
    assert other and all(for_cluster(stmt) == stmt for stmt in other)


def test_engine_rewrites():
    assert for_cluster("CREATE TABLE IF NOT EXISTS db.t (x UInt8)\nENGINE = ReplacingMergeTree(v)\nORDER BY x") == (
        f"CREATE TABLE IF NOT EXISTS db.t {ON_CLUSTER} (x UInt8)\nENGINE = ReplicatedReplacingMergeTree(v)\nORDER BY x"
    )
    assert "ENGINE = ReplicatedMergeTree\n" in for_cluster(
        "CREATE TABLE IF NOT EXISTS t\n(x UInt8)\nENGINE = MergeTree\nORDER BY x"
    )
    assert for_cluster("EXCHANGE TABLES a.b AND a.c;") == f"EXCHANGE TABLES a.b AND a.c {ON_CLUSTER};"
