"""Identity stitching and sessions, against independent references, on both engines."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kundresa import SessionConfig, Workspace
from kundresa._stitch import _components

from .conftest import normalise

T0 = dt.datetime(2026, 1, 5, 8, 0, 0)


def _call(i: int, minutes: float, **kw: Any) -> dict[str, Any]:
    ts = (T0 + dt.timedelta(minutes=minutes)).isoformat() + "Z"
    return {"type": "track", "event": "E", "timestamp": ts, "messageId": f"m{i}", **kw}


def _load(ws: Workspace, tmp_path: Path, calls: list[dict[str, Any]], name: str = "c") -> None:
    f = tmp_path / f"{name}.jsonl"
    f.write_text("\n".join(json.dumps(c) for c in calls))
    report = ws.ingest([f])
    assert report.quarantined == 0, ws.quarantine()


def _persons(ws: Workspace) -> dict[str, str]:
    rows = ws.store.to_arrow(ws.table("events").select("event_id", "person_id")).to_pylist()
    return {r["event_id"]: r["person_id"] for r in rows}


def test_ropo_journey_is_one_person(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """Phone (anonymous), laptop (signs in), store purchase with a loyalty card linked at
    sign-in: one person, retroactively (the phone's early events too)."""
    calls = [
        _call(1, 0, anonymousId="phone", event="Social Post Clicked", channel="social"),
        _call(2, 1, anonymousId="phone", event="Product Viewed", channel="app"),
        _call(3, 60 * 24, anonymousId="laptop", event="Product Viewed", channel="web"),
        {
            "type": "identify",
            "anonymousId": "laptop",
            "userId": "u1",
            "messageId": "m4",
            "timestamp": "2026-01-06T09:00:00Z",
            "traits": {"loyalty_card": "LC-1"},
        },
        {
            "type": "alias",
            "previousId": "phone",
            "userId": "u1",
            "messageId": "m5",
            "timestamp": "2026-01-06T09:05:00Z",
        },
        _call(
            6,
            60 * 48,
            event="Order Completed",
            channel="store",
            properties={"loyalty_card": "LC-1", "revenue": 12990},
        ),
        _call(7, 60 * 49, anonymousId="stranger", event="Product Viewed"),
    ]
    ws = make_workspace()
    _load(ws, tmp_path, calls)
    p = _persons(ws)
    assert len({p[f"m{i}"] for i in range(1, 7)}) == 1
    assert p["m7"] != p["m1"]
    info = ws.info()
    assert (info.persons, info.merged_persons) == (2, 1)


def test_shared_device_never_merges_two_customers(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """A family laptop used by u1 then u2: the earliest link wins, the other is refused."""
    calls = [
        _call(1, 0, anonymousId="family", userId="u1"),
        _call(2, 10, anonymousId="family", userId="u2"),
        _call(3, 20, anonymousId="family"),
        _call(4, 30, userId="u2"),
    ]
    ws = make_workspace()
    _load(ws, tmp_path, calls)
    report = ws.stitch()
    assert report.refused_links == 1
    p = _persons(ws)
    assert p["m1"] == p["m3"]  # the anonymous device stays with the first user
    assert p["m2"] == p["m4"] != p["m1"]  # u2's events are u2's (user_id has priority)


def test_alias_merges_two_user_ids(tmp_path: Path) -> None:
    """An explicit alias joins two user ids (a renamed account); the guard does not apply."""
    calls = [
        _call(1, 0, userId="old-id"),
        _call(2, 5, userId="new-id"),
        _call(3, 6, userId="other"),
        {
            "type": "alias",
            "previousId": "old-id",
            "userId": "new-id",
            "messageId": "m4",
            "timestamp": "2026-01-05T09:00:00Z",
        },
    ]
    with Workspace.open(tmp_path / "a.duckdb") as ws:
        _load(ws, tmp_path, calls)
        p = _persons(ws)
        assert p["m1"] == p["m2"] == p["m4"] != p["m3"]
        assert ws.stitch().refused_links == 0


def _reference_components(n: int, edges: list[tuple[int, int]]) -> list[set[int]]:
    adj: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    seen: set[int] = set()
    comps = []
    for start in range(n):
        if start in seen:
            continue
        comp, stack = set(), [start]
        while stack:
            x = stack.pop()
            if x in comp:
                continue
            comp.add(x)
            stack.extend(adj[x] - comp)
        seen |= comp
        comps.append(comp)
    return comps


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 30),
    data=st.data(),
)
def test_components_match_breadth_first_reference(n: int, data: st.DataObject) -> None:
    """Without user-id conflicts, persons are exactly the connected components."""
    edges = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40)
    )
    keys = [f"anonymous_id:{i}" for i in range(n)]
    roots, refused = _components(
        keys, [a for a, _ in edges], [b for _, b in edges], ["event"] * len(edges)
    )
    assert refused == 0
    ours: dict[int, set[int]] = defaultdict(set)
    for i, r in enumerate(roots):
        ours[r].add(i)
    assert sorted(map(sorted, ours.values())) == sorted(
        map(sorted, _reference_components(n, edges))
    )


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 25), data=st.data())
def test_no_person_ever_holds_two_user_ids(n: int, data: st.DataObject) -> None:
    users = data.draw(st.sets(st.integers(0, n - 1), min_size=2))
    keys = [f"user_id:{i}" if i in users else f"anonymous_id:{i}" for i in range(n)]
    edges = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60)
    )
    roots, _ = _components(
        keys, [a for a, _ in edges], [b for _, b in edges], ["event"] * len(edges)
    )
    per: dict[int, int] = defaultdict(int)
    for i, r in enumerate(roots):
        per[r] += keys[i].startswith("user_id:")
    assert max(per.values()) <= 1


