"""The audit report's charts, drawn with matplotlib as inline SVG (text as paths: the report needs no
font, script or network when it is opened). Pure: data in, SVG text out."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

# One colour per meaning, the same in every chart and in the report's tables (and what the screenshot
# test looks for): the incoming set, the current production, fills added, fills removed.
INCOMING = "#2563eb"
CURRENT = "#f59e0b"
ADDED = "#16a34a"
REMOVED = "#dc2626"
WALLETS_CHARTED = 25  # the per-wallet chart shows the wallets that change most


def _figure(height_in: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display on a worker
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, height_in), dpi=96, layout="constrained")
    return fig, fig.subplots()


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG sits inside HTML


def fills_per_day_svg(days: Sequence[Mapping[str, Any]], incoming_label: str, current_label: str) -> str:
    """Fills per UTC day of the incoming set against the current production (two lines)."""
    import datetime as dt

    from matplotlib.dates import DateFormatter
    from matplotlib.ticker import MaxNLocator

    fig, ax = _figure(3.4)
    if not days:
        ax.text(0.5, 0.5, "no fills in either set", ha="center", va="center", transform=ax.transAxes)
    else:
        x = [dt.date.fromisoformat(d["day"]) for d in days]
        marker = "o" if len(x) <= 31 else None
        ax.plot(x, [d["current"] for d in days], color=CURRENT, linewidth=2.2, marker=marker, label=current_label)
        ax.plot(x, [d["incoming"] for d in days], color=INCOMING, linewidth=1.6, marker=marker, label=incoming_label)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncol=2, frameon=False)
        if len(x) <= 14:  # else the automatic ticks would fall between days (hours)
            ax.set_xticks(x)
        ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        fig.autofmt_xdate()
    ax.set_ylabel("fills per day (UTC)")
    ax.grid(alpha=0.3)
    return _svg(fig)


def wallet_deltas_svg(wallets: Sequence[Mapping[str, Any]]) -> str:
    """Fills added (right, green) and removed (left, red) per wallet, for the wallets that change most."""
    from matplotlib.ticker import MaxNLocator

    changed = [w for w in wallets if w["added"] or w["removed"]][:WALLETS_CHARTED]
    fig, ax = _figure(max(2.0, 0.9 + 0.28 * len(changed)))
    if not changed:
        ax.text(0.5, 0.5, "no wallet gains or loses a fill", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    else:
        labels = [f"{short_wallet(w['wallet'])} ({w['status']})" for w in changed]
        y = list(range(len(changed)))[::-1]
        ax.barh(y, [w["added"] for w in changed], color=ADDED, label="fills added")
        ax.barh(y, [-w["removed"] for w in changed], color=REMOVED, label="fills removed")
        ax.set_yticks(y, labels, fontsize=8)
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncol=2, frameon=False)
    ax.set_xlabel("fills removed (left) and added (right) by the swap")
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def short_wallet(address: str) -> str:
    """``0x1234…abcd`` for a 42-character address; anything else unchanged."""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 14 else address
