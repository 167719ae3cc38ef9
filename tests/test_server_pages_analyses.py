"""A real browser (Debian's chromium via Playwright) on the pages of attribution (models side
by side, and per stage with a journey map), channels, journeys, the transition graph, ROPO
and map conformance, served by a live ``kundresa serve --map FILE`` on a real DuckDB file.

For every page and every language (en, sv, nb): the chart is drawn (plotly's SVG), the
table's numbers equal the library's ``to_dict()`` for the same parameters, the JSON twin is
that ``to_dict()``, the headings are translated (they differ per language), and a
screenshot is saved in artifacts/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kundresa import Workspace
from kundresa.attribution import attribute, channel_report, ropo_report
from kundresa.maps import load_map, new_map, save_map
from kundresa.paths import conformance, journey_archetypes, transition_graph
from kundresa.server._app import clean_json
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import LiveServer
from tests.test_server_browser import Page, _require_chromium, logged_in

PASSWORD = "a long enough password"
LANGS = ("en", "sv", "nb")
CONVERSION = "Order Completed"
MODELS = ["first", "last", "linear", "markov"]
#: page -> (path, query); the map is the server's journey-map.yaml, named by its stem
PAGES: dict[str, tuple[str, dict[str, Any]]] = {
    "attribution": ("attribution", {"conversion": CONVERSION, "model": MODELS}),
    "attribution-stage": (
        "attribution",
        {"conversion": CONVERSION, "model": ["first", "linear", "markov"], "map": "journey-map"},
    ),
    "channels": ("channels", {"conversion": CONVERSION, "map": "journey-map"}),
    "journeys": ("journeys", {}),
    "transitions": ("transitions", {}),
    "ropo": ("ropo", {}),
    "map-conformance": ("map-conformance", {}),
}


class Shop:
    def __init__(self, srv: LiveServer, expected: dict[str, dict[str, Any]]) -> None:
        self.srv = srv
        self.expected = expected


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    _require_chromium()
    d = tmp_path_factory.mktemp("analysis-pages")
    db = d / "shop.duckdb"
    synth = synthesize(persons=300, seed=9, out=d / "synth", days=21)
    map_file = d / "journey-map.yaml"
    save_map(new_map("shop", lang="en"), map_file)
    jm = load_map(map_file)
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path])
        # the library's results for the pages' parameters (before the server opens the file)
        results = {
            "attribution": attribute(ws, CONVERSION, model=MODELS),
            "attribution-stage": attribute(
                ws, CONVERSION, model=["first", "linear", "markov"], journey_map=jm
            ),
            "channels": channel_report(ws, CONVERSION, journey_map=jm),
            "journeys": journey_archetypes(ws),
            "transitions": transition_graph(ws),
            "ropo": ropo_report(ws),
            "map-conformance": conformance(ws, jm),
        }
    expected = {k: json.loads(json.dumps(clean_json(r.to_dict()))) for k, r in results.items()}
    st = ServerState(state_path(db))
    st.set_user("strateg", PASSWORD)
    st.close()
    with LiveServer(db, extra=("--map", str(map_file))) as srv:
        yield Shop(srv, expected)


@pytest.fixture(scope="module")
def page(shop: Shop) -> Iterator[Page]:
    with logged_in(shop.srv.url, "/attribution") as pg:
        # opened without parameters, the page shows a suggested conversion (not an error)
        pg.page.wait_for_selector("body[data-figure=ready]", timeout=30_000)
        assert pg.page.locator("#field-conversion").input_value() == CONVERSION
        yield pg


# -- how the tests read a page ---------------------------------------------------------------


def table(pg: Any, tid: str) -> list[dict[str, str]]:
    """The rows of ``#tid`` as dicts by the columns' ``data-key``."""
    keys = pg.locator(f"#{tid} thead th").evaluate_all("ths => ths.map(t => t.dataset.key)")
    rows = pg.locator(f"#{tid} tbody tr")
    out = []
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        out.append(dict(zip(keys, cells, strict=True)))
    return out


def i(v: Any) -> str:
    return "–" if v is None else f"{round(v):,}"


def f1(v: Any) -> str:
    return "–" if v is None else f"{v:,.1f}"


def pct(v: Any) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def check_attribution(pg: Any, d: dict[str, Any]) -> None:
    rows = table(pg, "attribution-table")
    staged = d["stage_channels"]
    assert len(rows) == len(d["channels"])
    for row, c in zip(rows, d["channels"], strict=True):
        stage, channel = staged.get(c, (None, c))
        assert row["channel"] == channel
        if staged:
            assert row["stage"] == stage
        assert row["reach"] == i(d["reach"][c])
        for m in d["models"]:
            assert row[f"model.{m}"] == f1(d["credits"][m][c]), (c, m)
        assert row["removal_effect"] == pct(d["removal_effects"][c])
    if staged:
        totals = table(pg, "attribution-stage-table")
        assert [r["stage"] for r in totals] == [
            s for s in d["stages"] if any(v[0] == s for v in staged.values())
        ]
        for r in totals:
            for m in d["models"]:
                want = sum(v for c, v in d["credits"][m].items() if staged[c][0] == r["stage"])
                assert r[f"model.{m}"] == f1(want)
    assert pg.locator("#kpi-conversions").inner_text() == f1(d["conversions"])
    assert pg.locator("#kpi-journeys").inner_text() == i(d["journeys"])


