"""The pages of attribution, channels, journeys, transitions, ROPO and map conformance.

Each page is a chart (the result's own ``plot()``, with translated legend and axes: the
notebook and the page share one figure) and a table, in English, Swedish and Norwegian.
The analyses are declared in :mod:`kundresa._catalog` with ``page=`` and ``figure=``
naming these functions; the server derives the form and the JSON twin. Every page reads
its numbers from ``result.to_dict()`` (the JSON twin) through one table of keys per page
(``_ATTRIBUTION``, ``_CHANNELS``, ...), so a renamed key is one edit here.

>>> from kundresa.attribution import Journeys, attribute
>>> r = attribute(Journeys.from_paths([["a", "b"]], conversions=[1]), model=["first", "last"])
>>> html = render_attribution(r, "sv")
>>> "Första kontakt" in html and 'id="attribution-table"' in html
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from kundresa._results import Result
from kundresa._util import humanize_seconds
from kundresa.server._i18n import label

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = [
    "attribution_form",
    "figure_attribution",
    "figure_channels",
    "figure_conformance",
    "figure_journeys",
    "figure_ropo",
    "figure_transitions",
    "render_attribution",
    "render_channels",
    "render_conformance",
    "render_journeys",
    "render_ropo",
    "render_transitions",
    "suggest_conversion",
]

# -- formatting ------------------------------------------------------------------------------


def fmt_int(v: Any) -> str:
    """A count with thousands separators (``–`` when missing).

    >>> fmt_int(12345), fmt_int(None)
    ('12,345', '–')
    """
    return "–" if v is None else f"{round(v):,}"


def fmt_float(v: Any) -> str:
    """A credit, one decimal.

    >>> fmt_float(2.345)
    '2.3'
    """
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.1f}"


def fmt_pct(v: Any) -> str:
    """A share as a percentage, one decimal.

    >>> fmt_pct(0.1234)
    '12.3 %'
    """
    return "–" if v is None else f"{100 * v:.1f} %"


def fmt_seconds(v: Any) -> str:
    """A duration in seconds, humanised (:func:`kundresa._util.humanize_seconds`).

    >>> fmt_seconds(90), fmt_seconds(7200), fmt_seconds(None)
    ('90 s', '2.0 h', '–')
    """
    return humanize_seconds(v)


def fmt_value(v: Any) -> str:
    """An already formatted number (right-aligned like the others)."""
    return str(v)


def fmt_text(v: Any) -> str:
    """Text (lists joined with commas)."""
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    return "–" if v is None else str(v)


_NUMERIC = {fmt_int, fmt_float, fmt_pct, fmt_seconds, fmt_value}

#: a table column: (label key, function of the row -> value, formatter)
Column = tuple[str, Callable[[Mapping[str, Any]], Any], Callable[[Any], str]]


def _key(name: str, scale: float = 1.0) -> Callable[[Mapping[str, Any]], Any]:
    """Read ``name`` from a row (``None`` when absent), times ``scale``."""

    def get(row: Mapping[str, Any]) -> Any:
        v = row.get(name)
        return v * scale if isinstance(v, int | float) and scale != 1.0 else v

    return get


def table(tid: str, lang: str, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> str:
    """An HTML table: one ``<th data-key>`` per column (the label key, for tests and
    scripts; ``=text`` a literal heading), numbers right-aligned; every cell escaped.

    >>> table("t", "en", [("persons", _key("n"), fmt_int)], [{"n": 1200}])
    '<div class="table-wrap"><table class="num" id="t"><thead><tr><th class="n" data-key=...'
    """
    head = "".join(
        f'<th class="{"n" if f in _NUMERIC else ""}" data-key="{escape(k)}">'
        f"{escape(k[1:] if k.startswith('=') else label(k, lang))}</th>"
        for k, _, f in columns
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if f in _NUMERIC else ""}">{escape(f(get(r)))}</td>'
            for _, get, f in columns
        )
        + "</tr>"
        for r in rows
    )
    return (
        f'<div class="table-wrap"><table class="num" id="{escape(tid)}"><thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def cards(lang: str, items: Sequence[tuple[str, str, str]]) -> str:
    """KPI cards: ``(id, value, label key)``."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="kpi" id="{escape(i)}">{escape(v)}</div>'
            f'<div class="kpi-label">{escape(label(k, lang))}</div></div>'
            for i, v, k in items
        )
        + "</div>"
    )


def _h2(lang: str, key: str, extra: str = "") -> str:
    return f"<h2>{escape(label(key, lang))}{escape(extra)}</h2>"


