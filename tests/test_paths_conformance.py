"""Planned vs actual (map conformance) and map discovery: hand-built and planted logs with
expected deviations known by construction, on both engines; discovery on the synthetic shop.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kundresa import Workspace
from kundresa._errors import InvalidOptionError
from kundresa.maps import JourneyMap, load_map, render_svg, save_map, validate_file
from kundresa.paths._conformance import conformance
from kundresa.paths._discover import discover_map

T0 = dt.datetime(2026, 1, 5, 10)
# stage -> the events of its rule; the plan is this order
PLAN = (
    ("aware", ("Ad Clicked", "Social Post Clicked")),
    ("consider", ("Product Viewed",)),
    ("evaluate", ("Product Added",)),
    ("buy", ("Checkout Started",)),
    ("after", ("Survey Answered",)),
)


def _map(kind: str = "future") -> JourneyMap:
    stages = []
    for sid, events in PLAN:
        rule = {"events": ["Email Clicked"], "channels": ["email"]}
        cell = {"touchpoints": [{"name": "Reminder", "channel": "email", "match": rule}]}
        stages.append({"id": sid, "name": sid.title(), "match": {"events": list(events)},
                       "cells": {"x": cell, "y": {}}})  # fmt: skip
    return JourneyMap.from_dict({
        "kundresa_map": 2, "title": "Plan", "goal": "G", "type": kind, "owner": "CX",
        "language": "en",
        "personas": [{"id": "x", "name": "X", "select": {"events": ["Identify"],
                                                         "where": {"segment": "x"}}},
                     {"id": "y", "name": "Y", "select": {"events": ["Identify"],
                                                         "where": {"segment": "y"}}}],
        "stages": stages,
    })  # fmt: skip


def _write(rows: list[tuple[str, int, str, str, str]], folder: Path) -> Path:
    """(person, seconds, type, event, channel or segment) rows as a CSV log."""
    lines = ["event_id,user_id,ts,type,event,channel,segment"]
    for i, (p, s, typ, ev, extra) in enumerate(rows):
        when = (T0 + dt.timedelta(seconds=s)).isoformat()
        if typ == "identify":
            lines.append(f"e{i:06d},{p},{when},identify,Identify,,{extra}")
        else:
            lines.append(f"e{i:06d},{p},{when},{typ},{ev},{extra},")
    path = folder / "log.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _users(ws: Workspace) -> dict[str, str]:
    """person_id -> the user id written in the log."""
    t = ws.events(touchpoints_only=False).select("user_id", "person_id").distinct()
    return {str(r["person_id"]): str(r["user_id"]) for r in ws.store.to_arrow(t).to_pylist()}


# --- hand-built ------------------------------------------------------------------------------
HAND = [
    ("ok", ["Ad Clicked", "Product Viewed", "Product Added", "Checkout Started"], "x"),
    ("skip", ["Ad Clicked", "Product Added", "Checkout Started"], "x"),
    ("order", ["Product Viewed", "Social Post Clicked", "Product Added", "Checkout Started"], "y"),
    (
        "loop",
        ["Ad Clicked", "Product Viewed", "Product Added", "Product Viewed", "Checkout Started"],
        "y",
    ),
    (
        "unpl",
        ["Ad Clicked", "Product Viewed", "Email Clicked", "Page Viewed", "Product Added"],
        "y",
    ),
    ("none", ["Page Viewed"], "y"),
]


def _hand_rows() -> list[tuple[str, int, str, str, str]]:
    rows: list[tuple[str, int, str, str, str]] = []
    for p, events, seg in HAND:
        rows.append((p, 0, "identify", "Identify", seg))
        for i, e in enumerate(events):
            ch = "email" if e == "Email Clicked" else "web"
            rows.append((p, 60 * (i + 1), "page" if e == "Page Viewed" else "track", e, ch))
    return rows


def test_conformance_hand_built(make_workspace: Callable[..., Workspace], tmp_path: Path) -> None:
    ws = make_workspace()
    ws.ingest([_write(_hand_rows(), tmp_path)])
    c = conformance(ws, _map())
    assert c.persons == 5  # "none" entered no stage
    assert c.conformant == 2
    users = _users(ws)
    got = {
        users[p.person_id]: (p.skipped, p.out_of_order, p.loops, p.unplanned) for p in c.by_person
    }
    assert got == {
        "ok": ((), (), (), 0),
        "skip": (("consider",), (), (), 0),
        "order": ((), ("consider",), (), 0),
        "loop": ((), (), ("consider",), 0),
        "unpl": ((), (), (), 1),  # Email Clicked on email is a planned touchpoint
    }
    expect = {  # stage: expected, reached, skipped, out_of_order, looped, as_planned
        "aware": (5, 5, 0, 0, 0, 5),
        "consider": (5, 4, 1, 1, 1, 2),
        "evaluate": (5, 5, 0, 0, 0, 5),
        "buy": (4, 4, 0, 0, 0, 4),
        "after": (0, 0, 0, 0, 0, 0),
    }
    for sid, row in expect.items():
        s = c.stage(sid)
        assert s is not None
        assert (s.expected, s.reached, s.skipped, s.out_of_order, s.looped, s.as_planned) == row
    consider = c.stage("consider")
    assert consider is not None
    assert consider.unplanned_events == 1
    assert consider.top_unplanned == (("Page Viewed", 1),)
    x = c.stage("consider", "x")
    assert x is not None
    assert (x.expected, x.skipped, x.as_planned) == (2, 1, 1)
    y = c.stage("consider", "y")
    assert y is not None
    assert (y.expected, y.out_of_order, y.looped, y.as_planned) == (3, 1, 1, 1)
    # outputs
    assert c.to_frame().shape[0] == 15
    assert c.to_frame("persons").shape[0] == 5
    assert c.to_dict()["rate"] == 0.4
    assert "consider" in str(c)
    assert len(c.plot().data) == 4
    svg = render_svg(_map(), conformance=c)
    assert "50% as planned (1/2)" in svg
    assert "lane-conformance" in svg


def test_conformance_refuses_day_in_the_life_and_ruleless(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "e.duckdb")
    d = _map().to_dict()
    d["type"] = "day_in_the_life"
    with pytest.raises(InvalidOptionError):
        conformance(ws, JourneyMap.from_dict(d))
    d["type"] = "current"
    for s in d["stages"]:
        s.pop("match")
    with pytest.raises(InvalidOptionError):
        conformance(ws, JourneyMap.from_dict(d))


# --- planted: a seeded generator that records the deviations it plants -----------------------
def _planted(n: int, seed: int) -> tuple[list[tuple[str, int, str, str, str]], dict[str, Any]]:
    """Persons walk the plan; each gets planted deviations (recorded as the expected answer):
    skip a middle stage, move a stage one place earlier, loop back to a stage, unplanned page
    views inside a stage, stop early (not a deviation), or a combination."""
    rng = random.Random(seed)
    rows: list[tuple[str, int, str, str, str]] = []
    truth: dict[str, Any] = {}
    last = len(PLAN) - 1
    for i in range(n):
        p = f"p{i:04d}"
        stop = rng.choice([last, last, last - 1, 2])
        path = list(range(stop + 1))
        skip = move = loop = None
        kinds = rng.sample(["skip", "move", "loop", "none", "none"], k=2)
        if "skip" in kinds and stop >= 2:
            skip = rng.randint(1, stop - 1)
            path.remove(skip)
        if "move" in kinds and len(path) >= 3:
            j = rng.randint(1, len(path) - 2)  # swap path[j] and path[j+1]: path[j+1] too early
            if path[j + 1] - path[j] == 1 and path[j] != skip:
                move = path[j + 1]
                path[j], path[j + 1] = path[j + 1], path[j]
        if "loop" in kinds and len(path) >= 2 and move is None:
            j = rng.randint(0, len(path) - 2)
            loop = path[j]
            path.insert(j + 2, loop)  # back to stage path[j] after entering path[j+1]
        unplanned: Counter[str] = Counter()
        events: list[tuple[str, str]] = []
        for k in path:
            events.append(("track", rng.choice(PLAN[k][1])))
            if rng.random() < 0.2:
                extra = rng.randint(1, 3)
                events += [("page", "Page Viewed")] * extra
                unplanned[PLAN[k][0]] += extra
            if rng.random() < 0.2:
                events.append(("track", "Email Clicked"))  # a planned touchpoint
        seg = rng.choice("xy")
        rows.append((p, 0, "identify", "Identify", seg))
        for t, (typ, ev) in enumerate(events):
            rows.append((p, 600 * (t + 1), typ, ev, "email" if ev == "Email Clicked" else "web"))
        truth[p] = {
            "persona": seg,
            "skipped": () if skip is None else (PLAN[skip][0],),
            "out_of_order": () if move is None else (PLAN[move][0],),
            "loops": () if loop is None else (PLAN[loop][0],),
            "unplanned": sum(unplanned.values()),
            "furthest": max(path),
            "unplanned_by_stage": unplanned,
        }
    return rows, truth


@pytest.mark.parametrize("n", [240])
def test_conformance_finds_planted_deviations(
    make_workspace: Callable[..., Workspace], tmp_path: Path, n: int
) -> None:
    rows, truth = _planted(n, seed=5)
    kinds = Counter(k for t in truth.values() for k in ("skipped", "out_of_order", "loops") if t[k])
    assert min(kinds.values()) >= 25  # every kind is planted many times
    ws = make_workspace()
    ws.ingest([_write(rows, tmp_path)])
    c = conformance(ws, _map("current"))
    assert c.persons == n
    users = _users(ws)
    for p in c.by_person:
        t = truth[users[p.person_id]]
        got = (p.persona, p.skipped, p.out_of_order, p.loops, p.unplanned)
        assert got == (t["persona"], t["skipped"], t["out_of_order"], t["loops"], t["unplanned"])
    assert c.conformant == sum(
        not (t["skipped"] or t["out_of_order"] or t["loops"]) for t in truth.values()
    )
    # per stage and persona, from the planted records alone
    for g in ("*", "x", "y"):
        members = [t for t in truth.values() if g == "*" or t["persona"] == g]
        for k, (sid, _) in enumerate(PLAN):
            s = c.stage(sid, g)
            assert s is not None
            exp = [t for t in members if t["furthest"] >= k]
            dev = [t for t in exp if sid in (*t["skipped"], *t["out_of_order"], *t["loops"])]
            assert s.expected == len(exp)
            assert s.skipped == sum(sid in t["skipped"] for t in exp)
            assert s.out_of_order == sum(sid in t["out_of_order"] for t in exp)
            assert s.looped == sum(sid in t["loops"] for t in exp)
            assert s.as_planned == len(exp) - len(dev)
            assert s.unplanned_events == sum(t["unplanned_by_stage"][sid] for t in members)


# --- discovery -------------------------------------------------------------------------------
def test_discover_hand_built_is_valid_and_editable(tmp_path: Path) -> None:
    rows, _ = _planted(120, seed=3)
    ws = Workspace.open(tmp_path / "d.duckdb")
    ws.ingest([_write(rows, tmp_path)])
    d = discover_map(ws, stages=5, min_share=0.3, persona_property="segment",
                     conversion="Checkout Started")  # fmt: skip
    # the plan's order is recovered: each planned stage's events land in one stage, in order
    where = {e["event"]: e["stage"] for e in d.events}
    ids = [s.id for s in d.map.stages]
    order = [ids.index(where[ev]) for ev in ("Product Viewed", "Product Added",
                                               "Checkout Started")]  # fmt: skip
    assert order == sorted(order)
    assert len(set(order)) == 3
    assert d.map.measurement.conversion is not None
    assert {p.id for p in d.map.personas} == {"x", "y"}
    out = d.save(tmp_path / "draft.yaml")
    report = validate_file(out, ws=ws)
    assert report.ok, str(report)
    assert load_map(out) == d.map
    assert d.to_frame().shape[0] == len(d.events)
    assert d.dominant_paths
    assert "Discovered map" in str(d)
    # the draft measures against its own data
    assert conformance(ws, d.map).persons > 0


def test_discover_on_the_synthetic_shop(synthetic_shop: tuple[Workspace, dict[str, Any]],
                                        tmp_path: Path) -> None:  # fmt: skip
    """The planted funnel order (view -> add -> checkout -> order) is recovered as stage order,
    the four planted personas become personas, and the draft validates against the data."""
    ws, truth = synthetic_shop
    d = discover_map(ws, persona_property="segment", conversion="Order Completed")
    where = {e["event"]: e["stage"] for e in d.events}
    ids = [s.id for s in d.map.stages]
    funnel = [ids.index(where[e]) for e in ("Product Viewed", "Product Added",
                                            "Checkout Started", "Order Completed")]  # fmt: skip
    assert funnel == sorted(funnel), funnel
    assert {p.id for p in d.map.personas} == set(truth["personas"])
    path = d.save(tmp_path / "shop.yaml")
    assert validate_file(path, ws=ws).ok
    c = conformance(ws, path)
    assert 0 < c.conformant <= c.persons


def test_cli_discover_and_conformance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kundresa.cli import app, main

    rows, _ = _planted(60, seed=9)
    db = tmp_path / "c.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest([_write(rows, tmp_path)])
    plan = tmp_path / "plan.yaml"
    save_map(_map(), plan)
    runner = CliRunner()
    draft = tmp_path / "draft.yaml"
    r = runner.invoke(app, ["map", "discover", "--db", str(db), "--out", str(draft),
                            "--stages", "4", "--persona-property", "segment"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert draft.exists()
    assert "wrote" in r.output
    r = runner.invoke(app, ["map", "validate", str(draft)])
    assert r.exit_code == 0, r.output
    svg = tmp_path / "plan.svg"
    r = runner.invoke(app, ["map", "conformance", str(plan), "--db", str(db), "--json",
                            "--out", str(svg)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert '"conformant"' in r.output
    assert "lane-conformance" in svg.read_text()
    with pytest.raises(SystemExit) as exc:
        main(["map", "conformance", str(tmp_path / "missing.yaml"), "--db", str(db)])
    assert exc.value.code == 2
    assert "missing.yaml" in capsys.readouterr().err
