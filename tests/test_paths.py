"""Path analyses on a hand-built log with hand-computed expected values, on both engines.

The log (seconds from 2026-01-05 10:00; sessions split at 30 min of inactivity):

    A: Home 0, Product 60, Product 90, Cart 150, Buy 300 | Home 7200, FAQ 7230
    B: Home 0, Product 30, Home 100 | (next day) Product 86400, Cart 86460, Buy 86520
    C: Ad 0, Product 10, Cart 20, FAQ 40, Buy 100
    D: Home 0, Cart 5, Home 10
    E: Home 0, Product 0 (a tie, ordered by event_id)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kundresa import NotFoundError, Workspace
from kundresa._errors import InvalidOptionError
from kundresa.paths import (
    PathRule,
    PathRules,
    flows,
    journey_archetypes,
    page_stats,
    paths,
    paths_after_drop_off,
    paths_between,
    top_paths,
    transition_graph,
    variants,
)

LOG = [
    ("A", 0, "Home"),
    ("A", 60, "Product"),
    ("A", 90, "Product"),
    ("A", 150, "Cart"),
    ("A", 300, "Buy"),
    ("A", 7200, "Home"),
    ("A", 7230, "FAQ"),
    ("B", 0, "Home"),
    ("B", 30, "Product"),
    ("B", 100, "Home"),
    ("B", 86400, "Product"),
    ("B", 86460, "Cart"),
    ("B", 86520, "Buy"),
    ("C", 0, "Ad"),
    ("C", 10, "Product"),
    ("C", 20, "Cart"),
    ("C", 40, "FAQ"),
    ("C", 100, "Buy"),
    ("D", 0, "Home"),
    ("D", 5, "Cart"),
    ("D", 10, "Home"),
    ("E", 0, "Home"),
    ("E", 0, "Product"),
]
PAGES = {"Home", "Product", "Cart", "FAQ"}
T0 = dt.datetime(2026, 1, 5, 10)


def write_log(
    rows: list[tuple[str, int, str]], folder: Path, urls: dict[int, str] | None = None
) -> Path:
    """CSV with zero-padded event ids (ties order by event_id), page calls for PAGES."""
    urls = urls or {}
    lines = ["event_id,user_id,ts,type,event,channel,touchpoint,url"]
    for i, (p, s, e) in enumerate(rows):
        kind = "track"  # ingest names page calls "Page Viewed"; page_events selects pages
        tp = e if e in PAGES else ""
        ts = (T0 + dt.timedelta(seconds=s)).isoformat()
        lines.append(f"e{i:04d},{p},{ts},{kind},{e},web,{tp},{urls.get(i, '')}")
    path = folder / "log.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module", params=["duckdb", "spark"])
def ws(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    folder = tmp_path_factory.mktemp(f"paths_{request.param}")
    urls = {1: "/product/1", 2: "/product/2", 9: "/product/3"}
    if request.param == "spark":
        session = request.getfixturevalue("spark_session")
        w = Workspace.open(folder / "spark", engine="spark", spark=session)
    else:
        w = Workspace.open(folder / "k.duckdb")
    w.ingest([write_log(LOG, folder, urls)])
    yield w
    if w.engine == "duckdb":
        w.close()
    else:
        for name in w.store.names():
            w.store.drop(name)


def edges(g: Any) -> dict[tuple[str, str], tuple[int, int, float]]:
    return {
        (e["source"], e["target"]): (e["count"], e["persons"], e["median_seconds"])
        for e in g.transitions
    }


def test_transition_graph_session_grain(ws: Workspace) -> None:
    g = transition_graph(ws)
    assert edges(g) == {
        ("Home", "Product"): (3, 3, 30.0),
        ("Product", "Product"): (1, 1, 30.0),
        ("Product", "Cart"): (3, 3, 60.0),
        ("Cart", "Buy"): (2, 2, 105.0),
        ("Home", "FAQ"): (1, 1, 30.0),
        ("Product", "Home"): (1, 1, 70.0),
        ("Ad", "Product"): (1, 1, 10.0),
        ("Cart", "FAQ"): (1, 1, 20.0),
        ("FAQ", "Buy"): (1, 1, 60.0),
        ("Home", "Cart"): (1, 1, 5.0),
        ("Cart", "Home"): (1, 1, 5.0),
    }
    assert g.units == 7
    assert g.persons == 5
    assert g.start_activities == {"Home": 5, "Product": 1, "Ad": 1}
    assert g.end_activities == {"Buy": 3, "FAQ": 1, "Home": 2, "Product": 1}
    assert [(e["source"], e["target"]) for e in g.loops] == [("Product", "Product")]
    assert g.to_frame().shape == (11, 5)
    assert len(g.plot().data) == 12


def test_transition_graph_person_grain_and_collapse(ws: Workspace) -> None:
    g = transition_graph(ws, unit="person", collapse_repeats=True)
    e = edges(g)
    assert ("Product", "Product") not in e
    assert e[("Buy", "Home")] == (1, 1, 6900.0)  # A: Buy 300 -> Home 7200 (same person)
    assert e[("Home", "Product")] == (4, 3, 45.0)  # A 60, B 30 and 86300, E 0: median 45


def test_variants(ws: Workspace) -> None:
    v = variants(ws)
    assert v.units == 7
    assert len(v.variants) == 7
    assert all(r["count"] == 1 for r in v.variants)
    got = {tuple(r["variant"]) for r in v.variants}
    assert ("Home", "Product", "Product", "Cart", "Buy") in got
    assert ("Home", "Product") in got
    v2 = variants(ws, collapse_repeats=True, rules=PathRules(hide=("Home", "Ad")))
    counts = {tuple(r["variant"]): (r["count"], r["persons"]) for r in v2.variants}
    assert counts[("Product", "Cart", "Buy")] == (2, 2)  # A1, B2
    assert counts[("Product",)] == (2, 2)  # B1 (Home hidden, collapsed), E1
    assert counts[("Cart",)] == (1, 1)
    assert sum(c for c, _ in counts.values()) == 7


def test_top_paths_to_conversion_and_drop_off(ws: Workspace) -> None:
    t = top_paths(ws, "Buy", max_steps=3)
    rows = [(r["path"], r["persons"], r["share"], r["median_seconds"]) for r in t.paths]
    assert rows == [
        (("Product", "Cart", "Buy"), 2, round(2 / 3, 6), 180.0),
        (("Cart", "FAQ", "Buy"), 1, round(1 / 3, 6), 80.0),
    ]
    d = top_paths(ws, "Buy", outcome="drop_off", max_steps=3)
    assert sorted(r["path"] for r in d.paths) == [("Home", "Cart", "Home"), ("Home", "Product")]
    assert d.persons == 2


def test_paths_between_and_after_drop_off(ws: Workspace) -> None:
    b = paths_between(ws, "Product", "Buy")
    assert sorted(r["path"] for r in b.paths) == [
        ("Product", "Cart", "Buy"),
        ("Product", "Cart", "FAQ", "Buy"),
        ("Product", "Home", "Product", "Cart", "Buy"),
    ]
    short = paths_between(ws, "Product", "Buy", max_steps=2)
    assert ("Product", "Home", "Product", "…", "Buy") in [r["path"] for r in short.paths]
    b_row = next(r for r in short.paths if "…" in r["path"])
    assert b_row["median_seconds"] == 86490.0  # Product 30 -> Buy 86520
    a = paths_after_drop_off(ws, "Cart", "Buy")
    assert [(r["path"], r["persons"]) for r in a.paths] == [(("Cart", "Home"), 1)]


def test_flows_start_end_between(ws: Workspace) -> None:
    f = flows(ws, start="Product", max_steps=3)
    nodes = {(n["step"], n["label"]): (n["count"], n["persons"], n["drop_off"]) for n in f.nodes}
    assert nodes == {
        (0, "Product"): (5, 4, 1),
        (1, "Cart"): (3, 3, 0),
        (1, "Home"): (1, 1, 1),
        (2, "Buy"): (2, 2, 0),
        (2, "FAQ"): (1, 1, 0),
    }
    links = {
        (lk["step"], lk["source"], lk["target"]): (lk["count"], lk["persons"]) for lk in f.links
    }
    assert links == {
        (0, "Product", "Cart"): (3, 3),
        (0, "Product", "Home"): (1, 1),
        (1, "Cart", "Buy"): (2, 2),
        (1, "Cart", "FAQ"): (1, 1),
    }
    other = flows(ws, start="Product", max_steps=3, top=1)
    assert {(n["step"], n["label"]) for n in other.nodes} >= {(1, "other"), (2, "other")}
    back = flows(ws, end="Buy", max_steps=3)
    bn = {(n["step"], n["label"]): n["count"] for n in back.nodes}
    assert bn == {(2, "Buy"): 3, (1, "Cart"): 2, (1, "FAQ"): 1, (0, "Product"): 2, (0, "Cart"): 1}
    between = flows(ws, start="Home", end="Buy", unit="person", max_steps=10)
    assert between.paths == 2
    assert between.mode == "between"
    fig = f.plot(measure="count")
    assert fig.data[0].type == "sankey"
    assert "transitions" in fig.layout.title.text
    assert "unique persons" in f.plot().layout.title.text


def test_cleaning_rules(ws: Workspace) -> None:
    rules = PathRules(rename=(PathRule("^/product/", "Product page", field="url"),), hide=("FAQ",))
    g = transition_graph(ws, rules=rules)
    e = edges(g)
    assert ("Cart", "FAQ") not in e
    assert ("Cart", "Buy") in e
    labels = {n["label"] for n in g.nodes}
    assert "Product page" in labels
    assert "Product" in labels
    assert e[("Product page", "Product page")] == (1, 1, 30.0)
    grouped = transition_graph(ws, rules=PathRules(group_by="touchpoint", hide=("Ad",)))
    ws.sql("select 1")  # touchpoint defaults to the event name in this log: relabel via url
    assert edges(grouped)[("Home", "Product")] == (3, 3, 30.0)
    assert "Ad" not in {n["label"] for n in grouped.nodes}
    by_url = transition_graph(ws, rules=PathRules(group_by="url"))
    assert ("Product: /product/1", "Product: /product/2") in edges(by_url)
    assert "Buy" in {n["label"] for n in grouped.nodes}  # no touchpoint: the event name


def test_page_stats(ws: Workspace) -> None:
    p = {r["page"]: r for r in page_stats(ws, conversion="Buy", page_events=tuple(PAGES)).pages}
    assert {k: p[k]["views"] for k in p} == {"Home": 7, "Product": 6, "Cart": 4, "FAQ": 2}
    assert p["Home"]["median_seconds_on_page"] == 30.0
    assert {k: p[k]["entries"] for k in p} == {"Home": 5, "Product": 2, "Cart": 0, "FAQ": 0}
    assert {k: p[k]["exits"] for k in p} == {"Home": 2, "Product": 1, "Cart": 2, "FAQ": 2}
    assert (p["Home"]["persons"], p["Home"]["converted_after"]) == (4, 2)
    assert p["FAQ"]["conversion_rate_after"] == 0.5


def test_archetypes_threshold(ws: Workspace) -> None:
    a = journey_archetypes(ws, conversion="Buy", method="threshold", long_after="1d")
    got = sorted((j["touches"], round(j["duration_seconds"]), j["archetype"]) for j in a.journeys)
    assert got == [(5, 100, "short"), (5, 300, "short"), (6, 86520, "long")]
    summary = {s["archetype"]: s for s in a.summary}
    assert summary["short"]["persons"] == 2
    assert summary["long"]["median_touches"] == 6


def test_errors_name_the_field(ws: Workspace) -> None:
    with pytest.raises(NotFoundError, match="start: 'Prodct' not found; did you mean: Product"):
        flows(ws, start="Prodct")
    with pytest.raises(InvalidOptionError, match="unit"):
        transition_graph(ws, unit="day")
    with pytest.raises(InvalidOptionError, match="steps"):
        top_paths(ws, "Buy", max_steps=0)
    with pytest.raises(InvalidOptionError, match="field"):
        PathRule("x", "y", field="colour")


def test_engines_identical(ws: Workspace, tmp_path: Path) -> None:
    """Every analysis on this engine equals the DuckDB result (DuckDB compares to itself)."""
    ref = Workspace.open(tmp_path / "ref.duckdb")
    ref.ingest([write_log(LOG, tmp_path, {1: "/product/1", 2: "/product/2", 9: "/product/3"})])
    calls = [
        lambda w: paths(w, conversion="Buy"),
        lambda w: flows(w, start="Home", unit="person"),
        lambda w: paths_between(w, "Home", "Buy"),
        lambda w: page_stats(w, conversion="Buy", page_events=("Home", "Cart")),
        lambda w: journey_archetypes(w, conversion="Buy", method="threshold"),
    ]
    for call in calls:
        assert call(ws).to_dict() == call(ref).to_dict()
    ref.close()


def test_cli_paths_and_flows_json(ws: Workspace) -> None:
    if ws.engine != "duckdb":
        pytest.skip("the CLI opens its own workspace; one engine is enough here")
    from kundresa.cli import app

    runner = CliRunner()
    db = str(ws.store.path)
    ws.close()
    try:
        out = runner.invoke(app, ["paths", "--db", db, "--conversion", "Buy", "--json"])
        assert out.exit_code == 0, out.output
        data = json.loads(out.output)
        records = data["graph"]["transitions"]
        assert {"source", "target", "count", "persons", "median_seconds"} <= set(records[0])
        assert data["graph"]["count_of"] == "transitions"
        assert data["conversion"]["paths"][0]["path"][-1] == "Buy"
        out = runner.invoke(
            app, ["flows", "--db", db, "--start", "Product", "--max-steps", "3", "--json"]
        )
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["links"][0]["count"] == 3
        bad = runner.invoke(app, ["flows", "--db", db, "--start", "Prodct"])
        assert bad.exit_code != 0
        assert "did you mean: Product" in str(bad.exception)
        for cmd in (["journeys", "--conversion", "Buy"], ["pages", "--conversion", "Buy"]):
            res = runner.invoke(app, [*cmd, "--db", db])
            assert res.exit_code == 0, res.output
        # old spellings keep working for one release, with a warning naming the new one
        old = runner.invoke(app, ["journeys", "--to", "Buy", "--db", db])
        assert old.exit_code == 0, old.output
        assert "--to is deprecated; use --conversion" in old.output
    finally:
        ws.store.__init__(db)  # type: ignore[misc]  # reopen for later tests of the module
