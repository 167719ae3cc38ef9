"""A real browser (Debian's chromium via Playwright) on the retention page of a live
``kundresa serve``: the cohort triangle heat map draws (Plotly from the installed package),
every cell's percentage and the weighted mean row equal the library's RetentionResult for
the same parameters, and the page reads in English, Swedish and Norwegian. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kundresa import Workspace
from kundresa.loyalty import retention
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import LiveServer
from tests.test_server_browser import PASSWORD, Page, _require_chromium, logged_in

QUERY = "?period=week&periods=6&reference=cohort"
TITLES = {"en": "Retention", "sv": "Återkomst", "nb": "Gjenkomst"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    _require_chromium()
    d = tmp_path_factory.mktemp("browser-retention")
    db = d / "shop.duckdb"
    synth = synthesize(persons=300, seed=9, out=d / "synth", days=42)
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path])
        expected = retention(ws, period="week", periods=6).to_dict()
    st = ServerState(state_path(db))
    st.set_user("strateg", PASSWORD)
    st.close()
    with LiveServer(db) as srv:
        yield srv, expected


@pytest.fixture(scope="module")
def page(shop: tuple[LiveServer, dict[str, Any]]) -> Iterator[Page]:
    srv, _ = shop
    with logged_in(srv.url, "/retention" + QUERY) as pg:
        yield pg


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def test_heat_map_and_table_equal_the_library(
    shop: tuple[LiveServer, dict[str, Any]], page: Page
) -> None:
    _, expected = shop
    pg = page.page
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert pg.locator("#figure .main-svg").count() >= 1
    assert pg.locator("#figure .heatmaplayer").count() == 1  # the cohort triangle
    rows = pg.locator("#retention-table tbody tr")
    everyone = [r for r in expected["cohorts"] if r["group"] is None]
    assert rows.count() == len(everyone) + 1  # the mean row first
    mean = expected["mean"][0]
    cells = rows.nth(0).locator("td")
    for k, (rate, n) in enumerate(zip(mean["rates"], mean["cohorts"], strict=True)):
        assert cells.nth(2 + k).inner_text() == (_pct(rate) if n else "–")
    for i, row in enumerate(everyone, start=1):
        cells = rows.nth(i).locator("td")
        assert cells.nth(0).inner_text() == row["cohort"]
        assert cells.nth(1).inner_text() == f"{row['size']:,}"
        for k, (rate, status) in enumerate(zip(row["rates"], row["status"], strict=True)):
            want = (
                "" if status == "future" else _pct(rate) + ("*" if status == "incomplete" else "")
            )
            assert cells.nth(2 + k).inner_text() == want, (row["cohort"], k)
    # the heat map's text is the same percentages (the mean row on top)
    texts = pg.evaluate("document.getElementById('figure').data[0].text")
    assert len(texts) == len(everyone) + 1
    page.shot("30-retention-en")


@pytest.mark.parametrize("lang", ["sv", "nb"])
def test_languages(shop: tuple[LiveServer, dict[str, Any]], page: Page, lang: str) -> None:
    srv, _ = shop
    pg = page.page
    pg.goto(f"{srv.url}/retention{QUERY}&lang={lang}")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert TITLES[lang] in pg.locator("h1").inner_text()
    head = pg.locator("#retention-table thead th").nth(0).inner_text()
    assert head == {"sv": "Kohort", "nb": "Kohort"}[lang]
    mean = pg.locator("#retention-table tbody tr").nth(0).locator("td").nth(0).inner_text()
    assert mean == {"sv": "Viktat medel", "nb": "Vektet snitt"}[lang]
    page.shot(f"31-retention-{lang}")
