"""The Polymarket hooks against the emulator over real HTTP: paging, 429, 5xx, 401, bad JSON."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from clob_pipeline.fills.pagers import ClobPager, DataApiPager, DataApiV2Pager, ForeignRowsError
from clob_pipeline.hooks.polymarket import PolymarketApiError, PolymarketClobHook, PolymarketDataApiHook


def drive(pager: Any, hook: Any) -> list[Any]:
    rows: list[Any] = []
    while (request := pager.next_request()) is not None:
        rows += pager.feed(hook.get_json(request.endpoint, request.params)).rows
    return rows


def test_data_api_pager_reads_past_the_offset_cap_through_the_hook(emulator_factory):
    emu = emulator_factory(wallets=2, fills_per_wallet=12_500, late_fraction=0, rate_scale=0, extra={"page_size": 2000})
    wallet = emu.dataset.wallets[0]
    hook = PolymarketDataApiHook()
    pager = DataApiPager.for_task(hook, hook.page_size)(wallet, 1, 2_000_000_000)
    assert pager.served_size == 2000  # learned from one market-wide page
    rows = drive(pager, hook)
    seen = Counter((r["transactionHash"], r["asset"], r["size"], r["price"], r["timestamp"]) for r in rows)
    assert seen == Counter((f.tx, f.asset, f.size, f.price, f.ts) for f in emu.dataset.visible_fills(wallet))
    assert hook.stats.requests == 1 + 7  # the probe, then one request per page of complete seconds
    assert "page_size" not in hook.get_conn().headers  # tuning extras never become headers


def test_data_api_v2_pager_walks_the_cursor_through_the_hook_in_1000_row_pages(emulator_factory):
    emu = emulator_factory(wallets=2, fills_per_wallet=12_500, late_fraction=0, rate_scale=0)
    wallet = emu.dataset.wallets[0]
    hook = PolymarketDataApiHook()
    rows = drive(DataApiV2Pager(wallet, 1, 2_000_000_000, hook.page_size), hook)
    seen = Counter((r["transaction_hash"], r["token_id"], r["size"], r["price"], r["timestamp"]) for r in rows)
    assert seen == Counter((f.tx, f.asset, f.size, f.price, f.ts) for f in emu.dataset.visible_fills(wallet))
    assert hook.stats.requests == 13 == emu.stats()["/v2/trades"]  # 12,500 fills, 1,000 per page, no probe


def test_a_v2_error_names_its_parameter_and_is_not_retried(emulator):
    hook = PolymarketDataApiHook()
    with pytest.raises(PolymarketApiError, match="HTTP 400") as err:
        hook.get_json("/v2/trades", {"user": emulator.dataset.wallets[0], "cursor": "forged.0000"})
    assert (err.value.status, err.value.parameter, hook.stats.requests) == (400, "cursor", 1)


def test_has_trades_asks_v2_and_refuses_rows_of_another_wallet(emulator):
    hook = PolymarketDataApiHook()
    assert hook.has_trades(emulator.dataset.wallets[0]) and not hook.has_trades("0x" + "12" * 20)
    emulator.post("/__emulator/paging", {"drop_user_filter": True})
    with pytest.raises(ForeignRowsError, match="other wallets"):
        hook.has_trades("0x" + "12" * 20)
    assert emulator.stats()["/v2/trades"] == 3 and not emulator.stats().get("/trades")


def test_v2_shares_the_trades_budget_unless_the_connection_gives_it_one(emulator_factory):
    emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0, extra={"rate_limit_requests": 7})
    hook = PolymarketDataApiHook()
    assert hook._limiter("/v2/trades") is hook._limiter("/trades") and hook._limiter("/trades").max_requests == 7
    emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0, extra={"rate_limits": {"/v2/trades": [1000, 10]}})
    hook = PolymarketDataApiHook()
    assert hook._limiter("/v2/trades") is not hook._limiter("/trades")
    assert (hook._limiter("/v2/trades").max_requests, hook._limiter("/trades").max_requests) == (1000, 200)


def test_retry_waits_honour_retry_after_and_the_shared_429_pause(emulator_factory):
    emu = emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0, extra={"backoff_base_s": 0.01, "backoff_cap_s": 0.05})
    wallet = emu.dataset.wallets[0]
    hook = PolymarketDataApiHook()
    slept: list[float] = []
    hook._sleep = slept.append  # tenacity's sleeps between attempts, recorded instead of slept
    paused: list[float] = []
    limiter = hook._limiter("/trades")
    pause = limiter.pause
    limiter.pause = lambda seconds: (paused.append(seconds), pause(0))  # the budget's shared pause
    emu.post("/__emulator/faults", [{"path": "/trades", "status": 503, "retry_after": 3, "count": 1}])
    assert isinstance(hook.get_json("/trades", {"user": wallet}), list)
    assert slept == [3.0] and paused == []  # a 503's Retry-After is waited for by this request
    emu.post("/__emulator/faults", [{"path": "/trades", "status": 429, "retry_after": 2, "count": 1}])
    assert isinstance(hook.get_json("/trades", {"user": wallet}), list)
    assert slept == [3.0, 0.0] and paused == [2.0]  # a 429 pauses the whole budget instead
    emu.post("/__emulator/faults", [{"path": "/trades", "status": 502, "count": 2}])
    assert isinstance(hook.get_json("/trades", {"user": wallet}), list)
    assert len(slept) == 4 and all(0.01 <= s <= 0.06 for s in slept[2:])  # jittered backoff, capped
    assert hook.stats.retries == 4


def test_public_hooks_send_no_auth_and_each_session_has_its_own_pool(emulator_factory):
    import json
    import os

    emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0)
    conn = json.loads(os.environ["AIRFLOW_CONN_POLYMARKET_DATA_API"])
    os.environ["AIRFLOW_CONN_POLYMARKET_DATA_API"] = json.dumps({**conn, "login": "someone", "password": "secret"})
    try:
        hook = PolymarketDataApiHook()
        first, second = hook.get_conn(), hook.get_conn()
    finally:
        os.environ["AIRFLOW_CONN_POLYMARKET_DATA_API"] = json.dumps(conn)
    assert first.auth is None and second.auth is None  # no Basic auth although the connection has a login
    assert first.get_adapter("http://x") is not second.get_adapter("http://x")
    assert type(PolymarketClobHook().get_conn().auth).__name__ == "ClobL2Auth"


def test_429_is_retried_after_retry_after(emulator):
    wallet = emulator.dataset.wallets[0]
    emulator.post("/__emulator/faults", {"path": "/trades", "status": 429, "retry_after": 0.2, "count": 2})
    hook = PolymarketDataApiHook()
    rows = hook.get_json("/trades", {"user": wallet})
    assert isinstance(rows, list) and hook.stats.retries == 2


def test_5xx_then_success_and_persistent_5xx_fails_clearly(emulator_factory):
    emu = emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0, extra={"max_attempts": 3, "backoff_base_s": 0.01})
    wallet = emu.dataset.wallets[0]
    emu.post("/__emulator/faults", {"path": "/trades", "status": 502, "count": 2})
    assert isinstance(PolymarketDataApiHook().get_json("/trades", {"user": wallet}), list)
    emu.post("/__emulator/faults", {"path": "/trades", "status": 500, "count": 5})
    with pytest.raises(PolymarketApiError, match=r"failed 3 times; last: HTTP 500.*retried by Airflow"):
        PolymarketDataApiHook().get_json("/trades", {"user": wallet})


def test_malformed_json_is_retried(emulator_factory):
    emu = emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0, extra={"backoff_base_s": 0.01})
    emu.post("/__emulator/faults", {"path": "/trades", "kind": "malformed", "count": 1})
    hook = PolymarketDataApiHook()
    assert isinstance(hook.get_json("/trades", {"user": emu.dataset.wallets[0]}), list) and hook.stats.retries == 1


def test_bad_request_is_not_retried(emulator):
    hook = PolymarketDataApiHook()
    with pytest.raises(PolymarketApiError, match="HTTP 400.*Not retryable") as err:
        hook.get_json("/trades", {"user": "0x123"})
    assert err.value.status == 400 and hook.stats.requests == 1


def test_clob_hook_signs_every_page_and_reads_all_owner_trades(emulator):
    funder = emulator.server.state.clob.funder
    hook = PolymarketClobHook()
    rows = drive(ClobPager(funder, 1, 2_000_000_000, span_s=2_000_000_000), hook)
    assert hook.stats.requests >= 2  # 150 fills, 100 per page
    assert len(rows) == len(emulator.dataset.visible_fills(funder))


def test_clob_hook_with_a_wrong_secret_gets_a_clear_401(emulator, monkeypatch):
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_POLYMARKET_CLOB"])
    conn["password"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    monkeypatch.setenv("AIRFLOW_CONN_POLYMARKET_CLOB", json.dumps(conn))
    with pytest.raises(PolymarketApiError, match="HTTP 401.*credentials") as err:
        drive(ClobPager(emulator.server.state.clob.funder, 1, 2_000_000_000), PolymarketClobHook())
    assert "AAAAAAAA" not in str(err.value)  # the secret is never echoed


def test_gamma_profile_found_404_429_and_5xx(emulator_factory):
    from clob_pipeline.hooks.polymarket import PolymarketGammaHook

    emu = emulator_factory(
        wallets=4, proxy_users=2, fills_per_wallet=5, rate_scale=0, extra={"max_attempts": 2, "backoff_base_s": 0.01}
    )
    proxy_user = next(u for u in emu.dataset.users if u.wallet_type != "direct" and u.in_gamma)
    direct_user = next(u for u in emu.dataset.users if u.wallet_type == "direct")
    hook = PolymarketGammaHook()
    assert hook.get_public_profile(proxy_user.user_eoa)["proxyWallet"] == proxy_user.proxy_wallet
    assert hook.get_public_profile(direct_user.user_eoa) is None  # 404 = no profile
    emu.post("/__emulator/faults", {"path": "/public-profile", "status": 429, "retry_after": 0.1, "count": 1})
    assert hook.get_public_profile(proxy_user.user_eoa)["proxyWallet"] == proxy_user.proxy_wallet
    emu.post("/__emulator/faults", {"path": "/public-profile", "status": 502, "count": 2})
    with pytest.raises(PolymarketApiError, match="public-profile.*HTTP 502"):
        hook.get_public_profile(proxy_user.user_eoa)
