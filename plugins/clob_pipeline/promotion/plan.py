"""The swap plan as pure data: which table moves where, in which order.

ClickHouse swaps one pair of tables atomically (``EXCHANGE TABLES`` in an Atomic database) but
not two: a multi-pair EXCHANGE or RENAME runs pair by pair. So a promotion is a list of steps, the
*visible* ones first (what readers of the production names see change), then invisible clean-up.
Every plan ends with a ``finish`` step (record the live tables, re-create empty staging), so the
journal shows an operation as finished only when ingestion can safely follow it. The journaled
executor (``swap.py``) runs the steps and can reverse the visible ones; ``position`` tells from the
catalog alone how far an interrupted operation got.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass

from clob_pipeline.config import (
    OLD_SUFFIX,
    PRODUCTION_FILLS_TABLE,
    PRODUCTION_PROXY_TABLE,
    STAGING_FILLS_TABLE,
    STAGING_PROXY_TABLE,
)


@dataclass(frozen=True)
class TableSet:
    """One role's staging, production and backup table names."""

    role: str
    staging: str
    production: str

    @property
    def old(self) -> str:
        return self.production + OLD_SUFFIX

    @property
    def names(self) -> tuple[str, str, str]:
        return (self.staging, self.production, self.old)


# Order matters: fills first, then the mapping the app joins them with.
TABLE_SETS: tuple[TableSet, ...] = (
    TableSet("fills", STAGING_FILLS_TABLE, PRODUCTION_FILLS_TABLE),
    TableSet("proxy", STAGING_PROXY_TABLE, PRODUCTION_PROXY_TABLE),
)


class SwapRefusedError(Exception):
    """The swap cannot start (missing tables); nothing was changed."""


@dataclass(frozen=True)
class Step:
    """One catalog change. ``exchange``: a <-> b; ``rename``: a -> b; ``drop``: a; ``finish``: no
    catalog change (the executor records the live tables and re-creates empty staging)."""

    seq: int
    role: str
    action: str
    table_a: str
    table_b: str = ""
    visible: bool = True

    def describe(self) -> str:
        if self.action == "finish":
            return "FINISH live tables -> production, empty staging re-created"
        arrow = {"exchange": "<->", "rename": "->", "drop": ""}[self.action]
        return f"{self.action.upper()} {self.table_a} {arrow} {self.table_b}".rstrip()

    def inverse(self) -> Step:
        """The step that undoes this one (drops are never undone: they only run after the visible steps)."""
        if self.action == "exchange":
            return self
        if self.action == "rename":
            return Step(self.seq, self.role, "rename", self.table_b, self.table_a, self.visible)
        raise ValueError(f"step {self.seq} ({self.describe()}) cannot be reversed")

    def incoming(self, pair: tuple[str, str]) -> str:
        """Of the pre-step uuids ``pair``, the one this visible step puts under the production name."""
        return pair[1] if self.table_a == PRODUCTION_OF[self.role] else pair[0]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


PRODUCTION_OF = {s.role: s.production for s in TABLE_SETS}


def finish_step(steps: list[Step]) -> Step:
    return Step(len(steps) + 1, "all", "finish", "", visible=False)


def all_table_names(sets: Collection[TableSet] = TABLE_SETS) -> list[str]:
    return [name for s in sets for name in s.names]


def plan_promotion(existing: Collection[str], sets: Collection[TableSet] = TABLE_SETS) -> list[Step]:
    """Staging becomes production; the previous production (if any) becomes ``*_old``.

    Visible steps, one per role: ``EXCHANGE staging <-> production`` when a production exists
    (atomic; staging then holds the previous production), else ``RENAME staging -> production``.
    Clean-up, per role that had a production: drop the previous ``*_old``, rename staging to ``*_old``.
    """
    missing = [s.staging for s in sets if s.staging not in existing]
    if missing:
        raise SwapRefusedError(f"nothing to promote: staging table(s) {', '.join(missing)} do not exist")
    steps: list[Step] = []
    for s in sets:
        action = "exchange" if s.production in existing else "rename"
        steps.append(Step(len(steps) + 1, s.role, action, s.staging, s.production))
    for s in sets:
        if s.production in existing:
            if s.old in existing:
                steps.append(Step(len(steps) + 1, s.role, "drop", s.old, visible=False))
            steps.append(Step(len(steps) + 1, s.role, "rename", s.staging, s.old, visible=False))
    return [*steps, finish_step(steps)]


