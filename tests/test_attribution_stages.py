"""Channel report and attribution per journey stage and per persona (a journey map's rules),
on both engines, against a pure-Python reference on small, tie-heavy data; and the CLI.

The reference re-implements the documented definitions independently: a person enters a
stage at their first event matching its rule; a touch is in the furthest stage entered at or
before its timestamp (``(before)`` if none); the persona is the first persona (map order)
whose rule any of the person's events matches.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kundresa import InvalidOptionError, Journeys, Workspace, attribute, channel_report
from kundresa.attribution import build_journeys
from kundresa.attribution._stages import load_journey_map
from kundresa.maps import JourneyMap, save_map

T0 = dt.datetime(2026, 1, 5, 9, 0)
DAY = 86400
CONV = "Order Completed"

# (user, seconds after T0, type, channel, event, properties); ties on purpose
ROWS: list[tuple[str, int, str, str | None, str, dict[str, Any]]] = [
    ("u1", 0, "identify", None, "", {"segment": "pro"}),
    ("u1", 0, "track", "email", "Email Opened", {}),  # before any stage
    ("u1", 10, "track", "search", "Search Result Clicked", {}),  # enters aware
    ("u1", 10, "track", "web", "Page Viewed", {}),  # same second as the entry: aware
    ("u1", 20, "track", "web", "Product Viewed", {}),  # enters consider
    ("u1", 30, "track", "email", "Email Opened", {}),
    ("u1", 40, "track", "web", "Checkout Started", {}),  # enters buy
    ("u1", 50, "track", "web", CONV, {"revenue": 100}),
    ("u1", 2 * DAY, "track", "ads", "Ad Clicked", {}),  # still buy (furthest entered)
    ("u1", 2 * DAY + 10, "track", "store", CONV, {"revenue": 50}),
    ("u2", 0, "track", "ads", "Ad Clicked", {}),  # enters aware
    ("u2", 0, "identify", None, "", {"segment": "free"}),
    ("u2", 5, "track", "app", "Screen Viewed", {}),  # tie with the next: both consider
    ("u2", 5, "track", "app", "Product Viewed", {}),
    ("u2", DAY, "track", "store", CONV, {"revenue": 70}),
    ("u3", 0, "track", "social", "Social Post Clicked", {}),  # no rule: before
    ("u3", 60, "track", "web", "Product Viewed", {}),  # consider, aware skipped
    ("u3", 120, "track", "social", "Social Post Clicked", {}),
    ("u4", 0, "track", "web", "Product Viewed", {}),
    ("u4", 30, "track", "search", "Search Result Clicked", {}),  # aware entry, but consider
    ("u4", 40, "identify", None, "", {"segment": "pro"}),
    ("u4", 50, "track", "web", CONV, {"revenue": 30}),
    ("u5", 0, "track", "app", "Screen Viewed", {}),
    ("u5", 0, "identify", None, "", {"segment": "free"}),
    ("u5", 0, "identify", None, "", {"segment": "pro"}),  # first persona in map order wins
    ("u6", 0, "track", "web", "Page Viewed", {}),  # online, but no product view
    ("u6", DAY, "track", "store", CONV, {"revenue": 20}),
]

AWARE = {"Ad Clicked", "Search Result Clicked"}
MAP = JourneyMap.from_dict(
    {
        "kundresa_map": 2,
        "title": "Test shop",
        "goal": "Buy",
        "type": "current",
        "owner": "CX",
        "language": "en",
        "personas": [
            {"id": p, "name": p, "select": {"events": ["Identify"], "where": {"segment": p}}}
            for p in ("pro", "free")
        ],
        "stages": [
            {"id": "aware", "name": "Aware", "match": {"events": sorted(AWARE)}},
            {"id": "consider", "name": "Consider", "match": {"events": ["Product Viewed"]}},
            {"id": "buy", "name": "Buy", "match": {"events": ["Checkout Started"]}},
            {"id": "love", "name": "Love"},  # no rule: never a touch's stage
        ],
        "measurement": {"conversion": {"events": [CONV], "stage": "buy"}},
    }
)
RULES = {"aware": AWARE, "consider": {"Product Viewed"}, "buy": {"Checkout Started"}}
STAGES = ["aware", "consider", "buy"]


def _write(path: Path) -> None:
    lines = []
    for k, (u, s, typ, ch, ev, props) in enumerate(ROWS):
        msg: dict[str, Any] = {
            "messageId": f"e{k:03d}",
            "type": typ,
            "userId": u,
            "timestamp": (T0 + dt.timedelta(seconds=s)).isoformat() + "Z",
        }
        if typ == "identify":
            msg["traits"] = props
        else:
            msg |= {"event": ev, "properties": props, "context": {"channel": ch}}
        lines.append(json.dumps(msg))
    path.write_text("\n".join(lines) + "\n")


# -- the independent reference ---------------------------------------------------------------
def reference_touches() -> list[dict[str, Any]]:
    """Every touch (track rows) with its stage and persona, by the documented definitions."""
    entry: dict[tuple[str, str], int] = {}
    persona: dict[str, str] = {}
    for u, s, typ, _, ev, _props in ROWS:
        for st, names in RULES.items():
            if typ == "track" and ev in names:
                entry[(u, st)] = min(entry.get((u, st), s), s)
    for u in {r[0] for r in ROWS}:
        segs = {r[5]["segment"] for r in ROWS if r[0] == u and r[2] == "identify"}
        persona[u] = next((p for p in ("pro", "free") if p in segs), "(none)")
    out = []
    for k, (u, s, typ, ch, ev, props) in enumerate(ROWS):
        if typ != "track":
            continue
        entered = [st for st in STAGES if (u, st) in entry and entry[(u, st)] <= s]
        out.append(
            {
                "id": f"e{k:03d}",
                "user": u,
                "s": s,
                "channel": ch,
                "event": ev,
                "revenue": props.get("revenue", 0.0),
                "stage": entered[-1] if entered else "(before)",
                "persona": persona[u],
            }
        )
    return out


def reference_report(
    group: str, lookback_s: int = 30 * DAY
) -> dict[tuple[str, str], dict[str, Any]]:
    touches = reference_touches()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    firsts: dict[tuple[str, str], str] = {}
    for t in sorted(touches, key=lambda t: (t["s"], t["id"])):
        firsts.setdefault((t["user"], t[group]), t["channel"])
    for t in touches:
        row = out.setdefault((t[group], t["channel"]), {"persons": set(), "touches": 0})
        row["persons"].add(t["user"])
        row["touches"] += 1
    per_group: dict[str, int] = {}
    for (_, g), _ch in firsts.items():
        per_group[g] = per_group.get(g, 0) + 1
    convs = [t for t in touches if t["event"] == CONV]
    for (g, ch), row in out.items():
        row["persons"] = len(row["persons"])
        n_first = sum(1 for (_, gg), c in firsts.items() if gg == g and c == ch)
        row["first_touch_share"] = n_first / per_group[g]
        hit = [
            c
            for c in convs
            if any(
                t["user"] == c["user"]
                and t[group] == g
                and t["channel"] == ch
                and t["event"] != CONV
                and 0 <= c["s"] - t["s"] <= lookback_s
                for t in touches
            )
        ]
        row["conversions"] = len(hit)
        row["revenue"] = float(sum(c["revenue"] for c in hit))
        gaps = [
            min(
                c["s"] - t["s"]
                for t in touches
                if t["user"] == c["user"]
                and t[group] == g
                and t["channel"] == ch
                and t["event"] != CONV
                and 0 <= c["s"] - t["s"] <= lookback_s
            )
            for c in hit
        ]
        row["median_seconds_to_conversion"] = statistics.median(gaps) if gaps else None
    return out


def reference_paths(lookback_s: int = 30 * DAY) -> list[tuple[str, tuple[str, ...], int]]:
    """(user, merged "stage / channel" path, converted) per journey."""
    by_user: dict[str, list[dict[str, Any]]] = {}
    for t in reference_touches():
        by_user.setdefault(t["user"], []).append(t)
    out = []
    for u, ts in sorted(by_user.items()):
        ts.sort(key=lambda t: (t["s"], t["id"]))
        cur: list[dict[str, Any]] = []
        journeys = []
        for t in ts:
            if t["event"] == CONV:
                journeys.append((cur, t["s"], 1))
                cur = []
            else:
                cur.append(t)
        if cur:
            journeys.append((cur, cur[-1]["s"], 0))
        for touches, end, conv in journeys:
            labels = [
                f"{t['stage']} / {t['channel']}" for t in touches if end - t["s"] <= lookback_s
            ]
            merged: list[str] = []
            for lab in labels:
                if not merged or merged[-1] != lab:
                    merged.append(lab)
            out.append((u, tuple(merged), conv))
    return out


# -- tests -----------------------------------------------------------------------------------
@pytest.fixture
def ws(make_workspace: Callable[..., Workspace], tmp_path: Path) -> Workspace:
    path = tmp_path / "events.jsonl"
    _write(path)
    w = make_workspace("stages")
    report = w.ingest([path])
    assert report.quarantined == 0
    return w


def _users(w: Workspace) -> dict[str, str]:
    ids = w.table("identities")
    rows = w.store.to_arrow(ids.filter(ids.id_type == "user_id")).to_pylist()
    return {r["person_id"]: r["identifier"] for r in rows}


def test_report_and_attribution_per_stage_and_persona(ws: Workspace) -> None:
    """Both engines: every number per stage and per persona equals the reference."""
    rep = channel_report(ws, CONV, journey_map=MAP)
    assert rep.stages == ("(before)", "aware", "consider", "buy")
    assert rep.personas == ("pro", "free", "(none)")
    for group, rows in (("stage", rep.by_stage), ("persona", rep.by_persona)):
        ref = reference_report(group)
        got = {(r[group], r["channel"]): r for r in rows}
        assert set(got) == set(ref), group
        for key, want in ref.items():
            for field in ("persons", "touches", "conversions"):
                assert got[key][field] == want[field], (group, key, field)
            assert got[key]["revenue"] == pytest.approx(want["revenue"]), (group, key)
            assert got[key]["first_touch_share"] == pytest.approx(want["first_touch_share"])
            med = got[key]["median_seconds_to_conversion"]
            want_med = want["median_seconds_to_conversion"]
            assert med == (None if want_med is None else pytest.approx(want_med)), (group, key)
        # rows come in the map's order of stages / personas
        order = rep.stages if group == "stage" else rep.personas
        assert [order.index(r[group]) for r in rows] == sorted(order.index(r[group]) for r in rows)
    # spot checks of the definitions (tie at the entry second; furthest stage; persona order)
    by_stage = {(r["stage"], r["channel"]): r for r in rep.by_stage}
    assert by_stage[("aware", "web")]["touches"] == 1  # u1's page view at the entry second
    assert by_stage[("buy", "ads")]["conversions"] == 1  # u1's ad after the first order
    assert by_stage[("aware", "search")]["persons"] == 1  # u1 only
    assert by_stage[("consider", "search")]["persons"] == 1  # u4 searched after viewing
    assert {r["persona"] for r in rep.by_persona if r["channel"] == "app"} == {"free", "pro"}
    assert len(rep.to_frame(by="stage")) == len(rep.by_stage)
    assert len(rep.plot(by="persona").data) == 2 * len(rep.personas)
    if ws.engine == "duckdb":  # the overall rows are unchanged by the map (engine-independent)
        assert rep.rows == channel_report(ws, CONV).rows

    # per-stage attribution: journeys labelled "stage / channel"
    users = _users(ws)
    j = build_journeys(ws, CONV, journey_map=MAP)
    got_paths = sorted(
        (users[p], path, int(c))
        for p, path, c in zip(j.person_id, j.paths(), j.conversions, strict=True)
    )
    assert got_paths == sorted(reference_paths())
    r = attribute(ws, CONV, model="all", journey_map=MAP)
    last: dict[str, float] = {}
    linear: dict[str, float] = {}
    for _, p, c in reference_paths():
        if p and c:
            last[p[-1]] = last.get(p[-1], 0.0) + 1
            for lab in p:
                linear[lab] = linear.get(lab, 0.0) + 1 / len(p)
    assert {k: v for k, v in r.credits["last"].items() if v} == last
    assert r.credits["linear"] == pytest.approx({c: linear.get(c, 0.0) for c in r.channels})
    frame = r.to_frame()
    assert list(frame.columns[:2]) == ["stage", "channel"]
    assert list(frame["stage"]) == sorted(frame["stage"], key=r.stages.index)
    totals = r.stage_totals()
    for m in r.models:
        if m != "participation":
            assert totals[m].sum() == pytest.approx(r.conversions), m
    assert len(r.plot().data) == len(r.models) * totals.shape[0]
    if ws.engine == "duckdb":  # excluding a channel drops it in every stage
        no_web = attribute(ws, CONV, model="last", journey_map=MAP, exclude_channels=["web"])
        assert no_web.channels
        assert not [c for c in no_web.channels if c.endswith(" / web")]


def test_map_errors_and_file(tmp_path: Path) -> None:
    """A map file path works wherever a map does; a map needs a workspace, not journeys."""
    with pytest.raises(InvalidOptionError, match="journey_map"):
        attribute(Journeys.from_paths([["a"]], [1]), journey_map=MAP)
    with pytest.raises(InvalidOptionError, match="journey_map"):
        load_journey_map(42)
    save_map(MAP, tmp_path / "map.yaml")
    assert load_journey_map(tmp_path / "map.yaml") == MAP
    assert load_journey_map(str(tmp_path / "map.yaml")) == MAP


def test_cli(tmp_path: Path) -> None:
    """``channels --map``, ``attribution --map``, ``ropo``: JSON, readable 100-column text
    (in-process; one real subprocess for the error path)."""
    from typer.testing import CliRunner

    from kundresa.cli import app

    _write(tmp_path / "ev.jsonl")
    db = str(tmp_path / "k.duckdb")
    with Workspace.open(db) as w:
        w.ingest([tmp_path / "ev.jsonl"])
    save_map(MAP, tmp_path / "map.yaml")
    mp = str(tmp_path / "map.yaml")
    runner = CliRunner()

    def run(*args: str) -> str:
        res = runner.invoke(app, [*args, "--db", db])
        assert res.exit_code == 0, res.output
        return str(res.stdout)

    out = json.loads(run("channels", "--conversion", CONV, "--map", mp, "--json"))
    assert out["stages"] == ["(before)", "aware", "consider", "buy"]
    assert {(r["stage"], r["channel"]) for r in out["by_stage"]} == set(reference_report("stage"))
    lines = run("channels", "--conversion", CONV, "--map", mp).splitlines()
    assert max(len(x) for x in lines) <= 100
    assert lines[0].split()[:4] == ["channel", "persons", "sessions", "touches"]
    assert "median time" in lines[0]
    assert "by stage:" in lines
    assert "by persona:" in lines
    att = run("attribution", "--conversion", CONV, "--map", mp)
    assert max(len(x) for x in att.splitlines()) <= 100
    assert "markov" in att
    assert "shap_ord" in att  # all 13 models, wrapped into blocks
    js = json.loads(run("attribution", "--conversion", CONV, "--map", mp, "--json"))
    assert js["stage_channels"]["buy / ads"] == ["buy", "ads"]
    # ROPO: default research is a product view; 'any' counts every online touch
    ropo = json.loads(run("ropo", "--json"))
    assert ropo["settings"]["research_event"] == "Product Viewed"
    # store orders: u1 and u2 viewed a product online before, u6 only visited a page
    assert (ropo["offline_conversions"], ropo["researched_online"]) == (3, 2)
    anyt = json.loads(run("ropo", "--research-event", "any", "--json"))
    assert anyt["settings"]["research_event"] is None
    assert anyt["researched_online"] == 3
    bad = subprocess.run(
        [sys.executable, "-m", "kundresa.cli", "channels", "--db", db, "--map", "nope.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 2
    assert "nope.yaml" in bad.stderr
    assert "Traceback" not in bad.stderr
