"""The funnel builder and the flows (Sankey) pages: their renderings and builder forms.

The analyses are declared in :mod:`kundresa._catalog` (``funnel``, ``flows``); the server
derives ``GET /api/v1/funnel?steps=Product%20Viewed&steps=Order%20Completed&window=7d`` and
the page ``/funnel`` from the declaration. This module only draws: the pages show the
result as a table and a Plotly figure, with a form whose choices (event names, columns)
come from the store.

>>> suggest_steps(["Page Viewed", "Order Completed", "Product Viewed"])
['Product Viewed', 'Order Completed']
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from kundresa._results import Result
from kundresa._util import humanize_seconds
from kundresa.server._i18n import label

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = [
    "BREAKDOWN_COLUMNS",
    "flows_form",
    "funnel_form",
    "render_flows",
    "render_funnel",
    "suggest_steps",
]

#: columns of the events offered for a funnel breakdown (any ``properties.KEY`` works too)
BREAKDOWN_COLUMNS = (
    "channel",
    "touchpoint",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "type",
    "source",
)
#: a typical shop funnel, offered when the page opens without steps
_SHOP = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")


def suggest_steps(names: list[str]) -> list[str]:
    """The shop funnel's steps that occur in ``names`` (or the first two names)."""
    steps = [s for s in _SHOP if s in names]
    return steps if len(steps) >= 2 else names[:2]


def funnel_form(ws: Workspace) -> dict[str, Any]:
    names = list(ws.event_names())
    return {
        "events": names,
        "columns": list(BREAKDOWN_COLUMNS),
        "orders": ["ordered", "strict", "unordered"],
        "entries": ["best", "first", "totals"],
        "example": {"steps": suggest_steps(names)} if names else {},
    }


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


_dur = humanize_seconds


def _num_table(headers: list[str], rows: list[list[str]], numeric: set[int], tid: str) -> str:
    head = "".join(
        f'<th class="{"n" if i in numeric else ""}">{escape(h)}</th>' for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"n" if i in numeric else ""}">{v}</td>' for i, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return (
        f'<table class="num" id="{tid}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def render_funnel(result: Result, lang: str) -> str:
    from kundresa.funnel import FunnelResult

    assert isinstance(result, FunnelResult)
    top = max(result.counts, default=0) or 1
    nxt = {d.step: d.next_events for d in result.drop_offs}
    rows = []
    for s in result.steps:
        ci = (
            f"{100 * s.from_start.low:.1f}–{100 * s.from_start.high:.1f} %"
            if s.from_start.low is not None and s.from_start.high is not None
            else "–"
        )
        bar = f'<span class="bar" style="width:{max(2, round(140 * s.count / top))}px"></span>'
        then = ", ".join(f"{escape(e)} {n:,}" for e, n in nxt.get(s.number, ())[:3])
        rows.append(
            [
                str(s.number),
                escape(s.label) + (" (?)" if s.optional else ""),
                f"{bar}{s.count:,}",
                _pct(s.from_start.value),
                ci,
                _pct(s.from_previous.value) if s.number > 1 else "",
                f"{s.drop_off:,}" if s.number > 1 else "",
                _dur(s.median_seconds) if s.number > 1 else "",
                then,
            ]
        )

    def L(key: str) -> str:  # noqa: N802 - as in the templates
        return label(key, lang)

    first = escape(result.steps[0].label if result.steps else "")
    last = result.steps[-1].from_start.value if result.steps else None
    cards = [
        ("kpi-entered", f"{result.entered:,}", f"{escape(L('entry'))}: {first}"),
        ("kpi-converted", f"{(result.counts or (0,))[-1]:,}", escape(L("converted"))),
        ("kpi-conversion", _pct(last), escape(L("conversion"))),
    ]
    parts = [
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="kpi" id="{i}">{v}</div>'
            f'<div class="kpi-label">{k}</div></div>'
            for i, v, k in cards
        )
        + "</div>",
        "<!--figure-->",
        _num_table(
            [
                "#",
                L("step"),
                L("count_units"),
                L("of_start"),
                L("ci95"),
                L("of_previous"),
                L("dropped"),
                L("median_time"),
                L("then_did"),
            ],
            rows,
            {2, 3, 4, 5, 6, 7},
            "funnel-table",
        ),
    ]  # fmt: skip
    if result.breakdown:
        brows = [
            [escape(b.value), *(f"{c:,}" for c in b.counts), _pct(b.conversion.value)]
            for b in result.breakdown[:25]
        ]
        heads = [str(result.breakdown_by), *(f"{s.number}. {s.label}" for s in result.steps)]
        parts.append(f"<h2>{escape(L('breakdown'))}: {escape(str(result.breakdown_by))}</h2>")
        parts.append(
            _num_table(
                [*heads, L("conversion")],
                brows,
                set(range(1, len(heads) + 1)),
                "breakdown-table",
            )
        )
    parts.append(
        f'<p class="muted">{escape(result.engine)} · {escape(result.kernel)} · '
        f"{result.seconds:.2f} s</p>"
    )
    return "".join(parts)


def flows_form(ws: Workspace) -> dict[str, Any]:
    names = list(ws.event_names())
    start = "Product Viewed" if "Product Viewed" in names else (names[0] if names else None)
    return {"events": names, "example": {"start": start} if start else {}}


def render_flows(result: Result, lang: str) -> str:
    from kundresa.paths import Flows

    assert isinstance(result, Flows)

    def L(key: str) -> str:  # noqa: N802 - as in the templates
        return label(key, lang)

    cards = (
        '<div class="cards">'
        f'<div class="card"><div class="kpi" id="kpi-paths">{result.paths:,}</div>'
        f'<div class="kpi-label">{escape(L("paths"))} ({escape(result.unit)})</div></div>'
        f'<div class="card"><div class="kpi" id="kpi-persons">{result.persons:,}</div>'
        f'<div class="kpi-label">{escape(L("persons"))}</div></div></div>'
    )
    rows = [
        [
            str(lk["step"] + 1),
            escape(str(lk["source"])),
            escape(str(lk["target"])),
            f"{lk['persons']:,}",
            f"{lk['count']:,}",
        ]
        for lk in sorted(result.links, key=lambda lk: (-lk["persons"], lk["step"]))[:15]
    ]
    table = _num_table(
        [L("step"), L("from"), L("to"), L("persons"), L("paths")], rows, {3, 4}, "flows-table"
    )
    return cards + "<!--figure-->" + table
