"""The swap plan (pure): which steps, in which order, and how a resumed run recognises done steps."""

from __future__ import annotations

import pytest

from clob_pipeline.promotion.plan import (
    SwapRefusedError,
    apply_step,
    expected_uuids,
    plan_promotion,
    plan_rollback,
    position,
    took_effect,
)

FINISH = "FINISH live tables -> production, empty staging re-created"
CATALOG = {"clob_fills_v2": "S1", "clob_fills": "P1", "clob_fills_old": "O1", "pm_user_proxy_wallets_v2": "S2",
           "pm_user_proxy_wallets": "P2", "pm_user_proxy_wallets_old": "O2"}  # fmt: skip

STAGING = {"clob_fills_v2", "pm_user_proxy_wallets_v2"}
PRODUCTION = {"clob_fills", "pm_user_proxy_wallets"}
OLD = {"clob_fills_old", "pm_user_proxy_wallets_old"}


def test_first_promotion_renames_staging_into_production():
    steps = plan_promotion(STAGING)
    assert [s.describe() for s in steps] == [
        "RENAME clob_fills_v2 -> clob_fills",
        "RENAME pm_user_proxy_wallets_v2 -> pm_user_proxy_wallets",
        FINISH,
    ]
    assert [s.visible for s in steps] == [True, True, False]


def test_later_promotion_exchanges_then_parks_the_previous_production_as_old():
    steps = plan_promotion(STAGING | PRODUCTION | OLD)
    assert [(s.describe(), s.visible) for s in steps] == [
        ("EXCHANGE clob_fills_v2 <-> clob_fills", True),
        ("EXCHANGE pm_user_proxy_wallets_v2 <-> pm_user_proxy_wallets", True),
        ("DROP clob_fills_old", False),
        ("RENAME clob_fills_v2 -> clob_fills_old", False),
        ("DROP pm_user_proxy_wallets_old", False),
        ("RENAME pm_user_proxy_wallets_v2 -> pm_user_proxy_wallets_old", False),
        (FINISH, False),
    ]


def test_promotion_without_staging_and_rollback_without_backup_are_refused():
    with pytest.raises(SwapRefusedError, match="pm_user_proxy_wallets_v2"):
        plan_promotion({"clob_fills_v2"})
    with pytest.raises(SwapRefusedError, match="clob_fills_old, pm_user_proxy_wallets_old missing"):
        plan_rollback(STAGING | PRODUCTION)


def test_rollback_exchanges_production_with_old():
    assert [s.describe() for s in plan_rollback(PRODUCTION | OLD)] == [
        "EXCHANGE clob_fills <-> clob_fills_old",
        "EXCHANGE pm_user_proxy_wallets <-> pm_user_proxy_wallets_old",
        FINISH,
    ]


def test_expected_uuids_let_a_resumed_run_tell_done_from_not_done():
    catalog = CATALOG
    steps = [s for s in plan_promotion(catalog) if s.action != "finish"]
    before = expected_uuids(steps, catalog)
    assert before[0] == ("S1", "P1") and before[3] == ("P1", "")  # step 4 renames what step 1 moved to staging
    live = dict(catalog)
    for step, pair in zip(steps, before, strict=True):
        assert not took_effect(step, *pair, live)
        apply_step(live, step, *pair)
        assert took_effect(step, *pair, live)
    assert live == {"clob_fills": "S1", "clob_fills_old": "P1", "pm_user_proxy_wallets": "S2", "pm_user_proxy_wallets_old": "P2"}


def test_every_visible_step_has_an_inverse_that_restores_the_catalog():
    catalog = {"clob_fills_v2": "S", "clob_fills": "P", "pm_user_proxy_wallets_v2": "S2"}
    steps = plan_promotion(catalog)
    visible = [(step, pair) for step, pair in zip(steps, expected_uuids(steps, catalog), strict=True) if step.visible]
    assert len(visible) == 2
    for step, pair in visible:
        live = dict(catalog)
        apply_step(live, step, *pair)
        assert live != catalog
        inverse = step.inverse()
        apply_step(live, inverse, live.get(inverse.table_a, ""), live.get(inverse.table_b, ""))
        assert live == catalog, step.describe()


@pytest.mark.parametrize("catalog", [CATALOG, {"clob_fills_v2": "S1", "pm_user_proxy_wallets_v2": "S2"}])
def test_position_finds_how_far_an_interrupted_operation_got(catalog):
    steps = plan_promotion(catalog)
    before = expected_uuids(steps, catalog)
    live = dict(catalog)
    assert position(steps, before, live) == 0
    for k, (step, pair) in enumerate(zip(steps, before, strict=True), start=1):
        if step.action == "finish":
            break
        apply_step(live, step, *pair)
        assert position(steps, before, live) == k, step.describe()
        # ensure_schema re-creating an empty staging table (a uuid foreign to the plan) changes nothing
        fresh = {**live, **{name: "NEW" for name in ("clob_fills_v2", "pm_user_proxy_wallets_v2") if name not in live}}
        assert position(steps, before, fresh) == k, step.describe()


def test_position_is_none_when_the_tables_were_changed_by_hand():
    steps = plan_promotion(CATALOG)
    before = expected_uuids(steps, CATALOG)
    assert position(steps, before, {**CATALOG, "clob_fills": "S1", "clob_fills_v2": "X"}) is None  # staging replaced
    assert position(steps, before, {k: v for k, v in CATALOG.items() if k != "clob_fills"}) is None  # production dropped


def test_incoming_is_the_table_that_becomes_production():
    promote = plan_promotion(CATALOG)
    rollback = plan_rollback(CATALOG)
    assert promote[0].incoming(("S1", "P1")) == "S1"
    assert rollback[0].incoming(("P1", "O1")) == "O1"