def plan_rollback(existing: Collection[str], sets: Collection[TableSet] = TABLE_SETS) -> list[Step]:
    """``*_old`` becomes production again; the current production moves to ``*_old`` (so a second
    rollback re-does the promotion). Refused unless every role has both tables."""
    missing = [name for s in sets for name in (s.production, s.old) if name not in existing]
    if missing:
        raise SwapRefusedError(
            f"no backup to restore: {', '.join(missing)} missing. Rollback needs a previous promotion "
            "(it leaves the *_old tables); nothing was changed."
        )
    steps = [Step(i + 1, s.role, "exchange", s.production, s.old) for i, s in enumerate(sets)]
    return [*steps, finish_step(steps)]


def expected_uuids(steps: list[Step], uuids: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each step's (uuid of table_a, uuid of table_b) just before it runs, from the catalog before
    the first step. Journaled with the step, they tell a resumed run whether the step took effect."""
    current = dict(uuids)
    before: list[tuple[str, str]] = []
    for step in steps:
        ua, ub = current.get(step.table_a, ""), current.get(step.table_b, "")
        before.append((ua, ub))
        apply_step(current, step, ua, ub)
    return before


def apply_step(catalog: dict[str, str], step: Step, uuid_a: str, uuid_b: str) -> None:
    """Apply ``step`` to a name -> uuid mapping."""
    if step.action == "exchange":
        catalog[step.table_a], catalog[step.table_b] = uuid_b, uuid_a
    elif step.action == "rename":
        catalog.pop(step.table_a, None)
        catalog[step.table_b] = uuid_a
    elif step.action == "drop":
        catalog.pop(step.table_a, None)


def took_effect(step: Step, uuid_a: str, uuid_b: str, catalog: Mapping[str, str]) -> bool:
    """Whether the catalog shows ``step`` (with pre-step uuids ``uuid_a``/``uuid_b``) as done."""
    if step.action == "exchange":
        return catalog.get(step.table_a) == uuid_b and catalog.get(step.table_b) == uuid_a
    if step.action == "rename":  # staging may have been re-created since (ensure_schema): the uuid decides
        return catalog.get(step.table_b) == uuid_a
    if step.action == "drop":
        return catalog.get(step.table_a) != uuid_a
    return False


def position(steps: list[Step], uuids: list[tuple[str, str]], catalog: Mapping[str, str]) -> int | None:
    """How many of ``steps`` the catalog shows done (steps run in order), or None if it matches no point.

    The state after k steps is simulated from the journaled pre-step uuids; the catalog matches it
    when every name holds the simulated uuid, except that a name the simulation leaves free may
    hold a table foreign to the plan (``ensure_schema`` re-creates an empty staging table). The
    largest matching k wins; None means someone changed the tables by hand.
    """
    state: dict[str, str] = {}
    for step, (ua, ub) in zip(steps, uuids, strict=True):
        for name, uuid in ((step.table_a, ua), (step.table_b, ub)):
            if name and name not in state:
                state[name] = uuid
    plan_uuids = {u for pair in uuids for u in pair if u}
    names = list(state)
    state = {n: u for n, u in state.items() if u}

    def matches() -> bool:
        for name in names:
            want, have = state.get(name, ""), catalog.get(name, "")
            if want != have and (want or have in plan_uuids):
                return False
        return True

    found = 0 if matches() else None
    for k, (step, (ua, ub)) in enumerate(zip(steps, uuids, strict=True), start=1):
        if step.action == "finish":  # changes no name: never counted as seen in the catalog
            continue
        apply_step(state, step, ua, ub)
        state = {n: u for n, u in state.items() if u}
        if matches():
            found = k
    return found
