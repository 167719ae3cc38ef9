"""Measuring a map: planted truth of the synthetic shop, and DuckDB == Spark."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from kundresa import Workspace
from kundresa.maps import measure_map, new_map, render_html, render_svg
from kundresa.maps._demo import demo_map
from kundresa.synth import synthesize
from tests._images import SHOTS, check_png, require_chromium, svg_size

SHOP = new_map("shop", lang="en")


@pytest.fixture
def shop(synthetic_shop: tuple[Workspace, dict[str, Any]]) -> tuple[Workspace, dict[str, Any]]:
    """The session's shared 20,000-person synthetic shop (see conftest)."""
    return synthetic_shop


def test_measure_recovers_planted_progression(shop: tuple[Workspace, dict[str, Any]]) -> None:
    """Planted funnel (truth.json, ``funnel.step_probabilities``): p3 = P(Checkout Started |
    Product Added) is the shop map's evaluation -> purchase progression, p4 = P(Order
    Completed | Checkout Started) its conversion rate from the purchase stage.

    Tolerance: 4 binomial standard errors sqrt(p (1 - p) / n) of the stage's measured
    persons n (two-sided, about 6e-5 by chance per check). Per persona because the planted
    probabilities are per persona; persons are assigned by the persona rule (the ``segment``
    trait of Identify), which every person who adds to cart carries (they sign in), so p3 and
    p4 are unbiased. p2 (Product Added | Product Viewed) is *not* checked per persona: only
    signed-in viewers carry the trait, so the selection favours viewers who went on to add;
    and overall it is diluted by view-only devices that cannot be stitched to their person.
    """
    ws, truth = shop
    m = measure_map(SHOP, ws)
    planted = truth["funnel"]["step_probabilities"]
    checks = 0
    for persona in ("overall", "wheel_kicker", "impulse", "loyal", "trial_churner"):
        key = "*" if persona == "overall" else persona
        ev, pu = m.stage("evaluation", key), m.stage("purchase", key)
        assert ev is not None
        assert pu is not None
        for measured, n, p in (
            (ev.progression, ev.persons, planted[persona][2]),
            (pu.conversion_rate, pu.persons, planted[persona][3]),
        ):
            assert measured is not None
            assert n > 150
            tol = 4 * math.sqrt(p * (1 - p) / n)
            assert abs(measured - p) <= tol, (persona, measured, p, tol)
            checks += 1
    assert checks == 10
    # the measured numbers appear in the rendered map
    page = render_html(SHOP, m)
    loyal = m.stage("evaluation", "loyal")
    assert loyal is not None
    assert loyal.progression is not None
    assert f"{loyal.persons:,} persons" in page
    assert f"{100 * loyal.progression:.0f}% progress" in page
    assert f"({loyal.dropped:,})" in page


def test_measure_structure(shop: tuple[Workspace, dict[str, Any]]) -> None:
    ws, _ = shop
    m = measure_map(SHOP, ws)
    for s in m.stages:
        if s.progression is not None:
            assert s.progressed + s.dropped == s.persons
            assert sum(n for _, n in s.went_instead) == s.dropped
        if s.median_hours is not None:
            assert s.p90_hours is not None
            assert s.p90_hours >= s.median_hours
    # personas partition the assigned persons of every stage
    for stage in SHOP.stages:
        total = m.stage(stage.id)
        parts = [m.stage(stage.id, p.id) for p in SHOP.personas]
        assert total is not None
        assert sum(p.persons for p in parts if p) <= total.persons
    after = m.stage("experience_after", "loyal")
    assert after is not None
    assert after.csat is not None
    assert after.nps is not None
    assert m.touchpoint("awareness", "Google", "*")
    assert m.to_frame().shape[0] == len(SHOP.stages) * (len(SHOP.personas) + 1)


def test_demo_map_png_for_ci(shop: tuple[Workspace, dict[str, Any]], tmp_path: Path) -> None:
    """The main job's poster (``kundresa demo``: the measured shop map in Swedish) as a PNG in
    artifacts/screenshots/journey-map-demo.png, which CI keeps; checked to be the full poster
    (nothing cut, not blank, colour emoji)."""
    require_chromium()
    ws, _ = shop
    lines = demo_map(ws, tmp_path)
    png = tmp_path / "journey-map.png"
    assert any(str(png.resolve()) in line for line in lines), lines
    jm = new_map("shop", lang="sv")
    size = svg_size(render_svg(jm, measure_map(jm, ws)))
    check_png(png, size)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, SHOTS / "journey-map-demo.png")
    assert (SHOTS / "journey-map-demo.png").stat().st_size == png.stat().st_size


def test_duckdb_and_spark_identical(tmp_path: Path, spark_session: Any) -> None:
    result = synthesize(persons=600, seed=11, out=tmp_path / "s")
    out = {}
    for engine in ("duckdb", "spark"):
        path = tmp_path / ("d.duckdb" if engine == "duckdb" else "sp")
        ws = Workspace.open(path, engine=engine, spark=spark_session)
        ws.ingest([result.events_path])
        d = measure_map(SHOP, ws).to_dict()
        d.pop("engine")
        out[engine] = d
    assert out["duckdb"]["persons"] > 400
    assert out["duckdb"] == out["spark"]
