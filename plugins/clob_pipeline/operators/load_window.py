"""Which table a load task writes and which seconds each wallet reads: one small policy per DAG.

Why objects and not optional arguments: a backfill and an incremental load differ in three
decisions (the target table, where a wallet's window starts, whether a promotion may move the
table under the task), and spelling them as ``None`` sentinels spread those decisions over the
operator. Each policy makes all three; the operator asks it.

- :class:`FixedWindow` (``clob_backfill``): every wallet from ``start_s`` to ``end_s`` into a named
  table (staging).
- :class:`SinceWatermark` (``clob_incremental``): into the live fills table (read from
  ``live_tables``), every wallet from its watermark minus ``overlap_s`` -- or from its oldest
  held-back CLOB trade when that is older -- or ``lookback_s`` back when it has nothing stored or no
  load of it into that table has completed (the ledger: ``state/wallet_ledger.sql``), to
  ``end_s``. It skips while a promotion or rollback pauses ingestion, and fails for a retry when the
  live table changed while it ran.

Both come from a JSON-able spec (the DAG's task kwargs): ``{"policy": "fixed", "start_s", "end_s"}``
or ``{"policy": "since_watermark", "end_s", "overlap_s", "lookback_s"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from clob_pipeline.config import STAGING_FILLS_TABLE
from clob_pipeline.fills.params import ParamError


class WalletState(NamedTuple):
    """What the target table and the ledger say about a wallet before it loads."""

    fills: int  # FINAL count
    newest_ms: int | None  # the watermark; None with nothing stored
    hold_ms: int  # oldest held-back CLOB trade the last completed load recorded; 0 = none
    synced_ms: int = 0  # newest fill the last completed load recorded (the ledger); 0 = never completed


@dataclass(frozen=True)
class FixedWindow:
    start_s: int
    end_s: int
    fills_table: str = STAGING_FILLS_TABLE

    @property
    def longest_s(self) -> int:
        """The longest window a wallet may read (for the task's timeout)."""
        return self.end_s - self.start_s

    def target(self, ch: Any, label: str) -> str:
        return self.fills_table

    def start_for(self, state: WalletState) -> int:
        return self.start_s

    def confirm_target(self, ch: Any, fills_table: str) -> None:
        """A named table cannot move under the task: nothing to check."""


@dataclass(frozen=True)
class SinceWatermark:
    end_s: int
    overlap_s: int
    lookback_s: int

    @property
    def longest_s(self) -> int:
        """The window of a wallet never synced (for the task's timeout)."""
        return self.lookback_s + self.overlap_s

    def target(self, ch: Any, label: str) -> str:
        """The live fills table; skips the task while a promotion or rollback pauses ingestion."""
        from airflow.sdk.exceptions import AirflowSkipException

        from clob_pipeline.promotion.live import ingestion_pause, live_tables

        if (pause := ingestion_pause(ch)) is not None:
            raise AirflowSkipException(f"{pause.describe()}; skipping {label}. The next run loads it from its watermark.")
        return live_tables(ch)["fills"]

    def start_for(self, state: WalletState) -> int:
        """From the wallet's last completed load (the ledger), never from the table's newest fill: a
        newest-first walk that failed part way (or a retry of it) stored its newest seconds first, so a
        window from the table's newest fill would skip everything the failed walk did not reach."""
        if not state.fills or not state.synced_ms:
            return self.end_s - self.lookback_s
        start = state.synced_ms // 1000 - self.overlap_s
        return min(start, state.hold_ms // 1000) if state.hold_ms else start

    def confirm_target(self, ch: Any, fills_table: str) -> None:
        """Fail (for a retry) when a promotion or rollback made another table live while the task ran."""
        from airflow.sdk.exceptions import AirflowException

        from clob_pipeline.promotion.live import live_tables

        if live_tables(ch)["fills"] != fills_table:
            raise AirflowException(
                f"the live fills table changed from {fills_table} while this task ran (a promotion or rollback). "
                "Fills loaded here may be in a table that is no longer live; the next run reloads them from the "
                "live table's own watermark, so nothing is lost."
            )


LoadWindow = FixedWindow | SinceWatermark


def window_policy(spec: Mapping[str, Any]) -> LoadWindow:
    """The policy a DAG's spec names; a bad spec raises ``ParamError`` naming the field and value."""
    if not isinstance(spec, Mapping):
        raise ParamError(f"the load window must be a mapping with a 'policy'; got {spec!r}")
    kind = spec.get("policy")
    fields = {"fixed": ("start_s", "end_s"), "since_watermark": ("end_s", "overlap_s", "lookback_s")}.get(str(kind))
    if fields is None:
        raise ParamError(f"window 'policy' must be 'fixed' or 'since_watermark'; got {kind!r}")
    values = {}
    for name in fields:
        value = spec.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ParamError(f"window {name!r} must be a whole number of seconds >= 0; got {value!r}")
        values[name] = value
    if kind == "fixed":
        if values["start_s"] > values["end_s"]:
            raise ParamError(f"window start_s {values['start_s']} is after end_s {values['end_s']}")
        return FixedWindow(fills_table=str(spec.get("fills_table") or STAGING_FILLS_TABLE), **values)
    return SinceWatermark(**values)
