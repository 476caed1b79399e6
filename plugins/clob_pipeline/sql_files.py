"""Read the bundle's SQL files from ``include/sql`` (every statement the pipeline runs lives there)."""

from __future__ import annotations

import re
from functools import cache

from clob_pipeline.config import SQL_DIR

_COMMENT_LINE = re.compile(r"^\s*--.*$", re.MULTILINE)


@cache
def read_sql(name: str) -> str:
    """Text of ``include/sql/<name>``; a clear error names the folder when a file is missing."""
    path = (SQL_DIR / name).resolve()
    if SQL_DIR not in path.parents:
        raise ValueError(f"SQL file {name!r} resolves outside {SQL_DIR}")
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {name!r} not found under {SQL_DIR} (set CLOB_PIPELINE_SQL_DIR if include/ moved)")
    return path.read_text()


def split_statements(sql: str) -> list[str]:
    """Split a file on ``;`` at line ends. Our files keep no ``;`` inside literals."""
    statements = []
    for chunk in re.split(r";\s*(?:\n|$)", sql):
        if _COMMENT_LINE.sub("", chunk).strip():
            statements.append(chunk.strip())
    return statements
