"""The emulator's per-response latency: every API response waits, concurrent requests overlap."""

from __future__ import annotations

import threading
import time
import urllib.request

from conftest import Emulator


def test_latency_delays_each_response_and_requests_overlap():
    emu = Emulator(wallets=4, fills_per_wallet=5, rate_scale=0, latency_ms=300)
    spans: list[tuple[float, float]] = []

    def get(wallet: str) -> None:
        started = time.monotonic()
        with urllib.request.urlopen(f"{emu.url}/trades?user={wallet}", timeout=10) as response:
            response.read()
        spans.append((started, time.monotonic()))

    try:
        threads = [threading.Thread(target=get, args=(w,)) for w in emu.dataset.wallets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(end - start >= 0.3 for start, end in spans)  # the latency is there
        assert max(start for start, _ in spans) < min(end for _, end in spans)  # all 4 were in flight at once
        assert emu.stats()["/trades"] == 4
    finally:
        emu.stop()
