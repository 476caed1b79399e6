"""Deterministic Polymarket-like data for the emulator: users, proxy wallets, markets, fills.

Same seed and anchor -> same data, so tests can compare what the pipeline stored with exactly
what the emulator serves. It includes the awkward cases an ingester must survive:

- users whose trades run through a proxy or Safe wallet (``proxy_wallet != user_eoa``), optionally
  users of deposit wallets (``build_dataset(deposit_users=...)``: UUPS and beacon forms, the last one
  without a Gamma profile), and direct traders (the EOA trades itself); optionally users who trade
  from two wallets (``build_dataset(two_wallet_users=...)``: a Safe and a deposit wallet, or a proxy
  and the EOA itself), one entry in ``users`` per wallet;
- transactions holding several fills of one wallet, some identical in every field;
- maker and taker fills (Data API ``takerOnly=false`` returns both);
- late-arriving fills, hidden until released through the control API;
- fills older than 90 days, so the lookback Param matters;
- optionally a *burst* (``build_dataset(burst_fills=...)`` or :meth:`Dataset.add_burst`): many fills of
  one wallet in ONE second, most identical in every field, so a second can hold more fills than a page;
- fills that arrive while a client pages (:meth:`Dataset.arrive`, used by the ``shift_rows`` fault).

Every fill that is ever served is in :meth:`Dataset.visible_fills`: that is the truth tests compare with.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from clob_pipeline.proxy.derive import derive_deposit_wallets, derive_proxy_wallet, derive_safe_wallet


class EmuFill(NamedTuple):
    wallet: str
    role: str  # "taker" | "maker"
    side: str
    asset: str
    condition_id: str
    outcome: str
    outcome_index: int
    size: float
    price: float
    ts: int
    tx: str
    trade_id: str
    order_id: str
    market_title: str


class EmuUser(NamedTuple):
    user_eoa: str
    proxy_wallet: str  # equals user_eoa for a direct trader; else the CREATE2 proxy / Safe / deposit address
    wallet_type: str  # proxy | safe | deposit | direct
    name: str
    in_gamma: bool = True  # False: /public-profile answers 404 (resolvers must fall back)


class EmuMarket(NamedTuple):
    condition_id: str
    tokens: tuple[str, str]
    title: str


def _hex(rng: random.Random, nbytes: int) -> str:
    return "0x" + f"{rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


@dataclass
class Dataset:
    """All users, markets and fills; fills per wallet newest first (the Data API's order)."""

    users: list[EmuUser]
    markets: list[EmuMarket]
    anchor_s: int
    _fills: dict[str, list[EmuFill]] = field(default_factory=dict)
    _hidden: dict[str, list[EmuFill]] = field(default_factory=dict)
    _keys: dict[str, list[int]] = field(default_factory=dict)  # -ts per fill, for bisection
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=lambda: random.Random(0))

    @property
    def wallets(self) -> list[str]:
        return [u.proxy_wallet for u in self.users]

    def visible_fills(self, wallet: str) -> list[EmuFill]:
        """The wallet's currently visible fills, newest first (a snapshot; safe to iterate)."""
        return self._fills.get(wallet.lower(), [])

    def window(self, wallet: str, lo_s: int, hi_s: int) -> list[EmuFill]:
        """Visible fills with ``lo_s <= ts <= hi_s``, newest first, found by bisection (no full scan)."""
        wallet = wallet.lower()
        fills = self._fills.get(wallet, [])
        keys = self._keys.get(wallet)
        if keys is None or len(keys) != len(fills):
            keys = self._keys[wallet] = [-f.ts for f in fills]
        return fills[bisect.bisect_left(keys, -hi_s) : bisect.bisect_right(keys, -lo_s)]

    def market_window(self, lo_s: int, hi_s: int) -> list[EmuFill]:
        """Every wallet's visible fills in the window, newest first (``/trades`` without ``user``)."""
        fills = [f for wallet in self.wallets for f in self.window(wallet, lo_s, hi_s)]
        return sorted(fills, key=lambda f: -f.ts)

    def release_late(self) -> int:
        """Make every hidden (late-arriving) fill visible; return how many were released."""
        with self._lock:
            released = 0
            for wallet, hidden in self._hidden.items():
                if hidden:
                    merged = sorted(self._fills[wallet] + hidden, key=lambda f: -f.ts)
                    self._fills[wallet] = merged
                    self._keys.pop(wallet, None)
                    released += len(hidden)
                    self._hidden[wallet] = []
            return released

    def add_new_fills(
        self, per_wallet: int, ts: int | None = None, wallets: list[str] | None = None, hidden: bool = False
    ) -> int:
        """Add ``per_wallet`` fills (timestamp ``ts``, default now) to each wallet; ``hidden`` ones
        are late-arriving: invisible until :meth:`release_late`."""
        ts = int(ts if ts is not None else time.time())
        with self._lock:
            added = 0
            for wallet in wallets or self.wallets:
                new = [_make_fill(self._rng, wallet, self.markets, ts) for _ in range(per_wallet)]
                if hidden:
                    self._hidden.setdefault(wallet, []).extend(new)
                else:
                    self._fills[wallet] = sorted(new + self._fills.get(wallet, []), key=lambda f: -f.ts)
                    self._keys.pop(wallet, None)
                added += len(new)
            return added

    def _merge(self, wallet: str, new: list[EmuFill]) -> None:
        """Put ``new`` fills into the wallet's visible list (newest first; new ones first within a second).

        The list is replaced, never mutated, so a snapshot from :meth:`visible_fills` stays valid."""
        with self._lock:
            self._fills[wallet] = sorted(new + self._fills.get(wallet, []), key=lambda f: -f.ts)
            self._keys.pop(wallet, None)

    def arrive(self, wallet: str, count: int, ts: int | None = None, identical: bool = False) -> list[EmuFill]:
        """``count`` taker fills arrive for ``wallet`` now, as during a client's paging (``shift_rows``).

        ``ts`` defaults to the wallet's newest fill + 1 s, so they sort first and move every later offset
        by ``count``. Takers, so ``takerOnly=true`` requests shift too. ``identical``: one bot burst,
        ``count`` copies of one fill (same tx, asset, side, size, price, second)."""
        wallet = wallet.lower()
        if ts is None:
            newest = self._fills.get(wallet)
            ts = newest[0].ts + 1 if newest else int(time.time())
        with self._lock:
            fresh = [_make_fill(self._rng, wallet, self.markets, ts)._replace(role="taker") for _ in range(count)]
        new = fresh[:1] * count if identical else fresh
        self._merge(wallet, new)
        return new

    def add_burst(self, wallet: str, fills: int, ts: int, distinct: int = 3) -> list[EmuFill]:
        """Add ``fills`` fills for ``wallet`` all in second ``ts``, cycling over ``distinct`` contents.

        One transaction; the contents differ in asset/side/size/price and alternate taker/maker, so a bot's
        oversized second holds large multisets of identical rows, served by the Data API (``takerOnly=false``)
        and, for the CLOB key owner, by ``/data/trades`` too. Seeded by its arguments: deterministic."""
        wallet = wallet.lower()
        rng = random.Random(f"burst:{wallet}:{ts}:{fills}:{distinct}")
        tx = _hex(rng, 32)
        contents = [
            _make_fill(rng, wallet, self.markets, ts, tx=tx)._replace(role="taker" if j % 2 == 0 else "maker")
            for j in range(max(1, distinct))
        ]
        new = [contents[i % len(contents)] for i in range(fills)]
        self._merge(wallet, new)
        return new

    def summary(self) -> dict:
        return {
            "anchor_s": self.anchor_s,
            "users": [u._asdict() for u in self.users],
            "fills": {w: len(self._fills.get(w, [])) for w in self.wallets},
            "hidden": {w: len(self._hidden.get(w, [])) for w in self.wallets},
        }


