"""How long one load task may run: a bound derived from its work, so no API behaviour can hold a worker for ever.

Why a bound and not "as long as it takes": every pager proves progress with each response
(``fills/pagers.ProgressGuard``), but a walk that progresses very slowly, a hung socket the hook keeps
retrying, or a hole in that reasoning must still end. Airflow's ``execution_timeout`` ends the task;
its retry resumes from the checkpoints, so a legitimate but long load loses nothing.

The bound is generous on purpose: it allows ``PAGES_PER_WALLET_DAY`` pages (up to 20,000 fills at
1,000 per page) per wallet and day of window, at the source's published rate budget, twice over, plus
``FLOOR_S`` for start-up, state reads and the tail. It never goes below ``FLOOR_S`` (30 min) nor above
``CAP_S`` (24 h: an all-history backfill of a batch of wallets hits it; its retries resume).
"""

from __future__ import annotations

import math
from datetime import timedelta

FLOOR_S = 30 * 60
CAP_S = 24 * 3600
PAGES_PER_WALLET_DAY = 20
REQUESTS_PER_WALLET = 4  # the walk's first and last pages, a restart, a probe
SLACK = 2.0


def load_timeout(wallets: int, window_s: int, requests_per_s: float) -> timedelta:
    """The ``execution_timeout`` of a task loading ``wallets`` wallets over a window of ``window_s``
    seconds from a source allowing ``requests_per_s`` requests per second."""
    if wallets < 0 or window_s < 0 or requests_per_s <= 0:
        raise ValueError(
            f"load_timeout needs wallets >= 0, window_s >= 0, requests_per_s > 0; got {wallets}, {window_s}, {requests_per_s}"
        )
    days = max(1, math.ceil(window_s / 86_400))
    requests = wallets * (REQUESTS_PER_WALLET + PAGES_PER_WALLET_DAY * days)
    seconds = FLOOR_S + SLACK * requests / requests_per_s
    return timedelta(seconds=min(CAP_S, max(FLOOR_S, seconds)))
