"""The path analyses: flows, transition graph, variants, top paths, archetypes, pages.

Every function takes a :class:`~kundresa.Workspace` and returns a frozen result. The engine
selects, orders and encodes the touchpoints once per set of cleaning rules (cached on the
workspace until the events change); the rest is numpy (see ADR 0008).

>>> import tempfile, pathlib, datetime as dt
>>> import pyarrow as pa
>>> from kundresa import Workspace
>>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "p.duckdb")
>>> t0 = dt.datetime(2026, 1, 5, 10)
>>> rows = [("a", 0, "Home"), ("a", 60, "Product Viewed"), ("a", 120, "Order Completed"),
...         ("b", 0, "Home"), ("b", 30, "Product Viewed")]
>>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
>>> g = transition_graph(ws, unit="person")
>>> [(e["source"], e["target"], e["count"], e["persons"]) for e in g.transitions]
[('Home', 'Product Viewed', 2, 2), ('Product Viewed', 'Order Completed', 1, 1)]
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kundresa._errors import InvalidOptionError, NotFoundError
from kundresa._util import parse_duration, renamed
from kundresa.paths import _kernel as kn
from kundresa.paths._index import PathRules, Sequences, load_sequences
from kundresa.paths._results import (
    Flows,
    PathsReport,
    TopPaths,
    TransitionGraph,
    Variants,
)

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = [
    "flows",
    "journey_archetypes",
    "page_stats",
    "paths",
    "paths_after_drop_off",
    "paths_between",
    "sequences",
    "top_paths",
    "transition_graph",
    "variants",
]

UNITS = ("session", "person")
OTHER = "other"
ELLIPSIS = "…"


def _demo_log(rows: list[tuple[str, int, str]], folder: Path) -> Path:
    """Write ``(person, seconds, event)`` rows as a CSV log (for examples)."""
    t0 = dt.datetime(2026, 1, 5, 10)
    lines = ["event_id,user_id,ts,type,event,channel"]
    for i, (p, s, e) in enumerate(rows):
        lines.append(f"e{i},{p},{(t0 + dt.timedelta(seconds=s)).isoformat()},track,{e},web")
    path = folder / "log.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _fingerprint(ws: Workspace) -> tuple[Any, ...]:
    t = ws.events()
    row = ws.store.fetch(
        t.aggregate(n=t.count(), last=t.ingested_at.max(), ts=t.ts.max())
    ).to_pylist()[0]
    return (row["n"], str(row["last"]), str(row["ts"]))


def sequences(
    ws: Workspace, rules: PathRules | None = None, *, extra: tuple[str, ...] = ()
) -> Sequences:
    """The encoded, ordered touchpoints under ``rules`` (cached until the events change).

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> sequences(Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "e.duckdb")).n
    0
    """
    rules = rules or PathRules()
    part = (rules, tuple(sorted(extra)))
    built = ws.cache(
        "paths.sequences", part, _fingerprint(ws), lambda: load_sequences(ws, rules, extra=extra)
    )
    seq: Sequences = built
    return seq


def _units(
    ws: Workspace,
    rules: PathRules | None,
    unit: str,
    session_gap: str,
    collapse_repeats: bool,
    extra: tuple[str, ...] = (),
) -> kn.Units:
    if unit not in UNITS:
        raise InvalidOptionError("unit", unit, allowed=UNITS)
    gap = parse_duration(session_gap, "session_gap")
    seq = sequences(ws, rules, extra=extra)
    return kn.make_units(
        seq,
        unit=unit,
        session_gap_us=int(gap.total_seconds() * 1_000_000),
        collapse_repeats=collapse_repeats,
    )


def _code(u: kn.Units, name: str, field: str) -> int:
    code = u.seq.code(name)
    if code < 0:
        raise NotFoundError(field, name, candidates=u.labels)
    return code


def _positive(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidOptionError(field, value, fix="pass a whole number >= 1")
    return value


def _seconds(us: float) -> float:
    return round(float(us) / 1e6, 3)


# -- transition graph and variants ---------------------------------------------------------
@renamed(grain="unit")
def transition_graph(
    ws: Workspace,
    *,
    unit: str = "session",
    session_gap: str = "30m",
    collapse_repeats: bool = False,
    rules: PathRules | None = None,
) -> TransitionGraph:
    """Directly-follows graph with frequency, unique persons and median time on each edge.

    See the module example.
    """
    u = _units(ws, rules, unit, session_gap, collapse_repeats)
    return _graph_result(u, unit)


def _graph_result(u: kn.Units, unit: str) -> TransitionGraph:
    g = kn.transition_graph(u)
    labels = u.labels
    edges = [
        {
            "source": labels[a],
            "target": labels[b],
            "count": int(c),
            "persons": int(p),
            "median_seconds": _seconds(m),
        }
        for a, b, c, p, m in zip(
            g.source.tolist(),
            g.target.tolist(),
            g.count.tolist(),
            g.persons.tolist(),
            g.median_us.tolist(),
            strict=True,
        )
    ]
    edges.sort(key=lambda e: (-e["count"], e["source"], e["target"]))
    nodes: list[dict[str, Any]] = [
        {
            "label": labels[i],
            "events": int(g.node_events[i]),
            "persons": int(g.node_persons[i]),
            "starts": int(g.starts[i]),
            "ends": int(g.ends[i]),
        }
        for i in range(len(labels))
        if g.node_events[i]
    ]
    nodes.sort(key=lambda n: (-n["events"], n["label"]))
    return TransitionGraph(
        unit=unit,
        units=u.count,
        persons=kn.count_distinct(u.person),
        transitions=tuple(edges),
        nodes=tuple(nodes),
        loops=tuple(e for e in edges if e["source"] == e["target"]),
    )


def _path_rows(u: kn.Units, groups: kn.SliceGroups, key: str) -> list[dict[str, Any]]:
    labels = u.labels
    denom = groups.total_persons if key == "path" else groups.total_units
    out = []
    for i in range(len(groups.paths)):
        path = [ELLIPSIS if c < 0 else labels[c] for c in groups.paths[i]]
        count, persons = int(groups.units[i]), int(groups.persons[i])
        out.append(
            {
                key: path,
                "count": count,
                "persons": persons,
                "share": round((persons if key == "path" else count) / denom, 6) if denom else 0.0,
                "median_seconds": _seconds(groups.median_us[i]),
            }
        )
    return out


@renamed(grain="unit")
def variants(
    ws: Workspace,
    *,
    unit: str = "session",
    session_gap: str = "30m",
    collapse_repeats: bool = False,
    rules: PathRules | None = None,
    top: int | None = 20,
) -> Variants:
    """Process variants: distinct whole-path sequences with counts (share of paths).

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "v.duckdb")
    >>> rows = [("a", 0, "x"), ("a", 9, "y"), ("b", 0, "x"), ("b", 9, "y"), ("c", 0, "y")]
    >>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
    >>> [(v["variant"], v["count"]) for v in variants(ws).variants]
    [(('x', 'y'), 2), (('y',), 1)]
    """
    u = _units(ws, rules, unit, session_gap, collapse_repeats)
    return _variants_result(u, unit, top)


def _variants_result(u: kn.Units, unit: str, top: int | None) -> Variants:
    groups = kn.group_slices(u, u.start, u.end - 1, top=top)
    rows = _path_rows(u, groups, "variant")
    return Variants(unit=unit, units=u.count, persons=groups.total_persons, variants=tuple(rows))


# -- top paths -----------------------------------------------------------------------------
@renamed(grain="unit", steps="max_steps")
def top_paths(
    ws: Workspace,
    conversion: str,
    *,
    outcome: str = "conversion",
    max_steps: int = 5,
    top: int = 10,
    unit: str = "person",
    session_gap: str = "30m",
    collapse_repeats: bool = True,
    rules: PathRules | None = None,
) -> TopPaths:
    """Top paths to ``conversion`` (the last ``max_steps`` events up to its first occurrence in
    a path) or, with ``outcome="drop_off"``, the last ``max_steps`` events of paths that never
    reach it; share = share of persons, duration from the first shown step to the last.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "t.duckdb")
    >>> rows = [("a", 0, "x"), ("a", 9, "buy"), ("b", 0, "x"), ("b", 5, "y")]
    >>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
    >>> top_paths(ws, "buy").paths[0]["path"]
    ('x', 'buy')
    """
    outcomes = ("conversion", "drop_off")
    if outcome not in outcomes:
        raise InvalidOptionError("outcome", outcome, allowed=outcomes)
    steps = _positive(max_steps, "max_steps")
    u = _units(ws, rules, unit, session_gap, collapse_repeats)
    code = _code(u, conversion, "conversion")
    hit = kn.first_in_unit(u, code)
    if outcome == "conversion":
        sel = np.flatnonzero(hit >= 0)
        hi = hit[sel]
    else:
        sel = np.flatnonzero(hit < 0)
        hi = u.end[sel] - 1
    lo = np.maximum(u.start[sel], hi - (steps - 1))
    groups = kn.group_slices(u, lo, hi, top=top, by_persons=True)
    return TopPaths(
        kind=outcome,
        unit=unit,
        events=(conversion,),
        units=groups.total_units,
        persons=groups.total_persons,
        paths=tuple(_path_rows(u, groups, "path")),
    )


@renamed(grain="unit", steps="max_steps")
def paths_between(
    ws: Workspace,
    first: str,
    second: str,
    *,
    max_steps: int = 5,
    top: int = 10,
    unit: str = "person",
    session_gap: str = "30m",
    collapse_repeats: bool = True,
    rules: PathRules | None = None,
) -> TopPaths:
    """Paths from the first ``first`` to the next ``second`` (two funnel steps); paths with
    more than ``steps`` events in between show the first ``steps``, ``…`` and ``second``.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "b.duckdb")
    >>> rows = [("a", 0, "add"), ("a", 5, "faq"), ("a", 9, "buy")]
    >>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
    >>> paths_between(ws, "add", "buy").paths[0]["path"]
    ('add', 'faq', 'buy')
    """
    steps = _positive(max_steps, "max_steps")
    u = _units(ws, rules, unit, session_gap, collapse_repeats)
    a = kn.first_in_unit(u, _code(u, first, "first"))
    b = kn.first_in_unit(u, _code(u, second, "second"), after=a)
    sel = np.flatnonzero((a >= 0) & (b >= 0))
    lo, end = a[sel], b[sel]
    long = (end - lo - 1) > steps
    hi = np.where(long, lo + steps, end)
    groups = kn.group_slices(
        u, lo, hi, truncated=long, tail=end, dur_hi=end, top=top, by_persons=True
    )
    return TopPaths(
        kind="between",
        unit=unit,
        events=(first, second),
        units=groups.total_units,
        persons=groups.total_persons,
        paths=tuple(_path_rows(u, groups, "path")),
    )


@renamed(grain="unit", steps="max_steps")
def paths_after_drop_off(
    ws: Workspace,
    step: str,
    next_step: str,
    *,
    max_steps: int = 5,
    top: int = 10,
    unit: str = "person",
    session_gap: str = "30m",
    collapse_repeats: bool = True,
    rules: PathRules | None = None,
) -> TopPaths:
    """What happened after ``step`` in paths that never reached ``next_step`` after it:
    ``step`` and up to ``steps`` following events (hand-over from a funnel's drop-off).

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "d.duckdb")
    >>> rows = [("a", 0, "add"), ("a", 5, "faq"), ("b", 0, "add"), ("b", 3, "buy")]
    >>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
    >>> [p["path"] for p in paths_after_drop_off(ws, "add", "buy").paths]
    [('add', 'faq')]
    """
    steps = _positive(max_steps, "max_steps")
    u = _units(ws, rules, unit, session_gap, collapse_repeats)
    a = kn.first_in_unit(u, _code(u, step, "step"))
    nxt = u.seq.code(next_step)
    if nxt < 0:
        raise NotFoundError("next_step", next_step, candidates=u.labels)
    b = kn.first_in_unit(u, nxt, after=a)
    sel = np.flatnonzero((a >= 0) & (b < 0))
    lo = a[sel]
    hi = np.minimum(u.end[sel] - 1, lo + steps)
    groups = kn.group_slices(u, lo, hi, top=top, by_persons=True)
    return TopPaths(
        kind="after_drop_off",
        unit=unit,
        events=(step, next_step),
        units=groups.total_units,
        persons=groups.total_persons,
        paths=tuple(_path_rows(u, groups, "path")),
    )


# -- flows (Sankey) ------------------------------------------------------------------------
@renamed(grain="unit", steps="max_steps")
def flows(
    ws: Workspace,
    *,
    start: str | None = None,
    end: str | None = None,
    max_steps: int = 5,
    top: int = 5,
    unit: str = "session",
    session_gap: str = "30m",
    collapse_repeats: bool = True,
    rules: PathRules | None = None,
) -> Flows:
    """Paths starting at ``start``, ending at ``end`` (backwards), between both, or from the
    first event: ``max_steps`` steps, per step the ``top`` labels and the rest as ``other``.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "f.duckdb")
    >>> rows = [("a", 0, "x"), ("a", 9, "y"), ("b", 0, "x"), ("b", 5, "z")]
    >>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
    >>> [(lk["source"], lk["target"], lk["persons"]) for lk in flows(ws, start="x").links]
    [('x', 'y', 1), ('x', 'z', 1)]
    """
    steps = _positive(max_steps, "max_steps")
    top = _positive(top, "top")
    u = _units(ws, rules, unit, session_gap, collapse_repeats)
    return _flows_result(u, start, end, steps=steps, top=top, unit=unit)


def _flows_result(
    u: kn.Units, start: str | None, end: str | None, *, steps: int, top: int, unit: str
) -> Flows:
    s = _code(u, start, "start") if start is not None else None
    e = _code(u, end, "end") if end is not None else None
    mode = (
        "all"
        if s is None and e is None
        else "between"
        if s is not None and e is not None
        else "start"
        if s is not None
        else "end"
    )
    fc = kn.flow_counts(u, start=s, end=e, steps=steps, top=top)
    names = [*u.labels, OTHER]
    nodes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for k in range(steps):
        cnt, ppl = fc.nodes[k].tolist(), fc.node_persons[k].tolist()
        nxt = fc.links[k].sum(axis=1).tolist() if k + 1 < steps else [0] * len(cnt)
        for c in sorted((c for c in range(len(cnt)) if cnt[c]), key=lambda c: (-cnt[c], names[c])):
            nodes.append(
                {
                    "step": k,
                    "label": names[c],
                    "count": int(cnt[c]),
                    "persons": int(ppl[c]),
                    "drop_off": int(cnt[c] - nxt[c]) if k + 1 < steps else 0,
                }
            )
        if k + 1 < steps:
            lc, lp = fc.links[k], fc.link_persons[k]
            pairs = sorted(
                zip(*np.nonzero(lc), strict=True),
                key=lambda ab: (-lc[ab], names[ab[0]], names[ab[1]]),
            )
            for a, b in pairs:
                links.append(
                    {
                        "step": k,
                        "source": names[a],
                        "target": names[b],
                        "count": int(lc[a, b]),
                        "persons": int(lp[a, b]),
                    }
                )
    return Flows(
        mode=mode,
        start=start,
        end=end,
        max_steps=steps,
        top=top,
        unit=unit,
        paths=fc.paths,
        persons=fc.persons,
        nodes=tuple(nodes),
        links=tuple(links),
    )


# -- the CLI's report ----------------------------------------------------------------------
@renamed(grain="unit", steps="max_steps")
def paths(
    ws: Workspace,
    *,
    conversion: str | None = None,
    unit: str = "session",
    session_gap: str = "30m",
    collapse_repeats: bool = False,
    rules: PathRules | None = None,
    max_steps: int = 5,
    top: int = 10,
) -> PathsReport:
    """Transition graph + variants, and with ``conversion`` the top paths to it and to
    drop-off (what ``kundresa paths`` prints).

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "r.duckdb")
    >>> rows = [("a", 0, "x"), ("a", 9, "buy")]
    >>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
    >>> paths(ws, conversion="buy").graph.transitions[0]["count"]
    1
    """
    u = _units(ws, rules, unit, session_gap, collapse_repeats)
    graph = _graph_result(u, unit)
    var = _variants_result(u, unit, top)
    conv = drop = None
    if conversion is not None:
        kw: dict[str, Any] = {
            "max_steps": max_steps,
            "top": top,
            "unit": unit,
            "session_gap": session_gap,
            "rules": rules,
            "collapse_repeats": collapse_repeats,
        }
        conv = top_paths(ws, conversion, **kw)
        drop = top_paths(ws, conversion, outcome="drop_off", **kw)
    return PathsReport(graph=graph, variants=var, conversion=conv, drop_off=drop)


# archetypes and pages live in their own module (size); re-exported here
from kundresa.paths._journeys import journey_archetypes, page_stats  # noqa: E402
