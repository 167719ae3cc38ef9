"""The analyses the server ships with; new ones register here, one call each.

Pending merges (issues 3, 4, 5, 7) add their registration below, e.g. ``map``, ``funnel``,
``flows``, ``attribution``: see :mod:`kundresa.server.registry` for the pattern.

>>> from kundresa.server.registry import ANALYSES
>>> list(ANALYSES)[:4]
['overview', 'info', 'events', 'quarantine']
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from kundresa.results import Result
from kundresa.server.i18n import label
from kundresa.server.overview import EventsResult, OverviewResult, overview, recent_events
from kundresa.server.registry import Analysis, register_analysis
from kundresa.workspace import InfoResult, QuarantineResult

#: query parameters are names and ids: no control characters (NUL cannot reach SQL literals)
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
#: a name or id given as a query parameter
Text = Annotated[str, StringConstraints(max_length=200, pattern=NO_CONTROL)]

__all__ = ["EventsParams", "OverviewParams", "QuarantineParams", "html_table"]


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


def _render_info(result: Result, lang: str) -> str:
    assert isinstance(result, InfoResult)
    rows = [[c, f"{n:,}"] for c, n in result.channels.items()]
    return _info_cards(result, lang) + html_table(
        [label("channel", lang), label("events", lang)], rows
    )


def _render_overview(result: Result, lang: str) -> str:
    assert isinstance(result, OverviewResult)
    parts = [_info_cards(result.info, lang)] if result.info else []
    if not result.days:
        parts.append(f'<p class="empty">{escape(label("no_data", lang))}</p>')
    parts.append(f"<h2>{escape(label('events_per_day', lang))}</h2>")
    parts.append("<!--figure-->")
    rate = result.conversion_rate
    rows = [
        [d, p, c, "" if r is None else f"{100 * r:.1f} %"]
        for d, p, c, r in list(
            zip(result.days, result.persons, result.converted, rate, strict=True)
        )[-14:]
    ]
    parts.append(f"<h2>{escape(label('persons_per_day', lang))}</h2>")
    parts.append(
        html_table(
            [
                label("day", lang),
                label("persons", lang),
                f"{label('converted', lang)}: {result.conversion_event}",
                label("conversion", lang),
            ],
            rows,
        )
    )
    return "".join(parts)


class QuarantineParams(BaseModel):
    """Which quarantined rows to show."""

    limit: int = Field(50, ge=1, le=1000, description="How many rows to show.")
    reason: Text | None = Field(None, description="Only rows of this reason.")


def _render_quarantine(result: Result, lang: str) -> str:
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


class OverviewParams(BaseModel):
    """Which event counts as a conversion in the trend."""

    conversion_event: str = Field(
        "Order Completed",
        min_length=1,
        max_length=200,
        pattern=NO_CONTROL,
        description="The conversion event.",
    )


register_analysis(
    Analysis(
        name="overview",
        titles={"en": "Overview", "sv": "Översikt", "nb": "Oversikt"},
        params=OverviewParams,
        run=lambda ws, p: overview(ws, p.conversion_event),
        render=_render_overview,
        description="Workspace counts, events per day by channel, active persons per day.",
    )
)
register_analysis(
    Analysis(
        name="info",
        titles={"en": "Workspace", "sv": "Arbetsyta", "nb": "Arbeidsområde"},
        run=lambda ws, p: ws.info(),
        render=_render_info,
        description="Counts of events, persons, sessions, channels and merges (kundresa info).",
    )
)


class EventsParams(BaseModel):
    """Which stored events to show (newest first)."""

    limit: int = Field(50, ge=1, le=1000, description="How many events to show.")
    event_id: Text | None = Field(None, description="messageId / event id.")
    user_id: Text | None = Field(None, description="Only this user id.")
    anonymous_id: Text | None = Field(None, description="Only this device.")
    person_id: Text | None = Field(None, description="Only this person.")


def _render_events(result: Result, lang: str) -> str:
    assert isinstance(result, EventsResult)
    cols = ["ts", "type", "event", "channel", "user_id", "anonymous_id", "person_id", "source"]
    rows = [[r[c] for c in cols] for r in result.rows]
    return f"<p>{result.total:,}</p>" + html_table(cols, rows, cls="wide")


register_analysis(
    Analysis(
        name="events",
        titles={"en": "Live events", "sv": "Händelser just nu", "nb": "Hendelser nå"},
        params=EventsParams,
        run=lambda ws, p: recent_events(
            ws,
            limit=p.limit,
            event_id=p.event_id,
            user_id=p.user_id,
            anonymous_id=p.anonymous_id,
            person_id=p.person_id,
        ),
        render=_render_events,
        description="Stored events, newest first (after validation and stitching).",
    )
)
register_analysis(
    Analysis(
        name="quarantine",
        titles={"en": "Quarantine", "sv": "Karantän", "nb": "Karantene"},
        params=QuarantineParams,
        run=lambda ws, p: ws.quarantine(limit=p.limit, reason=p.reason),
        render=_render_quarantine,
        description="Rejected rows with the reason, the field, the fix and the raw row.",
    )
)

# the builder pages (funnel, flows) register in their own module
from kundresa.server import builders as _builders  # noqa: E402, F401