# -- sessions ---------------------------------------------------------------------------


def _reference_sessions(events: list[dict[str, Any]], cfg: SessionConfig) -> dict[str, str]:
    gap = {"30m": 1800, "10m": 600}[cfg.session_gap]
    out: dict[str, str] = {}
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_person[e["person_id"]].append(e)
    for pid, evs in by_person.items():
        evs.sort(key=lambda e: (e["ts"], e["event_id"]))
        n, prev = 0, None
        for e in evs:
            surface = e["channel"] if e["channel"] in cfg.separate_channels else "online"
            if (
                prev is None
                or (e["ts"] - prev[0]).total_seconds() > gap
                or surface != prev[1]
                or e["event"] in cfg.start_events
            ):
                n += 1
            out[e["event_id"]] = f"{pid}#{n}"
            prev = (e["ts"], surface)
    return out


def _tie_heavy_calls(seed: int, n: int = 300) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    calls = []
    minute = dict.fromkeys(range(6), 0.0)
    for i in range(n):
        d = rng.randrange(6)
        minute[d] += rng.choice([0, 0, 1, 5, 29, 30, 31, 45, 600])  # ties and edges of the gap
        calls.append(
            _call(
                i,
                minute[d],
                anonymousId=f"d{d}",
                event=rng.choice(["View", "Add", "Start"]),
                channel=rng.choice(["web", "web", "app", "store", "email"]),
            )
        )
    return calls


def test_sessions_match_reference_on_tie_heavy_data(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """Gap exactly 30 min stays in the session (strictly greater splits); equal timestamps
    are ordered by event_id; store and e-mail never share a session with web/app."""
    ws = make_workspace()
    _load(ws, tmp_path, _tie_heavy_calls(1))
    for cfg in (SessionConfig(), SessionConfig(session_gap="10m", start_events=("Start",))):
        ws.stitch(cfg)
        cols = ["event_id", "person_id", "ts", "channel", "event", "session_id"]
        rows = normalise(ws.store.to_arrow(ws.table("events").select(cols)), ["event_id"])
        expected = _reference_sessions(rows, cfg)
        assert {r["event_id"]: r["session_id"] for r in rows} == expected


def test_engines_agree_on_the_whole_event_table(tmp_path: Path, spark_session: Any) -> None:
    """DuckDB and Spark produce identical events, identities and summaries."""
    calls = _tie_heavy_calls(2, 400) + [
        {
            "type": "identify",
            "anonymousId": f"d{i}",
            "userId": f"u{i // 2}",
            "timestamp": "2026-01-05T08:00:00Z",
            "messageId": f"id{i}",
        }
        for i in range(6)
    ]
    f = tmp_path / "x.jsonl"
    f.write_text("\n".join(json.dumps(c) for c in calls))
    out = {}
    for engine in ("duckdb", "spark"):
        path = tmp_path / ("d.duckdb" if engine == "duckdb" else "s_spark")
        ws = Workspace.open(path, engine=engine, spark=spark_session)
        ws.ingest([f])
        ev = [c for c in ws.store.names() if c == "events"]
        assert ev
        cols = [c for c in ws.table("events").columns if c != "ingested_at"]
        out[engine] = (
            normalise(ws.store.to_arrow(ws.table("events").select(cols)), ["event_id"]),
            normalise(ws.store.to_arrow(ws.table("identities")), ["id_type", "identifier"]),
            {k: v for k, v in ws.info().to_dict().items() if k != "engine"},
        )
    assert out["duckdb"][0] == out["spark"][0]
    assert out["duckdb"][1] == out["spark"][1]
    assert out["duckdb"][2] == out["spark"][2]
    assert out["duckdb"][2]["persons"] == 3


def test_forget_deletes_one_person_everywhere(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """Right to erasure: every event, identifier, link and quarantined row of the person goes;
    nobody else's data changes."""
    calls = [
        _call(1, 0, anonymousId="phone-ann"),
        {
            "type": "identify",
            "anonymousId": "phone-ann",
            "userId": "ann",
            "messageId": "m2",
            "timestamp": "2026-01-05T09:00:00Z",
            "traits": {"email": "ann@example.com"},
        },
        _call(3, 5, userId="ann", event="Order Completed"),
        _call(4, 6, userId="bob"),
        {
            "type": "track",
            "userId": "ann",
            "timestamp": "not a time",
            "event": "X",
            "messageId": "bad",
        },
    ]
    f = tmp_path / "f.jsonl"
    f.write_text("\n".join(json.dumps(c) for c in calls))
    ws = make_workspace()
    assert ws.ingest([f]).quarantined == 1
    before = _persons(ws)
    result = ws.forget("ann@example.com", id_type="email")
    assert (result.events, result.identifiers, result.quarantined) == (3, 3, 1)
    assert _persons(ws) == {"m4": before["m4"]}
    ids = ws.store.to_arrow(ws.table("identities")).to_pylist()
    assert [r["identifier"] for r in ids] == ["bob"]
    assert ws.quarantine().total == 0
    keys = ws.store.to_arrow(ws.table("identity_links")).to_pylist()
    assert keys == []
    assert ws.forget("nobody").person_id is None