def _make_fill(rng: random.Random, wallet: str, markets: list[EmuMarket], ts: int, tx: str | None = None) -> EmuFill:
    market = markets[rng.randrange(len(markets))]
    outcome_index = rng.randrange(2)
    return EmuFill(
        wallet=wallet,
        role="taker" if rng.random() < 0.6 else "maker",
        side="BUY" if rng.random() < 0.55 else "SELL",
        asset=market.tokens[outcome_index],
        condition_id=market.condition_id,
        outcome=("Yes", "No")[outcome_index],
        outcome_index=outcome_index,
        size=round(rng.uniform(1, 500), 2),
        price=round(rng.uniform(0.01, 0.99), 3),
        ts=ts,
        tx=tx or _hex(rng, 32),
        trade_id=f"{rng.getrandbits(128):032x}",
        order_id=_hex(rng, 32),
        market_title=market.title,
    )


def build_dataset(
    seed: int = 7,
    wallets: int = 12,
    fills_per_wallet: int = 300,
    anchor_s: int | None = None,
    history_days: int = 200,
    proxy_users: int = 8,
    deposit_users: int = 0,
    two_wallet_users: int = 0,
    late_fraction: float = 0.02,
    burst_fills: int = 0,
    burst_distinct: int = 3,
    burst_wallet: int = 0,
    burst_ts: int | None = None,
) -> Dataset:
    """Generate the data set. ``anchor_s`` (default: now, floored to the hour) is the newest time.

    ``burst_fills`` > 0 adds a burst (see :meth:`Dataset.add_burst`) to wallet number ``burst_wallet``
    (0 = the emulated CLOB key owner) at ``burst_ts`` (default: one hour before the anchor); it draws
    from its own seed, so the rest of the data set is the same with or without it.

    ``deposit_users``: the users after the ``proxy_users`` trade from a deposit wallet (alternately its
    UUPS and its beacon form); the last of them has no Gamma profile. They take the place of direct
    traders and draw nothing from the random stream, so every fill is the same with or without them.

    ``two_wallet_users``: that many users also trade from a second wallet Gamma does not name (see
    :func:`_second_wallets`): one more entry in ``users`` each (same EOA and name), appended last, with
    fills from a seed of their own, so everything else is the same with or without them."""
    rng = random.Random(seed)
    anchor = int(anchor_s if anchor_s is not None else time.time() // 3600 * 3600)
    markets = [
        EmuMarket(_hex(rng, 32), (str(rng.getrandbits(252)), str(rng.getrandbits(252))), f"Emulated market {i}")
        for i in range(40)
    ]
    users = []
    for i in range(wallets):
        eoa = _hex(rng, 20)
        if i < proxy_users:
            kind = "proxy" if i % 2 == 0 else "safe"
            wallet = derive_proxy_wallet(eoa) if kind == "proxy" else derive_safe_wallet(eoa)
            # the last proxy user has no Gamma profile: only the CREATE2 fallback finds it
            users.append(EmuUser(eoa, wallet, kind, f"user{i}", in_gamma=i != proxy_users - 1))
        elif i < proxy_users + deposit_users:
            j = i - proxy_users  # even: the UUPS form, odd: the beacon form; the last one only by CREATE2
            wallet = derive_deposit_wallets(eoa)[j % 2]
            users.append(EmuUser(eoa, wallet, "deposit", f"user{i}", in_gamma=j != deposit_users - 1))
        else:
            users.append(EmuUser(eoa, eoa, "direct", f"user{i}"))
    dataset = Dataset(users=users, markets=markets, anchor_s=anchor, _rng=random.Random(seed + 1))
    oldest = anchor - history_days * 86_400
    for user in users:
        history = _history(rng, user.proxy_wallet, markets, oldest, anchor, fills_per_wallet, late_fraction)
        dataset._fills[user.proxy_wallet], dataset._hidden[user.proxy_wallet] = history
    for second in _second_wallets(users, two_wallet_users):
        users.append(second)  # after every first wallet's history: their fills are the same without these
        rng_second = random.Random(f"second:{second.proxy_wallet}")
        history = _history(rng_second, second.proxy_wallet, markets, oldest, anchor, fills_per_wallet, late_fraction)
        dataset._fills[second.proxy_wallet], dataset._hidden[second.proxy_wallet] = history
    if burst_fills > 0:
        ts = burst_ts if burst_ts is not None else anchor - 3600
        dataset.add_burst(users[burst_wallet].proxy_wallet, burst_fills, ts, burst_distinct)
    return dataset


def _history(
    rng: random.Random, wallet: str, markets: list[EmuMarket], oldest: int, anchor: int, n: int, late_fraction: float
) -> tuple[list[EmuFill], list[EmuFill]]:
    """One wallet's fills (visible, late-arriving), newest first, drawn from ``rng``."""
    stamps = sorted((rng.randint(oldest, anchor - 60) for _ in range(n)), reverse=True)
    fills: list[EmuFill] = []
    hidden: list[EmuFill] = []
    for ts in stamps:
        roll = rng.random()
        if fills and roll < 0.01:
            fill = fills[-1]  # an identical second fill in the same transaction
        elif fills and roll < 0.06:
            prev = fills[-1]
            fill = _make_fill(rng, wallet, markets, prev.ts, tx=prev.tx)  # same tx, other fill
        else:
            fill = _make_fill(rng, wallet, markets, ts)
        (hidden if rng.random() < late_fraction else fills).append(fill)
    return fills, hidden


def _second_wallets(users: list[EmuUser], count: int) -> list[EmuUser]:
    """``count`` second wallets of users Gamma profiles (and names their first wallet): alternately a
    Safe user's deposit wallet (its UUPS form; an account that later got a deposit wallet for API
    trading) and a proxy user's EOA trading itself. Gamma never names the second wallet. The CLOB key
    owner (user 0) is left alone."""
    safes = [u for u in users if u.wallet_type == "safe" and u.in_gamma]
    proxies = [u for u in users[1:] if u.wallet_type == "proxy" and u.in_gamma]
    wanted = ((count + 1) // 2, count // 2)
    if wanted[0] > len(safes) or wanted[1] > len(proxies):
        raise ValueError(
            f"two_wallet_users={count} needs {wanted[0]} Safe and {wanted[1]} proxy users with a Gamma profile; "
            f"the data set has {len(safes)} and {len(proxies)} (raise proxy_users)"
        )
    seconds = []
    for j in range(count):
        first = (safes if j % 2 == 0 else proxies)[j // 2]
        if j % 2 == 0:
            seconds.append(EmuUser(first.user_eoa, derive_deposit_wallets(first.user_eoa)[0], "deposit", first.name, False))
        else:
            seconds.append(EmuUser(first.user_eoa, first.user_eoa, "direct", first.name, False))
    return seconds
