"""``python -m polymarket_emulator``: serve the emulator until interrupted.

Writes the base URL to ``--url-file`` once listening, so scripts can wait for it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from polymarket_emulator import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 = any free port on 127.0.0.1")
    parser.add_argument("--url-file", type=Path, help="write the base URL here once listening")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wallets", type=int, default=12)
    parser.add_argument("--fills-per-wallet", type=int, default=300)
    parser.add_argument("--proxy-users", type=int, default=8, help="users trading from a proxy or Safe wallet")
    parser.add_argument("--deposit-users", type=int, default=3, help="users trading from a deposit wallet")
    parser.add_argument("--two-wallet-users", type=int, default=0, help="users also trading from a second wallet")
    parser.add_argument("--anchor", type=int, default=None, help="newest fill time, Unix seconds (default: now)")
    parser.add_argument("--late-fraction", type=float, default=0.02)
    parser.add_argument("--rate-scale", type=float, default=1.0, help="multiplier of the published rate limits; 0 = off")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every API response (a real round trip)")
    parser.add_argument("--chain", type=json.loads, default=None, help="JSON-RPC settings and faults (chain.ChainSettings)")
    args = parser.parse_args(argv)
    server = make_server(
        port=args.port,
        rate_scale=args.rate_scale,
        latency_ms=args.latency_ms,
        seed=args.seed,
        wallets=args.wallets,
        fills_per_wallet=args.fills_per_wallet,
        proxy_users=args.proxy_users,
        deposit_users=args.deposit_users,
        two_wallet_users=args.two_wallet_users,
        anchor_s=args.anchor,
        late_fraction=args.late_fraction,
        chain=args.chain,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.url_file:
        args.url_file.write_text(server.base_url)
    print(f"polymarket emulator listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
