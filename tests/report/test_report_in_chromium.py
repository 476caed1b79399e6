"""The audit report as on-call sees it: measured on chDB, written through the object storage, opened
in headless Chromium with the network unused. The first screen shows the verdict; both charts are
drawn (their series' colours cover real pixels of the screenshot). Screenshots are kept in
``.artefacts/`` (``CLOB_PIPELINE_TEST_ARTEFACTS``)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from browser import artefact, chromium_page, skip_without_browser

pytestmark = skip_without_browser

FIRST_SCREEN = (1280, 800)
FILLS = "INSERT INTO {db:Identifier}.%s (fill_id, proxy_wallet, size, price, timestamp) VALUES "
MAPPINGS = "INSERT INTO {db:Identifier}.%s (user_eoa, proxy_wallet, wallet_type) VALUES "
KEPT, GONE, NEW = "0x" + "1a" * 20, "0x" + "2b" * 20, "0x" + "3c" * 20


def fills(wallet: str, first: int, count: int) -> str:
    """``count`` fills of ``wallet`` with ids ``<wallet>-<n>`` from ``first``, one per day from 2026-01-01."""
    return ",".join(
        f"('{wallet}-{n}','{wallet}',{n % 7 + 1},0.5,toDateTime64('2026-01-01', 3, 'UTC') + {n} * 86400)"
        for n in range(first, first + count)
    )


@pytest.fixture()
def promotion_audit(database, monkeypatch, tmp_path):
    """Production: KEPT (fills 0-19) and GONE (12 fills); staging: KEPT (fills 5-29) and NEW (8 fills)."""
    from clob_pipeline.hooks.clickhouse import ClickHouseHook
    from clob_pipeline.promotion.audit import AuditTables, measure

    monkeypatch.setenv("CLOB_PIPELINE_REPORTS_URL", (tmp_path / "reports").as_uri())
    with ClickHouseHook() as ch:
        ch.run_sql_file("schema/database.sql")
        for fills_table, proxy_table in (("clob_fills_v2", "pm_user_proxy_wallets_v2"), ("clob_fills", "pm_user_proxy_wallets")):
            ch.run_sql_file("schema/fills_table.sql", {"fills_table": fills_table})
            ch.run_sql_file("schema/proxy_table.sql", {"proxy_table": proxy_table})
        ch.run_statements(FILLS % "clob_fills" + fills(KEPT, 0, 20) + "," + fills(GONE, 0, 12))
        ch.run_statements(FILLS % "clob_fills_v2" + fills(KEPT, 5, 25) + "," + fills(NEW, 0, 8))
        ch.run_statements(MAPPINGS % "pm_user_proxy_wallets" + f"('0xe1','{KEPT}','proxy'),('0xe2','{GONE}','safe')")
        ch.run_statements(MAPPINGS % "pm_user_proxy_wallets_v2" + f"('0xe1','{KEPT}','proxy'),('0xe3','{NEW}','safe')")
        tables = AuditTables.for_operation("promote", {"clob_fills": "", "pm_user_proxy_wallets": ""})
        return measure(ch, tables, {"check_wallets_with_fills": {"rows": 33, "wallets_with_fills": 2, "warning": False}})


def colour_pixels(png: bytes, rgb: str, tolerance: int = 40) -> int:
    """Pixels of the screenshot within ``tolerance`` (per channel) of the colour ``#rrggbb``."""
    import io

    from PIL import Image

    want = tuple(int(rgb[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for px in image.getdata() if all(abs(a - b) <= tolerance for a, b in zip(px, want)))


def test_the_report_opens_on_its_verdict_and_draws_both_charts(promotion_audit, tmp_path):
    from clob_pipeline.promotion import charts
    from clob_pipeline.promotion.report import render_report, write_report

    audit = promotion_audit
    assert audit["totals"]["removed"] == 12 + 5 and audit["totals"]["added"] == 10 + 8  # GONE, KEPT 0-4; KEPT 20-29, NEW
    url = write_report(render_report(audit, "manual__screenshot"), "clob_promotion", "manual__screenshot")
    assert urlparse(url).scheme == "file" and url.startswith((tmp_path / "reports").as_uri())

    requests: list[str] = []
    with chromium_page(str(tmp_path), *FIRST_SCREEN) as page:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url)
        first_screen = page.screenshot(path=artefact("audit-report-first-screen.png"))
        page.screenshot(path=artefact("audit-report-full.png"), full_page=True)
        verdict = page.locator("#verdict")
        box = verdict.bounding_box()
        verdict_text = verdict.inner_text()
        fills_chart = page.locator("#chart-fills-per-day svg").screenshot()
        wallet_chart = page.locator("#chart-wallet-deltas svg").screenshot()

    assert requests == [url]  # self-contained: nothing else is fetched
    assert box["y"] + box["height"] <= FIRST_SCREEN[1], box  # the verdict is on the first screen, whole
    assert verdict_text.startswith(f"REVIEW before you promote: 1 wallet(s) lose all their fills: {GONE} (12 fills,"), (
        verdict_text
    )
    assert colour_pixels(first_screen, "#b45309", tolerance=8) > 0.5 * box["width"] * box["height"]  # amber banner
    for chart, colours in ((fills_chart, (charts.INCOMING, charts.CURRENT)), (wallet_chart, (charts.ADDED, charts.REMOVED))):
        for colour in colours:
            assert colour_pixels(chart, colour) > 300, colour  # a drawn series, not a legend swatch or an empty frame