def _translate(
    fig: Any, lang: str, names: Mapping[str, str], axes: Mapping[str, str] | None = None
) -> Any:
    """Translate a figure's trace names (``names``: English name -> label key) and axis
    titles (``axes``: ``"x"``/``"y"`` -> label key); drop its English title (the page's
    heading is translated)."""
    for trace in fig.data:
        if trace.name in names:
            trace.name = label(names[trace.name], lang)
    for axis, key in (axes or {}).items():
        fig.update_layout({f"{axis}axis_title_text": label(key, lang)})
    fig.update_layout(title=None, margin={"t": 40})
    return fig


# -- attribution -----------------------------------------------------------------------------

#: conversion events tried first when a page opens without one (the Segment e-commerce spec's)
_CONVERSIONS = ("Order Completed", "Purchase", "Checkout Completed", "Subscription Started")


def suggest_conversion(names: Sequence[str]) -> str | None:
    """The conversion event to show when the attribution page opens without one.

    >>> suggest_conversion(["Page Viewed", "Order Completed"])
    'Order Completed'
    >>> suggest_conversion(["Signed Up"]), suggest_conversion([])
    ('Signed Up', None)
    """
    for name in _CONVERSIONS:
        if name in names:
            return name
    return names[-1] if names else None


def attribution_form(ws: Workspace) -> dict[str, Any]:
    """The attribution page's example (a conversion event of the workspace)."""
    conversion = suggest_conversion(list(ws.event_names()))
    return {"example": {"conversion": conversion} if conversion else {}}


#: the keys of AttributionResult.to_dict() the page reads
_ATTRIBUTION = {
    "models": "models",
    "channels": "channels",
    "credits": "credits",
    "reach": "reach",
    "removal": "removal_effects",
    "stages": "stages",
    "stage_channels": "stage_channels",
    "conversions": "conversions",
    "journeys": "journeys",
    "converting": "converting_journeys",
    "unattributed": "unattributed",
}


