"""A real browser (Debian's chromium via Playwright) on the journey-map, funnel-builder and
flows pages of a live ``kundresa serve --map FILE``: switch persona, edit a lane and save it
(the file on disk changes and re-validates), an invalid edit shows the validator's message and
leaves the file unchanged, the funnel builder's numbers equal the library's FunnelResult for
the same spec, the flows page draws the Sankey. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kundresa import Workspace
from kundresa.funnel import funnel
from kundresa.maps import load_map, new_map, save_map, validate_file
from kundresa.paths import flows
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import LiveServer
from tests.test_server_browser import Page, _require_chromium, logged_in

PASSWORD = "a long enough password"
STEPS = ["Product Viewed", "Product Added", "Order Completed"]


class Shop:
    def __init__(self, srv: LiveServer, map_file: Path, expected: dict[str, Any]) -> None:
        self.srv = srv
        self.map_file = map_file
        self.expected = expected


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    _require_chromium()
    d = tmp_path_factory.mktemp("browser-pages")
    db = d / "shop.duckdb"
    synth = synthesize(persons=300, seed=9, out=d / "synth", days=21)
    map_file = d / "journey-map.yaml"
    save_map(new_map("shop", lang="en"), map_file)
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path])
        # the library's results for the specs the browser will build (before the server
        # opens the workspace)
        expected = {
            "funnel": funnel(ws, STEPS, window="3d", order="ordered").to_dict(),
            "flows": flows(ws, start="Product Viewed", max_steps=4, top=4).to_dict(),
        }
    st = ServerState(state_path(db))
    st.set_user("strateg", PASSWORD)
    st.close()
    with LiveServer(db, extra=("--map", str(map_file))) as srv:
        yield Shop(srv, map_file, expected)


@pytest.fixture(scope="module")
def page(shop: Shop) -> Iterator[Page]:
    with logged_in(shop.srv.url, "/map") as pg:
        yield pg


def test_journey_map_persona_switch_and_lane_editing(shop: Shop, page: Page) -> None:
    pg = page.page
    jm = load_map(shop.map_file)
    assert pg.locator("h1").inner_text().startswith("Journey map")
    assert pg.locator("#poster svg.kundresa-map").is_visible()
    assert pg.locator("#measured tbody tr").count() == len(jm.stages)
    page.shot("10-journey-map")
    # persona switch
    second = jm.personas[1]
    pg.click(f".persona-switch a[data-persona='{second.id}']")
    pg.wait_for_url(f"**persona={second.id}**")
    assert pg.locator(f"#poster .emotion-line[data-persona='{second.id}']").count() == 1
    assert pg.locator(".persona-switch a.on").inner_text() == second.name
    page.shot("11-journey-map-persona")
    # edit the third stage's lanes for this persona and save
    stage = jm.stages[2]
    pg.click(f".stage-tabs a[data-stage='{stage.id}']")
    pg.wait_for_url(f"**edit={stage.id}**")
    pg.fill("#lane-activities", "Compares three TVs side by side\nReads the reviews")
    pg.fill("#lane-emotion-score", "-2")
    pg.fill("#lane-emotion-emoji", "😫")
    pg.fill("#lane-emotion-quote", "Why is shipping shown only at the end?")
    pg.fill("#lane-pain-points", "Shipping cost appears only in checkout")
    pg.fill("#lane-opportunities", "Show shipping on the product page | CX team | planned")
    pg.click("#save-lanes")
    pg.wait_for_selector("#saved")
    assert validate_file(shop.map_file).ok
    cell = load_map(shop.map_file).stages[2].cell(second.id)
    assert cell.activities == ("Compares three TVs side by side", "Reads the reviews")
    assert cell.emotion is not None
    assert (cell.emotion.score, cell.emotion.quote) == (
        -2,
        "Why is shipping shown only at the end?",
    )
    assert cell.pain_points == ("Shipping cost appears only in checkout",)
    assert cell.touchpoints == jm.stages[2].cell(second.id).touchpoints  # untouched, rules kept
    # the living map shows the edit at once
    poster = " ".join(pg.locator("#poster").inner_text().split())  # the poster wraps labels
    assert "Shipping cost appears only in checkout" in poster
    page.shot("12-journey-map-saved")
    # an invalid edit: the validator's message on the page, the file unchanged
    before = shop.map_file.read_bytes()
    pg.fill("#lane-emotion-score", "5")
    pg.click("#save-lanes")
    pg.wait_for_selector("#problems")
    problems = pg.locator("#problems").inner_text()
    assert "emotion.score" in problems
    assert "emotion score 5 is outside -2..+2" in problems
    assert "use -2 (very bad), -1, 0, 1 or 2 (very good)" in problems
    assert pg.locator("#lane-emotion-score").input_value() == "5"  # the input is kept
    assert "invalid" in str(pg.locator("#lane-emotion-score").get_attribute("class"))
    assert shop.map_file.read_bytes() == before
    page.shot("13-journey-map-invalid-edit")
    # the refused save is answered 400, which chromium logs on the console: that one only
    refused = [m for m in page.problems if "status of 400" in m]
    assert len(refused) == 1
    page.problems.remove(refused[0])


def _table(pg: Any, selector: str) -> list[list[str]]:
    rows = pg.locator(f"{selector} tbody tr")
    return [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def test_funnel_builder_numbers_equal_the_library_result(shop: Shop, page: Page) -> None:
    pg = page.page
    pg.click("nav a[href='/funnel']")
    pg.wait_for_url("**/funnel")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)  # a suggested funnel
    for i, step in enumerate(STEPS, start=1):
        pg.select_option(f"#step-{i}", step)
    for i in range(len(STEPS) + 1, pg.locator("select.step").count() + 1):
        pg.select_option(f"#step-{i}", value="")
    pg.fill("#window", "3d")
    pg.select_option("#order", "ordered")
    pg.click("#run")
    pg.wait_for_url("**window=3d**")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert pg.locator("#figure .main-svg").count() >= 1
    want = shop.expected["funnel"]
    rows = _table(pg, "#funnel-table")
    assert [r[1] for r in rows] == STEPS
    assert [int(r[2].replace(",", "")) for r in rows] == [s["count"] for s in want["steps"]]
    assert [r[3] for r in rows] == [
        f"{100 * s['from_start']['value']:.1f} %" for s in want["steps"]
    ]
    assert pg.locator("#kpi-entered").inner_text() == f"{want['entered']:,}"
    page.shot("14-funnel-builder")
    # the JSON twin is the library's FunnelResult for the same spec
    twin = pg.locator("#json-twin").get_attribute("href")
    resp = pg.context.request.get(shop.srv.url + str(twin))
    got = json.loads(resp.text())
    assert {k: v for k, v in got.items() if k != "seconds"} == {
        k: v for k, v in want.items() if k != "seconds"
    }
    # a breakdown
    pg.fill("#by", "channel")
    pg.click("#run")
    pg.wait_for_selector("#breakdown-table")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    page.shot("15-funnel-breakdown")


def test_flows_page_draws_the_sankey(shop: Shop, page: Page) -> None:
    pg = page.page
    pg.click("nav a[href='/flows']")
    pg.wait_for_url("**/flows")
    pg.fill("#start", "Product Viewed")
    pg.fill("#max_steps", "4")
    pg.fill("#top", "4")
    pg.click("#run")
    pg.wait_for_url("**top=4**")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert pg.locator("#figure .sankey").count() == 1
    want = shop.expected["flows"]
    assert pg.locator("#kpi-persons").inner_text() == f"{want['persons']:,}"
    assert pg.locator("#kpi-paths").inner_text() == f"{want['paths']:,}"
    page.shot("16-flows")


def test_new_pages_in_swedish_and_norwegian(shop: Shop, page: Page) -> None:
    pg = page.page
    pg.goto(shop.srv.url + "/map?lang=sv")
    assert pg.locator("h1").inner_text().startswith("Kundresekarta")
    assert pg.locator("#edit").inner_text() == "Redigera raderna"
    page.shot("17-journey-map-sv")
    pg.goto(shop.srv.url + "/funnel?lang=nb")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert pg.locator("h1").inner_text() == "Trakt"
    page.shot("18-funnel-nb")
    pg.goto(shop.srv.url + "/flows?lang=sv")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert pg.locator("h1").inner_text() == "Flöden"
    pg.goto(shop.srv.url + "/map?lang=en")