def check_channels(pg: Any, d: dict[str, Any]) -> None:
    rows = table(pg, "channels-table")
    assert [r["channel"] for r in rows] == [r[d["column"]] for r in d["rows"]]
    for got, want in zip(rows, d["rows"], strict=True):
        assert got["persons"] == i(want["persons"])
        assert got["touches"] == i(want["touches"])
        assert got["first_touch_share"] == pct(want["first_touch_share"])
        assert got["conversions_touched"] == i(want["conversions"])
        assert got["conversion_rate"] == pct(want["conversion_rate"])
    assert d["by_stage"]  # the map is given
    assert d["by_persona"]
    for tid, by, groups in (
        ("channels-stage-table", "stage", d["stages"]),
        ("channels-persona-table", "persona", d["personas"]),
    ):
        pivot = {r[by]: r for r in table(pg, tid)}
        assert list(pivot) == list(groups)
        for r in d[f"by_{by}"]:
            assert pivot[r[by]][f"={r[d['column']]}"] == i(r["persons"])


def check_journeys(pg: Any, d: dict[str, Any]) -> None:
    rows = table(pg, "journeys-table")
    assert len(rows) == len(d["summary"]) == 2
    for got, want in zip(rows, d["summary"], strict=True):
        assert got["persons"] == i(want["persons"])
        assert got["share"] == pct(want["share"])
        assert got["median_touches"] == f1(want["median_touches"])
        assert got["top_channels"] == ", ".join(want["top_channels"])
        assert pg.locator(f"#kpi-{want['archetype']}").inner_text() == i(want["persons"])


def check_transitions(pg: Any, d: dict[str, Any]) -> None:
    rows = table(pg, "transitions-table")
    want = sorted(d["transitions"], key=lambda e: (-e["count"], e["source"], e["target"]))[:25]
    assert [(r["from"], r["to"]) for r in rows] == [(e["source"], e["target"]) for e in want]
    assert [r["transitions_n"] for r in rows] == [i(e["count"]) for e in want]
    assert [r["persons"] for r in rows] == [i(e["persons"]) for e in want]
    nodes = {r["label"]: r for r in table(pg, "nodes-table")}
    assert len(nodes) == len(d["nodes"])
    for n in d["nodes"]:
        got = nodes[n["label"]]
        assert (got["events"], got["starts"], got["ends"]) == (
            i(n["events"]),
            i(n["starts"]),
            i(n["ends"]),
        )
    assert pg.locator("#kpi-units").inner_text() == i(d["units"])
    assert pg.locator("#kpi-persons").inner_text() == i(d["persons"])


def check_ropo(pg: Any, d: dict[str, Any]) -> None:
    rows = table(pg, "ropo-channels-table")
    assert [(r["channel"], r["share"]) for r in rows] == [
        (c, pct(s)) for c, s in d["by_channel"].items()
    ]
    assert pg.locator("#kpi-share").inner_text() == pct(d["share"])
    assert pg.locator("#kpi-share_of_linked").inner_text() == pct(d["share_of_linked"])
    assert pg.locator("#kpi-showrooming_share").inner_text() == pct(d["showrooming_share"])
    values = [r["ropo_value"] for r in table(pg, "ropo-table")]
    assert values[:2] == [i(d["offline_conversions"]), i(d["researched_online"])]
    assert i(d["online_conversions"]) in values
    assert i(d["touched_offline"]) in values


def check_conformance(pg: Any, d: dict[str, Any]) -> None:
    everyone = [s for s in d["stages"] if s["persona"] == "*"]
    rows = table(pg, "conformance-table")
    assert [r["stage"] for r in rows] == [s["stage"] for s in everyone]
    for got, want in zip(rows, everyone, strict=True):
        for key in ("expected", "reached", "as_planned", "skipped", "out_of_order", "looped"):
            assert got[key] == i(want[key]), key
        assert got["conformance_rate"] == pct(want["conformance"])
    unplanned = table(pg, "unplanned-table")
    for got, want in zip(unplanned, everyone, strict=True):
        assert got["stage"] == want["stage"]
        assert got["unplanned_events"] == i(want["unplanned_events"])
        assert got["unplanned_persons"] == i(want["unplanned_persons"])
        top = [f"{e} {n:,}" for e, n in want["top_unplanned"][:3]]
        assert got["top_unplanned"] == ", ".join(top)
    personas = {r["persona"]: r for r in table(pg, "persona-table")}
    assert list(personas) == d["personas"]
    for s in d["stages"]:
        if s["persona"] != "*":
            assert personas[s["persona"]][f"={s['stage']}"] == pct(s["conformance"])
    assert pg.locator("#kpi-persons").inner_text() == i(d["persons"])
    assert pg.locator("#kpi-rate").inner_text() == pct(d["rate"])


