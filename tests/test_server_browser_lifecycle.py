"""A real browser (Debian's chromium via Playwright) on the lifecycle and stickiness pages of a
live ``kundresa serve``, in English, Swedish and Norwegian: the table equals the library's
result, the lifecycle bars are stacked with dormant below zero, the stickiness bars show the
mode's value, the JSON twin is the library's ``to_dict()``. Screenshots go to
artifacts/screenshots/ (lifecycle-*.png, stickiness-*.png).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from kundresa import Workspace
from kundresa.loyalty import lifecycle, stickiness
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import LiveServer
from tests.test_server_browser import Page, _require_chromium, logged_in

PASSWORD = "a long enough password"
TITLES = {
    "lifecycle": {"en": "Lifecycle", "sv": "Livscykel", "nb": "Livssyklus"},
    "stickiness": {"en": "Stickiness", "sv": "Aktiva dagar", "nb": "Aktive dager"},
}
DORMANT = {"en": "Dormant", "sv": "Vilande", "nb": "Hvilende"}
LIFECYCLE_QUERY = "period=week&mode=posthog"
STICKINESS_QUERY = "period=week&mode=amplitude&cumulative=true"


class Shop:
    def __init__(self, srv: LiveServer, expected: dict[str, Any]) -> None:
        self.srv = srv
        self.expected = expected


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    _require_chromium()
    d = tmp_path_factory.mktemp("browser-lifecycle")
    db = d / "shop.duckdb"
    synth = synthesize(persons=300, seed=9, out=d / "synth", days=42)
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path])
        expected = {
            "lifecycle": lifecycle(ws, period="week").to_dict(),
            "stickiness": stickiness(ws, mode="amplitude", cumulative=True).to_dict(),
        }
    st = ServerState(state_path(db))
    st.set_user("strateg", PASSWORD)
    st.close()
    with LiveServer(db) as srv:
        yield Shop(srv, expected)


@pytest.fixture(scope="module")
def page(shop: Shop) -> Iterator[Page]:
    with logged_in(shop.srv.url, "/lifecycle") as pg:
        yield pg


def _table(pg: Any, selector: str) -> list[list[str]]:
    rows = pg.locator(f"{selector} tbody tr")
    return [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def _figure(pg: Any) -> list[dict[str, Any]]:
    """The traces Plotly drew (name, y)."""
    data: list[dict[str, Any]] = pg.evaluate(
        "() => Array.from(document.getElementById('figure').data)"
        ".map(t => ({name: t.name, y: Array.from(t.y), type: t.type}))"
    )
    return data


def _count(text: str) -> int:
    return int(text.replace(",", "").replace("\u2212", "-"))


@pytest.mark.parametrize("lang", ["en", "sv", "nb"])
def test_lifecycle_page(shop: Shop, page: Page, lang: str) -> None:
    pg = page.page
    pg.goto(f"{shop.srv.url}/lifecycle?{LIFECYCLE_QUERY}&lang={lang}")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert pg.locator("h1").inner_text().startswith(TITLES["lifecycle"][lang])
    want = shop.expected["lifecycle"]
    rows = _table(pg, "#lifecycle-table")
    assert [r[0] for r in rows] == [r["period"] for r in want["rows"]]
    for got, row in zip(rows, want["rows"], strict=True):
        assert [_count(c) for c in got[1:5]] == [row[s] for s in want["statuses"]]
    heads = pg.locator("#lifecycle-table thead th").all_inner_texts()
    assert DORMANT[lang] in heads
    # stacked bars, one trace per status; dormant (the last) below zero, the others above
    traces = _figure(pg)
    assert [t["type"] for t in traces] == ["bar"] * 4
    assert traces[3]["name"] == DORMANT[lang]
    assert all(y <= 0 for y in traces[3]["y"])
    assert any(y < 0 for y in traces[3]["y"])
    assert all(y >= 0 for t in traces[:3] for y in t["y"])
    assert pg.evaluate("() => document.getElementById('figure').layout.barmode") == "relative"
    page.shot(f"lifecycle-{lang}")


@pytest.mark.parametrize("lang", ["en", "sv", "nb"])
def test_stickiness_page(shop: Shop, page: Page, lang: str) -> None:
    pg = page.page
    pg.goto(f"{shop.srv.url}/stickiness?{STICKINESS_QUERY}&lang={lang}")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert pg.locator("h1").inner_text().startswith(TITLES["stickiness"][lang])
    want = shop.expected["stickiness"]
    rows = _table(pg, "#stickiness-table")
    assert [_count(r[0]) for r in rows] == list(range(1, 8))
    assert [_count(r[1]) for r in rows] == [r["persons"] for r in want["rows"]]
    traces = _figure(pg)
    assert [round(y, 6) for y in traces[0]["y"]] == [r["value"] for r in want["rows"]]
    assert traces[0]["y"][0] == 1.0  # cumulative: everyone active is active on >= 1 day
    page.shot(f"stickiness-{lang}")


def test_json_twin_is_the_library_result(shop: Shop, page: Page) -> None:
    pg = page.page
    for name, query in (("lifecycle", LIFECYCLE_QUERY), ("stickiness", STICKINESS_QUERY)):
        resp = pg.context.request.get(f"{shop.srv.url}/api/v1/{name}?{query}")
        assert resp.status == 200, resp.text()
        got = json.loads(resp.text())
        want = shop.expected[name]
        drop = ("seconds", "engine")
        assert {k: v for k, v in got.items() if k not in drop} == {
            k: v for k, v in want.items() if k not in drop
        }
    bad = pg.context.request.get(f"{shop.srv.url}/api/v1/lifecycle?period=year")
    assert bad.status == 422
    assert "period" in bad.text()
