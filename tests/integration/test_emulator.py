"""The emulator follows the documented contract (it is what the demo and the other tests trust)."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request

import pytest

from polymarket_emulator import DEMO_CLOB_ADDRESS, DEMO_CLOB_API_KEY, DEMO_CLOB_PASSPHRASE, DEMO_CLOB_SECRET
from polymarket_emulator.server import hmac_signature


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], object]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.load(err)


def signed(ts: int | None = None, secret: str = DEMO_CLOB_SECRET) -> dict[str, str]:
    ts = ts or int(time.time())
    return {
        "POLY_ADDRESS": DEMO_CLOB_ADDRESS,
        "POLY_API_KEY": DEMO_CLOB_API_KEY,
        "POLY_PASSPHRASE": DEMO_CLOB_PASSPHRASE,
        "POLY_TIMESTAMP": str(ts),
        "POLY_SIGNATURE": hmac_signature(secret, str(ts), "GET", "/data/trades"),
    }


def test_data_api_trades_shape_order_and_taker_only_default(emulator):
    wallet = emulator.dataset.wallets[0]
    status, _, rows = get(f"{emulator.url}/trades?user={wallet}&takerOnly=false&start=1&limit=10000")
    assert status == 200 and isinstance(rows, list)
    assert len(rows) == len(emulator.dataset.visible_fills(wallet))
    assert [r["timestamp"] for r in rows] == sorted((r["timestamp"] for r in rows), reverse=True)
    assert isinstance(rows[0]["size"], float | int) and rows[0]["proxyWallet"] == wallet
    _, _, taker_rows = get(f"{emulator.url}/trades?user={wallet}&start=1&limit=10000")
    assert 0 < len(taker_rows) < len(rows)


def test_data_api_rejects_offsets_past_the_cap_and_bad_users(emulator):
    wallet = emulator.dataset.wallets[0]
    assert get(f"{emulator.url}/trades?user={wallet}&offset=10001")[0] == 400
    assert get(f"{emulator.url}/trades?user=0x123")[0] == 400
    status, _, rows = get(f"{emulator.url}/trades?user={wallet}&takerOnly=false&start=1&limit=99999")
    assert status == 200 and len(rows) == len(emulator.dataset.visible_fills(wallet))  # clamped, not refused


def test_clob_requires_a_valid_l2_signature(emulator):
    url = f"{emulator.url}/data/trades"
    assert get(url)[0] == 401
    assert get(url, {"Authorization": "Bearer " + DEMO_CLOB_API_KEY})[0] == 401
    assert get(url, signed(secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))[0] == 401
    assert get(url, signed(ts=int(time.time()) - 3600))[0] == 401  # stale timestamp
    status, _, body = get(url, signed())
    assert status == 200 and body["next_cursor"] in ("LTE=", base64.b64encode(b"100").decode())


def test_clob_cursor_pages_until_lte(emulator):
    seen, cursor = 0, "MA=="
    for _ in range(100):
        _, _, body = get(f"{emulator.url}/data/trades?next_cursor={cursor}", signed())
        seen += body["count"]
        cursor = body["next_cursor"]
        if cursor == "LTE=":
            break
    assert seen == len(emulator.dataset.visible_fills(emulator.server.state.clob.funder))


def test_rate_limit_returns_429_with_retry_after(emulator_factory):
    emu = emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0.005)  # /trades: 1 per 10 s
    wallet = emu.dataset.wallets[0]
    assert get(f"{emu.url}/trades?user={wallet}")[0] == 200
    status, headers, body = get(f"{emu.url}/trades?user={wallet}")
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 10 and body == {"error": "Too Many Requests"}


@pytest.mark.parametrize(("fault", "expect"), [({"status": 503}, 503), ({"kind": "malformed"}, "malformed")])
def test_injected_faults_fire_once(emulator, fault, expect):
    wallet = emulator.dataset.wallets[0]
    emulator.post("/__emulator/faults", {"path": "/trades", "count": 1, **fault})
    request = urllib.request.Request(f"{emulator.url}/trades?user={wallet}")
    if expect == "malformed":
        with urllib.request.urlopen(request) as response:
            with pytest.raises(json.JSONDecodeError):
                json.loads(response.read())
    else:
        assert get(request.full_url)[0] == expect
    assert get(request.full_url)[0] == 200


def test_late_fills_appear_only_after_release(emulator_factory):
    emu = emulator_factory(wallets=2, fills_per_wallet=200, late_fraction=0.1, rate_scale=0)
    before = sum(len(emu.dataset.visible_fills(w)) for w in emu.dataset.wallets)
    released = emu.post("/__emulator/release-late", {})["released"]
    assert released > 0
    assert sum(len(emu.dataset.visible_fills(w)) for w in emu.dataset.wallets) == before + released