CHECKS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "attribution": check_attribution,
    "attribution-stage": check_attribution,
    "channels": check_channels,
    "journeys": check_journeys,
    "transitions": check_transitions,
    "ropo": check_ropo,
    "map-conformance": check_conformance,
}


def _url(path: str, query: dict[str, Any], lang: str) -> str:
    from urllib.parse import urlencode

    return f"/{path}?" + urlencode({**query, "lang": lang}, doseq=True)


@pytest.mark.parametrize("name", list(PAGES))
def test_analysis_page_in_every_language(shop: Shop, page: Page, name: str) -> None:
    pg = page.page
    path, query = PAGES[name]
    want = shop.expected[name]
    headings: dict[str, list[str]] = {}
    for lang in LANGS:
        pg.goto(shop.srv.url + _url(path, query, lang))
        pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
        assert pg.locator(".error").count() == 0
        # the chart: plotly drew its SVG, with data in it
        assert pg.locator("#figure .main-svg").count() >= 1
        assert pg.locator("#figure g.trace, #figure g.hm").count() >= 1
        CHECKS[name](pg, want)
        headings[lang] = [
            pg.locator("h1").inner_text(),
            *pg.locator("main h2, main table th, .kpi-label").all_inner_texts(),
        ]
        page.shot(f"40-{name}-{lang}")
    # translated: the headings differ from language to language, and none is a label key
    assert headings["en"] != headings["sv"] != headings["nb"] != headings["en"]
    for lang in LANGS:
        assert not [h for h in headings[lang] if h.startswith(("param.", "model.", "choice."))]
    # the JSON twin is the library's to_dict() for the same parameters
    twin = str(pg.locator("#json-twin").get_attribute("href"))
    got = json.loads(pg.context.request.get(shop.srv.url + twin).text())
    assert got == want


def test_the_derived_form_keeps_its_values_and_translates(shop: Shop, page: Page) -> None:
    pg = page.page
    pg.goto(shop.srv.url + _url("attribution", {"conversion": CONVERSION}, "sv"))
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    # the models as checkboxes under their Swedish names; "all" is the default
    assert pg.locator("#field-model legend").inner_text() == "Modeller"
    assert pg.locator("#field-model input[value=all]").is_checked()
    assert "Första kontakt" in pg.locator("#field-model").inner_text()
    # choose two models and run: the page and its twin follow the form
    pg.locator("#field-model input[value=all]").uncheck()
    pg.locator("#field-model input[value=first]").check()
    pg.locator("#field-model input[value=shapley]").check()
    pg.select_option("#field-first_only", "true")
    pg.click("#run")
    pg.wait_for_url("**model=shapley**")
    pg.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    keys = pg.locator("#attribution-table thead th").evaluate_all(
        "ths => ths.map(t => t.dataset.key)"
    )
    assert [k for k in keys if k.startswith("model.")] == ["model.first", "model.shapley"]
    assert pg.locator("#field-first_only").input_value() == "true"
    assert pg.locator("#field-first_only option:checked").inner_text() == "ja"
    twin = str(pg.locator("#json-twin").get_attribute("href"))
    got = json.loads(pg.context.request.get(shop.srv.url + twin).text())
    assert got["models"] == ["first", "shapley"]
    assert "first_only=true" in twin
    page.shot("47-attribution-form-sv")
    # a journey map is chosen from the maps the server loaded
    options = pg.locator("#field-map option").all_inner_texts()
    assert options == ["(ingen)", "journey-map"]
    pg.select_option("#field-map", "journey-map")
    pg.click("#run")
    pg.wait_for_url("**map=journey-map**")
    pg.wait_for_selector("#attribution-stage-table")
    assert pg.locator("#field-map").input_value() == "journey-map"


def test_every_form_parameter_and_model_has_a_label_in_every_language() -> None:
    from kundresa._contract import analyses
    from kundresa.attribution import MODELS as LIBRARY_MODELS
    from kundresa.server._i18n import LABELS as ANALYSIS_LABELS  # every label module merged
    from kundresa.server._i18n_analyses import PARAM_PREFIX

    keys = {PARAM_PREFIX + p.name for a in analyses().values() for p in a.params}
    keys |= {f"model.{m}" for m in LIBRARY_MODELS}
    missing = sorted(k for k in keys if set(ANALYSIS_LABELS.get(k, {})) != set(LANGS))
    assert missing == []
    for k in keys:  # no empty label
        assert all(ANALYSIS_LABELS[k][lang].strip() for lang in LANGS), k
