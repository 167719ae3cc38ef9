"""A real browser (Debian's chromium via Playwright) on the ``/clv`` and ``/rfm`` pages of a
live ``kundresa serve`` on the CDNOW purchase log, in English, Swedish and Norwegian: the
KPI cards, the parameters table (with standard errors) and the predicted-vs-actual table
show the library's numbers for the same parameters, the charts draw (CLV distribution,
P(alive) distribution, predicted vs actual; RFM segments). Screenshots go to
artifacts/screenshots/ (30-clv-en.png, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kundresa import Workspace
from kundresa.loyalty import clv, rfm
from kundresa.server._state import ServerState, state_path
from tests._server import LiveServer
from tests.test_loyalty_summary import cdnow_orders
from tests.test_server_browser import PASSWORD, Page, _require_chromium, logged_in

QUERY = "calibration_end=1997-09-30&holdout=39w"
TITLES = {"en": "Customer lifetime value", "sv": "Kundlivstidsvärde", "nb": "Kundelivstidsverdi"}
SEGMENT = {"en": "Champions", "sv": "Mästare", "nb": "Mestere"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any, Any]]:
    _require_chromium()
    d = tmp_path_factory.mktemp("browser-clv")
    db = d / "cdnow.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest([cdnow_orders(d / "cdnow.parquet")])
        expected = clv(ws, calibration_end="1997-09-30", holdout="39w")
        segments = rfm(ws)
    st = ServerState(state_path(db))
    st.set_user("strateg", PASSWORD)
    st.close()
    with LiveServer(db) as srv:
        yield srv, expected, segments


@pytest.fixture(scope="module")
def page(served: tuple[LiveServer, Any, Any]) -> Iterator[Page]:
    with logged_in(served[0].url, "/clv?" + QUERY) as pg:
        yield pg


def _cells(pg: Any, selector: str) -> list[list[str]]:
    rows = pg.locator(f"{selector} tbody tr")
    return [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


@pytest.mark.parametrize("lang", ["en", "sv", "nb"])
def test_clv_page_shows_the_library_numbers(
    served: tuple[LiveServer, Any, Any], page: Page, lang: str
) -> None:
    srv, expected, _ = served
    pg = page.page
    pg.goto(f"{srv.url}/clv?{QUERY}&lang={lang}")
    pg.wait_for_selector("#figure .main-svg", timeout=60_000)
    assert TITLES[lang] in pg.locator("h1").inner_text()
    assert pg.locator("#kpi-customers").inner_text() == "2,357"
    assert pg.locator("#kpi-repeat").inner_text() == "946"
    assert pg.locator("#kpi-clv").inner_text() == f"{expected.totals['clv']:,.2f}"
    params = _cells(pg, "#clv-params-table")
    assert [r[1] for r in params] == ["r", "alpha", "a", "b", "p", "q", "gamma"]
    first = expected.params[0]
    assert params[0][2:] == [f"{first['estimate']:.4g}", f"{first['standard_error']:.4g}"]
    assert params[0][2] == "0.2426"
    cal = _cells(pg, "#clv-calibration-table")
    assert [r[0] for r in cal] == [r["frequency"] for r in expected.calibration.rows]
    assert cal[0][1] == "1,411"
    assert cal[0][2:] == [f"{expected.calibration.rows[0][k]:.3f}" for k in ("actual", "predicted")]
    assert len(_cells(pg, "#clv-top-table")) == 20
    # three panels: CLV distribution, P(alive) distribution, predicted vs actual
    assert (
        pg.locator("#figure .main-svg .subplot").count() >= 3
        or pg.locator("#figure g.cartesianlayer > g").count() >= 3
    )
    page.shot(f"30-clv-{lang}")


@pytest.mark.parametrize("lang", ["en", "sv", "nb"])
def test_rfm_page_shows_the_segments(
    served: tuple[LiveServer, Any, Any], page: Page, lang: str
) -> None:
    srv, _, segments = served
    pg = page.page
    pg.goto(f"{srv.url}/rfm?lang={lang}")
    pg.wait_for_selector("#figure .main-svg", timeout=60_000)
    rows = _cells(pg, "#rfm-segments-table")
    assert rows[0][0] == SEGMENT[lang]
    assert [int(r[1].replace(",", "")) for r in rows] == [s["customers"] for s in segments.segments]
    grid = _cells(pg, "#rfm-grid-table")
    assert [r[0] for r in grid] == ["R 5", "R 4", "R 3", "R 2", "R 1"]
    page.shot(f"31-rfm-{lang}")
