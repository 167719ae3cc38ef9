"""A real browser (Debian's chromium via Playwright) on the repeat-purchase and ambassadors
pages of a live ``kundresa serve --map FILE``, in English, Swedish and Norwegian: the numbers
on the page equal the library's results (the server's map gives the persona breakdowns), the
charts draw, and no console error. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kundresa import Workspace
from kundresa.loyalty import ambassadors, repeat_purchase
from kundresa.maps import new_map, save_map
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import LiveServer
from tests.test_server_browser import Page, _require_chromium, logged_in

PASSWORD = "a long enough password"
#: the server's name of the map file (its stem): the pages' persona breakdowns
MAP = "journey-map"
TITLES = {
    "repeat-purchase": {"en": "Repeat purchase", "sv": "Återköp", "nb": "Gjenkjøp"},
    "ambassadors": {"en": "Ambassadors", "sv": "Ambassadörer", "nb": "Ambassadører"},
}


class Shop:
    def __init__(self, srv: LiveServer, expected: dict[str, Any]) -> None:
        self.srv = srv
        self.expected = expected


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    _require_chromium()
    d = tmp_path_factory.mktemp("browser-repeat")
    db = d / "shop.duckdb"
    synth = synthesize(persons=400, seed=5, out=d / "synth", days=90)
    map_file = d / f"{MAP}.yaml"
    jm = new_map("shop", lang="en")
    save_map(jm, map_file)
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path])
        expected = {
            "repeat": repeat_purchase(ws, journey_map=jm).to_dict(),
            "ambassadors": ambassadors(ws, journey_map=jm).to_dict(),
        }
    st = ServerState(state_path(db))
    st.set_user("strateg", PASSWORD)
    st.close()
    with LiveServer(db, extra=("--map", str(map_file))) as srv:
        yield Shop(srv, expected)


@pytest.fixture(scope="module")
def page(shop: Shop) -> Iterator[Page]:
    with logged_in(shop.srv.url, "/repeat-purchase") as pg:
        yield pg


def _rows(pg: Any, selector: str) -> list[list[str]]:
    rows = pg.locator(f"{selector} tbody tr")
    return [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def _open(page: Page, shop: Shop, path: str, lang: str) -> Any:
    pg = page.page
    pg.goto(f"{shop.srv.url}{path}?lang={lang}&map={MAP}")
    pg.wait_for_selector("body[data-figure=ready]", timeout=60_000)
    assert pg.locator("h1").inner_text().startswith(TITLES[path.strip("/")][lang])
    assert pg.locator("#figure .main-svg").count() >= 1
    assert pg.locator(".error").count() == 0
    return pg


@pytest.mark.parametrize("lang", ["en", "sv", "nb"])
def test_repeat_purchase_page(shop: Shop, page: Page, lang: str) -> None:
    pg = _open(page, shop, "/repeat-purchase", lang)
    want = shop.expected["repeat"]
    assert want["buyers"] > 50  # a shop where some buy again
    assert want["repeat_buyers"] > 5
    assert pg.locator("#kpi-buyers").inner_text() == f"{want['buyers']:,}"
    assert pg.locator("#kpi-repeat-rate").inner_text() == f"{100 * want['repeat_rate']:.1f} %"
    orders = _rows(pg, "#repeat-orders-table")
    assert [r[0] for r in orders] == [o["orders"] for o in want["orders_per_customer"]]
    assert [int(r[1].replace(",", "")) for r in orders] == [
        o["customers"] for o in want["orders_per_customer"]
    ]
    gaps = _rows(pg, "#repeat-gaps-table")
    assert [int(r[1]) for r in gaps] == [h["gaps"] for h in want["gaps"]["histogram"]]
    cohorts = _rows(pg, "#repeat-cohorts-table")
    assert [r[0] for r in cohorts] == [c["cohort"] for c in want["cohorts"]]
    personas = _rows(pg, "#repeat-personas-table")
    assert [r[0] for r in personas] == [p["group"] for p in want["personas"]]
    page.shot(f"40-repeat-purchase-{lang}")


@pytest.mark.parametrize("lang", ["en", "sv", "nb"])
def test_ambassadors_page(shop: Shop, page: Page, lang: str) -> None:
    pg = _open(page, shop, "/ambassadors", lang)
    want = shop.expected["ambassadors"]
    assert want["overall"]["respondents"] > 0
    assert pg.locator("#kpi-ambassadors").inner_text() == f"{want['overall']['ambassadors']:,}"
    personas = _rows(pg, "#ambassadors-personas-table")
    assert [r[0] for r in personas] == [p["group"] for p in want["personas"]]
    assert [r[3] for r in personas] == [
        "–" if p["share"] is None else f"{100 * p['share']:.1f} %" for p in want["personas"]
    ]
    stages = _rows(pg, "#ambassadors-stages-table")
    assert [r[0] for r in stages] == [s["group"] for s in want["stages"]]
    page.shot(f"41-ambassadors-{lang}")


def test_json_twin_is_the_library_result(shop: Shop, page: Page) -> None:
    pg = page.page
    pg.goto(f"{shop.srv.url}/repeat-purchase?map={MAP}")
    twin = pg.locator("#json-twin").get_attribute("href")
    got = pg.context.request.get(shop.srv.url + str(twin)).json()
    want = shop.expected["repeat"]
    assert {k: v for k, v in got.items() if k not in ("seconds", "engine")} == {
        k: v for k, v in want.items() if k not in ("seconds", "engine")
    }