def attribution_rows(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per channel (per stage x channel with a map): ``stage``, ``channel``,
    ``reach``, ``removal`` and the credit of every model under ``model.<name>``."""
    k = _ATTRIBUTION
    staged = d.get(k["stage_channels"]) or {}
    rows = []
    for c in d[k["channels"]]:
        stage, channel = staged.get(c, (None, c))
        row: dict[str, Any] = {
            "stage": stage,
            "channel": channel,
            "reach": (d.get(k["reach"]) or {}).get(c),
            "removal": (d.get(k["removal"]) or {}).get(c),
        }
        for m in d[k["models"]]:
            row[f"model.{m}"] = d[k["credits"]][m].get(c)
        rows.append(row)
    return rows


def stage_totals(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per-stage attribution: credit per stage summed over channels, per model."""
    k = _ATTRIBUTION
    rows = attribution_rows(d)
    out = []
    for st in d.get(k["stages"]) or ():
        mine = [r for r in rows if r["stage"] == st]
        if mine:
            total = {
                f"model.{m}": sum(r[f"model.{m}"] or 0.0 for r in mine) for m in d[k["models"]]
            }
            out.append({"stage": st, **total})
    return out


def render_attribution(result: Result, lang: str) -> str:
    """Attribution: every chosen model side by side per channel, and per stage with a map."""
    d = result.to_dict()
    k = _ATTRIBUTION
    models = list(d[k["models"]])
    staged = bool(d.get(k["stage_channels"]))
    model_cols: list[Column] = [(f"model.{m}", _key(f"model.{m}"), fmt_float) for m in models]
    cols: list[Column] = [("stage", _key("stage"), fmt_text)] if staged else []
    cols += [("channel", _key("channel"), fmt_text), ("reach", _key("reach"), fmt_int)]
    cols += model_cols
    if d.get(k["removal"]):
        cols.append(("removal_effect", _key("removal"), fmt_pct))
    parts = [
        cards(
            lang,
            [
                ("kpi-conversions", fmt_float(d[k["conversions"]]), "conversions"),
                ("kpi-journeys", fmt_int(d[k["journeys"]]), "journeys_n"),
                ("kpi-converting", fmt_int(d[k["converting"]]), "converting_journeys"),
                ("kpi-unattributed", fmt_float(d[k["unattributed"]]), "unattributed"),
            ],
        ),
        _h2(lang, "attributed_conversions"),
        "<!--figure-->",
    ]
    if staged:
        parts.append(_h2(lang, "per_stage"))
        parts.append(
            table(
                "attribution-stage-table",
                lang,
                [("stage", _key("stage"), fmt_text), *model_cols],
                stage_totals(d),
            )
        )
    parts.append(_h2(lang, "per_stage_channel" if staged else "channels_table"))
    parts.append(table("attribution-table", lang, cols, attribution_rows(d)))
    return "".join(parts)


def figure_attribution(result: Result, lang: str) -> Any:
    """The result's grouped bars, models under their translated names."""
    d = result.to_dict()
    names = {m: f"model.{m}" for m in d[_ATTRIBUTION["models"]]}
    if d.get(_ATTRIBUTION["stage_channels"]):  # one panel per stage, titled by the stage
        return _translate(result.plot(), lang, names)
    return _translate(result.plot(), lang, names, {"x": "channel", "y": "conversions"})


# -- channels --------------------------------------------------------------------------------

#: the keys of ChannelReport.to_dict() the page reads, and its table's columns
_CHANNELS = {
    "column": "column",
    "rows": "rows",
    "by_stage": "by_stage",
    "by_persona": "by_persona",
    "stages": "stages",
    "personas": "personas",
    "conversion": "conversion",
}
_CHANNEL_COLS: tuple[Column, ...] = (
    ("persons", _key("persons"), fmt_int),
    ("sessions", _key("sessions"), fmt_int),
    ("touches", _key("touches"), fmt_int),
    ("first_touch_share", _key("first_touch_share"), fmt_pct),
    ("conversions_touched", _key("conversions"), fmt_int),
    ("revenue_touched", _key("revenue"), fmt_int),
    ("conversion_rate", _key("conversion_rate"), fmt_pct),
    (
        "time_to_conversion",
        _key("median_seconds_to_conversion"),
        fmt_seconds,
    ),
)


def pivot(
    rows: Sequence[Mapping[str, Any]], by: str, column: str, order: Sequence[str], value: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """``rows`` (``by`` x ``column``) as one row per ``by`` value and one column per
    ``column`` value (the columns in order of their total, largest first)."""
    totals: dict[str, float] = {}
    for r in rows:
        totals[str(r[column])] = totals.get(str(r[column]), 0) + (r.get(value) or 0)
    names = sorted(totals, key=lambda c: (-totals[c], c))
    out = []
    for g in order:
        row: dict[str, Any] = {by: g}
        for r in rows:
            if r[by] == g:
                row[f"c:{r[column]}"] = r.get(value)
        out.append(row)
    return names, out


def render_channels(result: Result, lang: str) -> str:
    """Channels: reach, touches, first touches and conversions touched per channel; with a
    map, persons reached per stage and per persona."""
    d = result.to_dict()
    k = _CHANNELS
    column = d[k["column"]]
    rows = d[k["rows"]]
    present = [c for c in _CHANNEL_COLS if any(c[1](r) is not None for r in rows)]
    parts = ["<!--figure-->", _h2(lang, "channels_table", f" ({column})")]
    parts.append(
        table("channels-table", lang, [("channel", _key(column), fmt_text), *present], rows)
    )
    for by, key, head in (
        ("stage", "by_stage", "persons_per_stage"),
        ("persona", "by_persona", "persons_per_persona"),
    ):
        sub = d.get(k[key]) or []
        if not sub:
            continue
        names, pivoted = pivot(sub, by, column, d[k[by + "s"]], "persons")
        parts.append(_h2(lang, head))
        cols: list[Column] = [(by, _key(by), fmt_text)]
        cols += [(f"={n}", _key(f"c:{n}"), fmt_int) for n in names]
        parts.append(table(f"channels-{by}-table", lang, cols, pivoted))
    return "".join(parts)


def figure_channels(result: Result, lang: str) -> Any:
    """The result's bars per channel, translated."""
    names = {"persons reached": "persons_reached", "conversions touched": "conversions_touched"}
    return _translate(result.plot(), lang, names, {"x": "channel", "y": "count"})


# -- journeys --------------------------------------------------------------------------------

#: the keys of JourneyArchetypes.to_dict() the page reads, and its table's columns
_JOURNEYS = {"summary": "summary", "boundary": "boundary", "archetype": "archetype"}
_JOURNEY_COLS: tuple[Column, ...] = (
    ("persons", _key("persons"), fmt_int),
    ("share", _key("share"), fmt_pct),
    ("median_touches", _key("median_touches"), fmt_float),
    (
        "median_duration",
        _key("median_seconds"),
        fmt_seconds,
    ),
    ("median_channels", _key("median_channels"), fmt_float),
    ("top_channels", _key("top_channels"), fmt_text),
)


def render_journeys(result: Result, lang: str) -> str:
    """Journeys: long vs short journeys to conversion compared (touches, time, channels)."""
    d = result.to_dict()
    k = _JOURNEYS
    summary = [
        {**s, "name": label(f"archetype.{s[k['archetype']]}", lang)} for s in d[k["summary"]]
    ]
    boundary = d.get(k["boundary"]) or {}
    items = [
        (f"kpi-{s[k['archetype']]}", fmt_int(s.get("persons")), f"archetype.{s[k['archetype']]}")
        for s in d[k["summary"]]
    ]
    if "long_after_seconds" in boundary:
        items.append(("kpi-boundary", fmt_seconds(boundary["long_after_seconds"]), "long_boundary"))
    cols: list[Column] = [("archetype", _key("name"), fmt_text), *_JOURNEY_COLS]
    return (
        cards(lang, items)
        + _h2(lang, "long_vs_short")
        + table("journeys-table", lang, cols, summary)
        + "<!--figure-->"
    )


def figure_journeys(result: Result, lang: str) -> Any:
    """The result's scatter of journeys (touches vs days), translated."""
    names = {"short": "archetype.short", "long": "archetype.long"}
    axes = {"x": "journeys_axis_touches", "y": "journeys_axis_days"}
    return _translate(result.plot(), lang, names, axes)


# -- transitions -----------------------------------------------------------------------------

#: the keys of TransitionGraph.to_dict() the page reads, and its tables' columns
_TRANSITIONS = {"transitions": "transitions", "nodes": "nodes", "loops": "loops",
                "units": "units", "persons": "persons", "count": "count"}  # fmt: skip
_TRANSITION_COLS: tuple[Column, ...] = (
    ("from", _key("source"), fmt_text),
    ("to", _key("target"), fmt_text),
    ("transitions_n", _key("count"), fmt_int),
    ("persons", _key("persons"), fmt_int),
    ("median_time", _key("median_seconds"), fmt_seconds),
)
_NODE_COLS: tuple[Column, ...] = (
    ("label", _key("label"), fmt_text),
    ("events", _key("events"), fmt_int),
    ("persons", _key("persons"), fmt_int),
    ("starts", _key("starts"), fmt_int),
    ("ends", _key("ends"), fmt_int),
)
#: at most this many transitions in the page's table
TOP_TRANSITIONS = 25
#: at most this many labels in the page's matrix
TOP_NODES = 15


def top_transitions(d: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The page's transitions: the most frequent first (ties by source, target)."""
    k = _TRANSITIONS
    rows = sorted(d[k["transitions"]], key=lambda e: (-e[k["count"]], e["source"], e["target"]))
    return rows[:TOP_TRANSITIONS]


def render_transitions(result: Result, lang: str) -> str:
    """Transition graph: the most frequent transitions and the events' starts and ends."""
    d = result.to_dict()
    k = _TRANSITIONS
    nodes = sorted(d[k["nodes"]], key=lambda n: (-n["events"], n["label"]))
    return (
        cards(
            lang,
            [
                ("kpi-units", fmt_int(d[k["units"]]), "units"),
                ("kpi-persons", fmt_int(d[k["persons"]]), "persons"),
                ("kpi-edges", fmt_int(len(d[k["transitions"]])), "edges"),
                ("kpi-loops", fmt_int(len(d[k["loops"]])), "self_loops"),
            ],
        )
        + "<!--figure-->"
        + _h2(lang, "top_transitions")
        + table("transitions-table", lang, _TRANSITION_COLS, top_transitions(d))
        + _h2(lang, "nodes")
        + table("nodes-table", lang, _NODE_COLS, nodes)
    )


def figure_transitions(result: Result, lang: str) -> Any:
    """The result's transition matrix (from x to, the labels with the most events)."""
    from kundresa.paths import TransitionGraph

    assert isinstance(result, TransitionGraph)
    matrix = result.plot(kind="matrix", top=TOP_NODES)
    fig = _translate(matrix, lang, {}, {"x": "to", "y": "from"})
    fig.update_layout(margin={"t": 140, "l": 160})
    return fig


# -- ROPO ------------------------------------------------------------------------------------

#: the keys of RopoReport.to_dict() the page reads: (label key, JSON key, formatter)
_ROPO: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("offline_conversions", "offline_conversions", fmt_int),
    ("researched_online", "researched_online", fmt_int),
    ("ropo_share", "share", fmt_pct),
    ("linked_offline_conversions", "linked_offline_conversions", fmt_int),
    ("ropo_share_linked", "share_of_linked", fmt_pct),
    ("online_conversions", "online_conversions", fmt_int),
    ("touched_offline", "touched_offline", fmt_int),
    ("showrooming", "showrooming_share", fmt_pct),
)
_ROPO_BY_CHANNEL = "by_channel"


def render_ropo(result: Result, lang: str) -> str:
    """ROPO: offline purchases researched online, showrooming, and the online channels."""
    d = result.to_dict()
    shown = {"share", "share_of_linked", "showrooming_share"}
    items = [(f"kpi-{j}", f(d.get(j)), lab) for lab, j, f in _ROPO if j in shown]
    rows = [{"measure": label(lab, lang), "value": f(d.get(j))} for lab, j, f in _ROPO]
    by_channel = [{"channel": c, "share": s} for c, s in (d.get(_ROPO_BY_CHANNEL) or {}).items()]
    return (
        cards(lang, items)
        + _h2(lang, "ropo_by_channel")
        + "<!--figure-->"
        + table(
            "ropo-channels-table",
            lang,
            [("channel", _key("channel"), fmt_text), ("share", _key("share"), fmt_pct)],
            by_channel,
        )
        + table(
            "ropo-table",
            lang,
            [("measure", _key("measure"), fmt_text), ("ropo_value", _key("value"), fmt_value)],
            rows,
        )
    )


def figure_ropo(result: Result, lang: str) -> Any:
    """The result's bars per online channel, translated, as percentages."""
    fig = _translate(result.plot(), lang, {}, {"x": "channel", "y": "share"})
    fig.update_yaxes(tickformat=".0%")
    fig.update_layout(bargap=0.6)
    return fig


# -- conformance -----------------------------------------------------------------------------

#: the keys of Conformance.to_dict() the page reads, and its table's columns
_CONFORMANCE = {"stages": "stages", "personas": "personas", "persons": "persons",
                "conformant": "conformant", "rate": "rate", "stage": "stage",
                "persona": "persona", "conformance": "conformance", "everyone": "*"}  # fmt: skip
_STAGE_COLS: tuple[Column, ...] = (
    ("stage", _key("stage"), fmt_text),
    ("expected", _key("expected"), fmt_int),
    ("reached", _key("reached"), fmt_int),
    ("as_planned", _key("as_planned"), fmt_int),
    ("conformance_rate", _key("conformance"), fmt_pct),
    ("skipped", _key("skipped"), fmt_int),
    ("out_of_order", _key("out_of_order"), fmt_int),
    ("looped", _key("looped"), fmt_int),
)
_UNPLANNED_COLS: tuple[Column, ...] = (
    ("stage", _key("stage"), fmt_text),
    ("unplanned_events", _key("unplanned_events"), fmt_int),
    ("unplanned_persons", _key("unplanned_persons"), fmt_int),
    ("top_unplanned", lambda r: [f"{e} {n:,}" for e, n in r.get("top_unplanned", [])[:3]],
     fmt_text),
)  # fmt: skip


def render_conformance(result: Result, lang: str) -> str:
    """Conformance: planned vs actual per stage (everyone) and per persona."""
    d = result.to_dict()
    k = _CONFORMANCE
    everyone = [s for s in d[k["stages"]] if s[k["persona"]] == k["everyone"]]
    stage_ids = [s[k["stage"]] for s in everyone]
    parts = [
        cards(
            lang,
            [
                ("kpi-persons", fmt_int(d[k["persons"]]), "persons"),
                ("kpi-conformant", fmt_int(d[k["conformant"]]), "conformant"),
                ("kpi-rate", fmt_pct(d[k["rate"]]), "conformance_rate"),
            ],
        ),
        _h2(lang, "planned_vs_actual"),
        "<!--figure-->",
        table("conformance-table", lang, _STAGE_COLS, everyone),
        _h2(lang, "unplanned_per_stage"),
        table("unplanned-table", lang, _UNPLANNED_COLS, everyone),
    ]
    personas = d.get(k["personas"]) or []
    if personas:
        rows = []
        for p in personas:
            row: dict[str, Any] = {"persona": p}
            for s in d[k["stages"]]:
                if s[k["persona"]] == p:
                    row[f"s:{s[k['stage']]}"] = s[k["conformance"]]
            rows.append(row)
        cols: list[Column] = [("persona", _key("persona"), fmt_text)]
        cols += [(f"={sid}", _key(f"s:{sid}"), fmt_pct) for sid in stage_ids]
        parts += [_h2(lang, "conformance_per_persona"), table("persona-table", lang, cols, rows)]
    return "".join(parts)


def figure_conformance(result: Result, lang: str) -> Any:
    """The result's stacked bars per stage (everyone), translated."""
    names = {"as planned": "as_planned", "out of order": "out_of_order", "looped": "looped",
             "skipped": "skipped"}  # fmt: skip
    return _translate(result.plot(), lang, names, {"x": "stage", "y": "persons"})
