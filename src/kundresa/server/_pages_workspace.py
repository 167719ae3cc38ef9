"""The workspace's own pages (overview, info, live events, quarantine): their renderings.

The analyses are declared in :mod:`kundresa._catalog.workspace`; the server derives their
endpoints and pages from the declarations and draws them with these functions.

>>> html_table(["a"], [["<b>"]])
'<table class=""><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;b&gt;</td>...'
"""

from __future__ import annotations

from html import escape
from typing import Any

from kundresa._overview import EventsResult, OverviewResult
from kundresa._results import Result
from kundresa._workspace import InfoResult, QuarantineResult
from kundresa.server._i18n import label

__all__ = ["html_table", "render_events", "render_info", "render_overview", "render_quarantine"]


def html_table(headers: list[str], rows: list[list[Any]], *, cls: str = "") -> str:
    """An escaped HTML table.

    >>> html_table(["a"], [["<b>"]])
    '<table class=""><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;b&gt;</td>...'
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in r) + "</tr>"
        for r in rows
    )
    return (
        f'<table class="{escape(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _info_cards(info: InfoResult, lang: str) -> str:
    cards = [
        ("events", f"{info.events:,}"),
        ("touchpoints", f"{info.touchpoint_events:,}"),
        ("persons", f"{info.persons:,}"),
        ("merged_persons", f"{info.merged_persons:,}"),
        ("sessions", f"{info.sessions:,}"),
        ("quarantined", f"{info.quarantined:,}"),
        ("date_range", f"{(info.first_ts or '-')[:10]} .. {(info.last_ts or '-')[:10]}"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card" data-kpi="{k}"><div class="kpi">{escape(v)}</div>'
            f'<div class="kpi-label">{escape(label(k, lang))}</div></div>'
            for k, v in cards
        )
        + "</div>"
    )


def render_info(result: Result, lang: str) -> str:
    assert isinstance(result, InfoResult)
    rows = [[c, f"{n:,}"] for c, n in result.channels.items()]
    return _info_cards(result, lang) + html_table(
        [label("channel", lang), label("events", lang)], rows
    )


def render_overview(result: Result, lang: str) -> str:
    assert isinstance(result, OverviewResult)
    parts = [_info_cards(result.info, lang)] if result.info else []
    if not result.dates:
        parts.append(f'<p class="empty">{escape(label("no_data", lang))}</p>')
    parts.append(f"<h2>{escape(label('events_per_day', lang))}</h2>")
    parts.append("<!--figure-->")
    rate = result.conversion_rate
    rows = [
        [d, p, c, "" if r is None else f"{100 * r:.1f} %"]
        for d, p, c, r in list(
            zip(result.dates, result.persons, result.converted, rate, strict=True)
        )[-14:]
    ]
    parts.append(f"<h2>{escape(label('persons_per_day', lang))}</h2>")
    parts.append(
        html_table(
            [
                label("day", lang),
                label("persons", lang),
                f"{label('converted', lang)}: {result.conversion}",
                label("conversion", lang),
            ],
            rows,
        )
    )
    return "".join(parts)


def render_quarantine(result: Result, lang: str) -> str:
    assert isinstance(result, QuarantineResult)
    summary = html_table(
        [label("reason", lang), label("count", lang)],
        [[r, f"{n:,}"] for r, n in result.by_reason.items()],
    )
    rows = [
        [r["reason"], r["field"], r["detail"], f"{r['source']}:{r['row_number']}", r["raw"]]
        for r in result.rows
    ]
    detail = html_table(
        [
            label("reason", lang),
            label("field", lang),
            label("detail", lang),
            label("source", lang),
            label("raw", lang),
        ],
        rows,
        cls="wide",
    )
    return f"<p>{result.total:,} {escape(label('quarantined', lang).lower())}</p>{summary}{detail}"


def render_events(result: Result, lang: str) -> str:
    assert isinstance(result, EventsResult)
    cols = ["ts", "type", "event", "channel", "user_id", "anonymous_id", "person_id", "source"]
    rows = [[r[c] for c in cols] for r in result.rows]
    return f"<p>{result.total:,}</p>" + html_table(cols, rows, cls="wide")
