"""The hook's shared budget over real HTTP: one state file per host and endpoint, 429 pauses, threads."""

from __future__ import annotations

import threading
import time

from clob_pipeline.hooks.polymarket import PolymarketDataApiHook, PolymarketGammaHook
from clob_pipeline.hooks.throttle import FileSlotStore, MemorySlotStore


def _paused(store: FileSlotStore) -> bool:
    """Whether the shared state holds a pause that is still running (waiting on the emulator's
    fault counter raced the victim's write of the pause on a loaded machine)."""
    with store.locked() as state:
        return bool(state.get("pause")) and state["pause"][1] > time.time()


def test_a_429_pauses_the_other_hooks_sharing_the_budget(emulator_factory, tmp_path):
    emu = emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0, extra={"rate_limit_dir": str(tmp_path)})
    wallet = emu.dataset.wallets[0]
    emu.post("/__emulator/faults", {"path": "/trades", "status": 429, "retry_after": 2, "count": 1})
    victim, bystander = PolymarketDataApiHook(), PolymarketDataApiHook()  # as two tasks would have
    thread = threading.Thread(target=victim.get_json, args=("/trades", {"user": wallet}))
    thread.start()
    budget = bystander._limiter("/trades").store  # the state file both hooks share
    deadline = time.monotonic() + 30
    while not _paused(budget):  # the victim has its 429 and has paused the shared budget
        assert time.monotonic() < deadline, "the victim never paused the shared budget"
        time.sleep(0.01)
    bystander.get_json("/trades", {"user": wallet})
    thread.join()
    assert victim.stats.responses_429 == 1 and victim.stats.retries == 1
    # The bystander never saw a 429 but waited for the victim's Retry-After (2 s) in the limiter.
    assert bystander.stats.responses_429 == 0 and bystander.stats.throttled_s > 1.0


def test_one_state_file_per_endpoint_and_split_or_private_budgets(emulator_factory, tmp_path):
    emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0, extra={"rate_limit_dir": str(tmp_path), "rate_limit_split": 4})
    data_api, gamma = PolymarketDataApiHook(), PolymarketGammaHook()
    trades, profile = data_api._limiter("/trades"), gamma._limiter("/public-profile")
    assert isinstance(trades.store, FileSlotStore) and trades.store.path.parent == tmp_path
    assert trades.store.path != profile.store.path
    assert PolymarketDataApiHook()._limiter("/trades").store.path == trades.store.path  # same host + endpoint
    assert trades.max_requests == 200 // 4 and data_api.budget_per_s == 5.0  # published 200 per 10 s, split 4 ways
    emulator_factory(wallets=1, fills_per_wallet=5, rate_scale=0, extra={"rate_limit_shared": "false"})
    assert isinstance(PolymarketDataApiHook()._limiter("/trades").store, MemorySlotStore)


def test_one_hook_serves_many_threads_with_a_session_each(emulator_factory, tmp_path):
    emu = emulator_factory(wallets=4, fills_per_wallet=5, rate_scale=0, extra={"rate_limit_dir": str(tmp_path)})
    hook = PolymarketDataApiHook()
    sessions, results, per_thread = [], [], []

    def work(wallet: str) -> None:
        for _ in range(5):
            results.append(len(hook.get_json("/trades", {"user": wallet, "takerOnly": "false"})))
        sessions.append(hook._setup())
        per_thread.append(hook.thread_stats.requests)

    threads = [threading.Thread(target=work, args=(w,)) for w in emu.dataset.wallets for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40 and hook.stats.requests == 40 and per_thread == [5] * 8
    assert len({id(s) for s in sessions}) == 8
    assert len({id(s.get_adapter(emu.url)) for s in sessions}) == 8  # a connection pool each, not one of 10 for all
    hook.close()
