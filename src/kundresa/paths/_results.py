"""Result objects of the path analyses (frozen, JSON-ready, with a table and a figure).

Counts are always labelled: ``count`` is a number of *transitions* (or paths) and
``persons`` a number of unique persons; the two are never mixed in one figure.

>>> g = TransitionGraph(unit="person", units=1, persons=1, transitions=(
...     {"source": "a", "target": "b", "count": 1, "persons": 1, "median_seconds": 60.0},),
...     nodes=(), loops=())
>>> g.to_frame()[["source", "target", "count"]].values.tolist()
[['a', 'b', 1]]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kundresa._errors import InvalidOptionError
from kundresa._frozen import thaw
from kundresa._results import Result
from kundresa._util import humanize_seconds

__all__ = [
    "Flows",
    "JourneyArchetypes",
    "PageStats",
    "PathsReport",
    "TopPaths",
    "TransitionGraph",
    "Variants",
]

_MEASURES = ("persons", "count")


def _frame(rows: Sequence[Mapping[str, Any]], columns: list[str]) -> Any:
    import pandas as pd

    return pd.DataFrame([thaw(r) for r in rows], columns=columns)  # list cells, as in JSON


def _fmt_seconds(s: float | None) -> str:
    return humanize_seconds(s, "-")


def _check_measure(measure: str) -> str:
    if measure not in _MEASURES:
        raise InvalidOptionError("measure", measure, allowed=_MEASURES)
    return measure


@dataclass(frozen=True)
class TransitionGraph(Result):
    """Directly-follows graph: ``transitions`` records ``source -> target`` with ``count``
    (transitions), ``persons`` (unique persons) and ``median_seconds``; ``nodes`` with events,
    persons, ``starts`` and ``ends`` (start/end activities); ``loops`` are the self-loops.

    >>> TransitionGraph("session", 0, 0, (), (), ()).count_of
    'transitions'
    """

    unit: str
    units: int
    persons: int
    transitions: tuple[Mapping[str, Any], ...]
    nodes: tuple[Mapping[str, Any], ...]
    loops: tuple[Mapping[str, Any], ...]
    count_of: str = "transitions"

    @property
    def start_activities(self) -> dict[str, int]:
        """Units starting with each label."""
        return {n["label"]: n["starts"] for n in self.nodes if n["starts"]}

    @property
    def end_activities(self) -> dict[str, int]:
        """Units ending with each label."""
        return {n["label"]: n["ends"] for n in self.nodes if n["ends"]}

    def to_frame(self) -> Any:
        return _frame(self.transitions, ["source", "target", "count", "persons", "median_seconds"])

    def plot(self, measure: str = "count", top: int = 40, kind: str = "graph") -> Any:
        """A graph figure: nodes on a circle, edge width by ``measure`` (top edges only);
        ``kind="matrix"``: a heatmap, one row per source and one column per target, of the
        ``top`` labels with the most events (readable however many edges there are).

        >>> g = TransitionGraph("person", 1, 1, ({"source": "a", "target": "b", "count": 3,
        ...     "persons": 1, "median_seconds": 6.0},), ({"label": "a", "events": 3},
        ...     {"label": "b", "events": 3}), ())
        >>> [list(row) for row in g.plot(kind="matrix").data[0].z]
        [[None, 3], [None, None]]
        """
        import plotly.graph_objects as go

        measure = _check_measure(measure)
        if kind not in ("graph", "matrix"):
            raise InvalidOptionError("kind", kind, allowed=("graph", "matrix"))
        if kind == "matrix":
            return self._matrix(measure, top)
        labels = [n["label"] for n in self.nodes]
        pos = {
            lab: (
                math.cos(2 * math.pi * i / max(len(labels), 1)),
                math.sin(2 * math.pi * i / max(len(labels), 1)),
            )
            for i, lab in enumerate(labels)
        }
        edges = sorted(self.transitions, key=lambda e: -e[measure])[:top]
        widest = max((e[measure] for e in edges), default=1) or 1
        fig = go.Figure()
        for e in edges:
            (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
            fig.add_trace(
                go.Scatter(
                    x=[x0, x1],
                    y=[y0, y1],
                    mode="lines",
                    line={"width": 1 + 9 * e[measure] / widest},
                    hovertext=f"{e['source']} → {e['target']}: {e[measure]:,} {measure}"
                    f", median {_fmt_seconds(e['median_seconds'])}",
                    hoverinfo="text",
                    showlegend=False,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=[pos[x][0] for x in labels],
                y=[pos[x][1] for x in labels],
                mode="markers+text",
                text=labels,
                textposition="top center",
                marker={"size": 12},
                showlegend=False,
            )
        )
        measure_label = "transitions" if measure == "count" else "unique persons"
        fig.update_layout(title=f"Transition graph ({measure_label}, unit {self.unit})")
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig

    def _matrix(self, measure: str, top: int) -> Any:
        import plotly.graph_objects as go

        nodes = sorted(self.nodes, key=lambda n: (-n.get("events", 0), n["label"]))[:top]
        labels = [n["label"] for n in nodes]
        cell = {(e["source"], e["target"]): e for e in self.transitions}
        z = [[cell[(a, b)][measure] if (a, b) in cell else None for b in labels] for a in labels]
        hover = [
            [
                f"{a} → {b}: {cell[(a, b)][measure]:,} {measure}, median "
                f"{_fmt_seconds(cell[(a, b)]['median_seconds'])}" if (a, b) in cell else ""
                for b in labels
            ]
            for a in labels
        ]  # fmt: skip
        heat = go.Heatmap(
            z=z, x=labels, y=labels, text=hover, hoverinfo="text", colorscale="Blues",
            texttemplate="%{z:,}", xgap=1, ygap=1,
        )  # fmt: skip
        fig = go.Figure(heat)
        measure_label = "transitions" if measure == "count" else "unique persons"
        fig.update_layout(
            title=f"Transition matrix ({measure_label}, unit {self.unit})",
            height=max(420, 140 + 30 * len(labels)),
            xaxis={"title": "to", "side": "top", "tickangle": -40},
            yaxis={"title": "from", "autorange": "reversed"},
        )
        return fig

    def __str__(self) -> str:
        lines = [
            f"transition graph (unit {self.unit}): {len(self.transitions):,} edges, "
            f"{self.units:,} paths, {self.persons:,} persons; count = transitions"
        ]
        for e in sorted(self.transitions, key=lambda e: -e["count"])[:15]:
            lines.append(
                f"  {e['count']:>9,}  {e['persons']:>8,} persons  "
                f"{_fmt_seconds(e['median_seconds']):>9}  {e['source']} -> {e['target']}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class Variants(Result):
    """Process variants: distinct label sequences of whole paths, ``count`` paths each.

    >>> Variants("session", 0, 0, ()).to_frame().shape
    (0, 5)
    """

    unit: str
    units: int
    persons: int
    variants: tuple[Mapping[str, Any], ...]

    def to_frame(self) -> Any:
        return _frame(self.variants, ["variant", "count", "persons", "share", "median_seconds"])

    def plot(self) -> Any:
        """Bar chart of the most frequent variants (count of paths)."""
        import plotly.graph_objects as go

        rows = self.variants[:20]
        return go.Figure(
            go.Bar(
                x=[r["count"] for r in rows][::-1],
                y=[" → ".join(r["variant"]) for r in rows][::-1],
                orientation="h",
            ),
            layout={"title": f"Top variants (paths, unit {self.unit})"},
        )

    def __str__(self) -> str:
        lines = [f"{len(self.variants):,} variants shown of {self.units:,} paths"]
        for r in self.variants[:15]:
            lines.append(f"  {r['count']:>9,}  {r['share']:6.1%}  " + " -> ".join(r["variant"]))
        return "\n".join(lines)


@dataclass(frozen=True)
class TopPaths(Result):
    """The most common paths of one kind, with the share of persons and median duration.

    ``kind`` is ``conversion`` (the last steps up to the first conversion), ``drop_off`` (the
    last steps of paths that never convert), ``between`` (from one step to the next) or
    ``after_drop_off`` (what persons did after a step when they never reached the next).
    ``…`` marks a path cut short.

    >>> TopPaths("conversion", "person", ("Order Completed",), 0, 0, ()).to_frame().shape
    (0, 5)
    """

    kind: str
    unit: str
    events: tuple[str, ...]
    units: int
    persons: int
    paths: tuple[Mapping[str, Any], ...]

    def to_frame(self) -> Any:
        return _frame(self.paths, ["path", "persons", "share", "count", "median_seconds"])

    def plot(self) -> Any:
        """Bar chart of the share of persons per path."""
        import plotly.graph_objects as go

        rows = self.paths[:15]
        return go.Figure(
            go.Bar(
                x=[r["share"] for r in rows][::-1],
                y=[" → ".join(r["path"]) for r in rows][::-1],
                orientation="h",
            ),
            layout={"title": f"Top paths ({self.kind}), share of persons"},
        )

    def __str__(self) -> str:
        lines = [
            f"top paths, {self.kind} ({', '.join(self.events)}; unit {self.unit}): "
            f"{self.persons:,} persons, {self.units:,} paths"
        ]
        for r in self.paths[:15]:
            lines.append(
                f"  {r['share']:6.1%} of persons  {r['count']:>8,} paths  "
                f"{_fmt_seconds(r['median_seconds']):>9}  " + " -> ".join(r["path"])
            )
        return "\n".join(lines)


def _sankey_positions(
    nodes: Sequence[Mapping[str, Any]], measure: str
) -> tuple[list[float], list[float]]:
    """Node (x, y) in (0, 1): the nodes of the k-th step present in column k, stacked from
    the top in their order with heights proportional to ``measure`` (Plotly otherwise
    places a node by its links, so a step-2 node without outgoing links ends up last).

    >>> _sankey_positions(({"step": 1, "persons": 1}, {"step": 2, "persons": 1}), "persons")
    ([0.01, 0.99], [0.5, 0.5])
    """
    columns = sorted({n["step"] for n in nodes})
    col = {s: i for i, s in enumerate(columns)}
    last = max(len(columns) - 1, 1)
    x = [round(0.01 + 0.98 * col[n["step"]] / last, 6) for n in nodes]
    totals: dict[Any, float] = {}
    for n in nodes:
        totals[n["step"]] = totals.get(n["step"], 0.0) + max(float(n[measure]), 0.0)
    y: list[float] = []
    used: dict[Any, float] = {}
    for n in nodes:
        total = totals[n["step"]] or 1.0
        share = max(float(n[measure]), 0.0) / total
        top = used.get(n["step"], 0.0)
        used[n["step"]] = top + share
        y.append(round(min(max(0.01 + 0.98 * (top + share / 2), 0.01), 0.99), 6))
    return x, y


@dataclass(frozen=True)
class Flows(Result):
    """A Sankey of paths: ``nodes`` per step (top labels, the rest as ``other``) and ``links``
    between consecutive steps, each with ``count`` (paths, i.e. transitions) and ``persons``
    (unique persons); ``drop_off`` counts paths that end at a node.

    >>> Flows("start", "Product Viewed", None, 5, 5, "session", 0, 0, (), ()).plot().data[0].type
    'sankey'
    """

    mode: str
    start: str | None
    end: str | None
    max_steps: int
    top: int
    unit: str
    paths: int
    persons: int
    nodes: tuple[Mapping[str, Any], ...]
    links: tuple[Mapping[str, Any], ...]

    def to_frame(self) -> Any:
        return _frame(self.links, ["step", "source", "target", "count", "persons"])

    def plot(self, measure: str = "persons") -> Any:
        """A Plotly Sankey; ``measure`` is ``persons`` (unique persons) or ``count``
        (transitions); the title says which."""
        import plotly.graph_objects as go

        measure = _check_measure(measure)
        index = {(n["step"], n["label"]): i for i, n in enumerate(self.nodes)}
        measure_label = "unique persons" if measure == "persons" else "transitions"
        x, y = _sankey_positions(self.nodes, measure)
        sankey = go.Sankey(
            arrangement="snap",
            node={
                "label": [f"{n['step']}. {n['label']}" for n in self.nodes],
                "x": x,
                "y": y,
                "customdata": [n[measure] for n in self.nodes],
                "hovertemplate": "%{label}: %{customdata:,} " + measure_label + "<extra></extra>",
            },
            link={
                "source": [index[(lk["step"], lk["source"])] for lk in self.links],
                "target": [index[(lk["step"] + 1, lk["target"])] for lk in self.links],
                "value": [lk[measure] for lk in self.links],
            },
        )
        what = {
            "start": f"from {self.start}",
            "end": f"to {self.end}",
            "between": f"from {self.start} to {self.end}",
            "all": "from the start",
        }
        return go.Figure(
            sankey,
            layout={"title": f"Flows {what[self.mode]} ({measure_label}, unit {self.unit})"},
        )

    def __str__(self) -> str:
        lines = [f"flows ({self.mode}; {self.paths:,} paths, {self.persons:,} persons)"]
        for step in range(self.max_steps):
            nodes = [n for n in self.nodes if n["step"] == step]
            cells = ", ".join(f"{n['label']} {n['count']:,}" for n in nodes)
            lines.append(f"  step {step}: {cells}")
        return "\n".join(lines)


@dataclass(frozen=True)
class JourneyArchetypes(Result):
    """Journeys to the first conversion per person (touches, seconds, channels), split into
    ``long`` and ``short`` archetypes, compared in ``summary``.

    >>> JourneyArchetypes("Order Completed", "kmeans", {}, (), ()).to_frame().shape
    (0, 5)
    """

    conversion: str
    method: str
    boundary: Mapping[str, float]
    summary: tuple[Mapping[str, Any], ...]
    journeys: tuple[Mapping[str, Any], ...]

    def to_frame(self) -> Any:
        return _frame(
            self.journeys, ["person_id", "touches", "duration_seconds", "channels", "archetype"]
        )

    def plot(self) -> Any:
        """Scatter of journeys: touches vs days, coloured by archetype (log axes)."""
        import plotly.graph_objects as go

        fig = go.Figure()
        for name in ("short", "long"):
            rows = [j for j in self.journeys if j["archetype"] == name]
            fig.add_trace(
                # SVG up to a few thousand points (WebGL is missing in many browsers)
                (go.Scatter if len(self.journeys) <= 5000 else go.Scattergl)(
                    x=[r["touches"] for r in rows],
                    y=[max(r["duration_seconds"] / 86400, 1e-3) for r in rows],
                    mode="markers",
                    name=name,
                    marker={"size": 7, "opacity": 0.7},
                )
            )
        fig.update_layout(
            title=f"Journeys to {self.conversion}",
            xaxis_type="log",
            yaxis_type="log",
            xaxis_title="touches",
            yaxis_title="days to conversion",
        )
        return fig

    def __str__(self) -> str:
        lines = [f"journey archetypes to {self.conversion} ({self.method})"]
        for s in self.summary:
            lines.append(
                f"  {s['archetype']:<6} {s['persons']:>8,} persons ({s['share']:.0%})  "
                f"median {s['median_touches']:.0f} touches, {_fmt_seconds(s['median_seconds'])}, "
                f"{s['median_channels']:.0f} channels; top: {', '.join(s['top_channels'])}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class PageStats(Result):
    """Web pages and time: per page views, persons, median seconds on page (time to the next
    event of the session; the last event of a session has none), entries, exits, exit rate
    and the share of viewing persons who convert afterwards.

    >>> PageStats("touchpoint", "Order Completed", {}, ()).to_frame().shape
    (0, 9)
    """

    page_field: str
    conversion: str
    sessions: Mapping[str, float]
    pages: tuple[Mapping[str, Any], ...]

    def to_frame(self) -> Any:
        return _frame(
            self.pages,
            [
                "page",
                "views",
                "persons",
                "median_seconds_on_page",
                "entries",
                "exits",
                "exit_rate",
                "converted_after",
                "conversion_rate_after",
            ],
        )

    def plot(self) -> Any:
        """Bar chart: share of viewing persons who convert afterwards, per page."""
        import plotly.graph_objects as go

        rows = sorted(self.pages, key=lambda r: r["conversion_rate_after"])
        return go.Figure(
            go.Bar(
                x=[r["conversion_rate_after"] for r in rows],
                y=[r["page"] for r in rows],
                orientation="h",
            ),
            layout={"title": f"Persons converting ({self.conversion}) after viewing the page"},
        )

    def __str__(self) -> str:
        s = self.sessions
        lines = [
            f"sessions {s.get('sessions', 0):,.0f}; median {_fmt_seconds(s.get('median_seconds'))}"
            f", {s.get('median_events', 0):.0f} events",
            f"  {'page':<24}{'views':>9}{'on page':>10}{'entries':>9}{'exit %':>8}{'conv %':>8}",
        ]
        for r in self.pages[:25]:
            lines.append(
                f"  {str(r['page'])[:23]:<24}{r['views']:>9,}"
                f"{_fmt_seconds(r['median_seconds_on_page']):>10}{r['entries']:>9,}"
                f"{r['exit_rate']:>8.1%}{r['conversion_rate_after']:>8.1%}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class PathsReport(Result):
    """What ``kundresa paths`` prints: the transition graph, variants and, given a
    conversion event, the top paths to it and to drop-off.

    >>> PathsReport(TransitionGraph("session", 0, 0, (), (), ()),
    ...             Variants("session", 0, 0, ()), None, None).to_dict()["conversion"] is None
    True
    """

    graph: TransitionGraph
    variants: Variants
    conversion: TopPaths | None
    drop_off: TopPaths | None

    def to_frame(self) -> Any:
        return self.graph.to_frame()

    def plot(self, measure: str = "count") -> Any:
        """The transition graph figure."""
        return self.graph.plot(measure)

    def __str__(self) -> str:
        parts = [str(self.graph), str(self.variants)]
        parts += [str(p) for p in (self.conversion, self.drop_off) if p is not None]
        return "\n\n".join(parts)
