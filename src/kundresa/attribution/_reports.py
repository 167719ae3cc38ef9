"""Channel report and ROPO (research online, purchase offline) report.

Both run in Ibis on the workspace's engine (DuckDB or Spark) and return small results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError
from kundresa._results import Result
from kundresa._util import humanize_seconds, parse_duration

if TYPE_CHECKING:
    import ibis

    from kundresa._workspace import Workspace

__all__ = ["RESEARCH_EVENT", "ChannelReport", "RopoReport", "channel_report", "ropo_report"]

#: What counts as online research in the ROPO report by default.
RESEARCH_EVENT = "Product Viewed"


#: Short column headers of the text table (the JSON and frame keep the full names).
_HEADERS = {
    "persons": "persons",
    "sessions": "sessions",
    "touches": "touches",
    "first_touch_share": "first %",
    "conversions": "conv",
    "revenue": "revenue",
    "conversion_rate": "conv rate",
    "median_seconds_to_conversion": "median time",
}


def _table(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    """A text table: ``keys`` left-aligned, the metrics right-aligned with short headers."""
    metrics = [k for k in rows[0] if k not in keys]
    widths = {k: max([len(str(r[k])) for r in rows] + [len(k)]) for k in keys}

    def cell(k: str, v: Any) -> str:
        if v is None:
            return "-"
        if k in ("first_touch_share", "conversion_rate"):
            return f"{100 * v:.1f}%"
        if k == "revenue":
            return f"{v:,.0f}"
        if k == "median_seconds_to_conversion":
            return humanize_seconds(v)
        return f"{v:,}" if isinstance(v, int) else str(v)

    cells = [[cell(k, r[k]) for k in metrics] for r in rows]
    mw = [
        max([len(_HEADERS.get(k, k))] + [len(c[i]) for c in cells]) for i, k in enumerate(metrics)
    ]
    head = "  ".join(f"{k:<{widths[k]}}" for k in keys)
    head += "".join(f" {_HEADERS.get(k, k):>{w}}" for k, w in zip(metrics, mw, strict=True))
    lines = [head]
    for r, c in zip(rows, cells, strict=True):
        line = "  ".join(f"{r[k]!s:<{widths[k]}}" for k in keys)
        lines.append(line + "".join(f" {v:>{w}}" for v, w in zip(c, mw, strict=True)))
    return lines


@dataclass(frozen=True)
class ChannelReport(Result):
    """Per channel: reach, sessions, touches, first touches, conversions and revenue touched.

    With a journey map, ``by_stage`` and ``by_persona`` hold the same numbers per journey
    stage of the touch and per persona of the person (rows carry a ``stage`` / ``persona``
    key; see :func:`channel_report`); ``stages`` and ``personas`` give their order.

    >>> ChannelReport(conversion="", column="channel", rows=()).to_frame().empty
    True
    """

    _renamed = {"conversion_event": "conversion"}  # noqa: RUF012 (old spelling, one release)

    conversion: str
    column: str
    rows: tuple[Mapping[str, Any], ...]
    by_stage: tuple[Mapping[str, Any], ...] = ()
    by_persona: tuple[Mapping[str, Any], ...] = ()
    stages: tuple[str, ...] = ()
    personas: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_frame(self, by: str | None = None) -> Any:
        """One row per channel; ``by="stage"`` / ``"persona"``: per stage or persona x channel.

        >>> ChannelReport("", "channel", ()).to_frame(by="stage").empty
        True
        """
        import pandas as pd

        if by is None:
            return pd.DataFrame(list(self.rows))
        if by not in ("stage", "persona"):
            raise InvalidOptionError("by", by, allowed=("stage", "persona"))
        return pd.DataFrame(list(self.by_stage if by == "stage" else self.by_persona))

    def plot(self, by: str | None = None) -> Any:
        """Bars of persons reached and conversions touched per channel; ``by="stage"`` or
        ``"persona"``: one panel per stage or persona."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        if by is None:
            x = [r[self.column] for r in self.rows]
            fig = go.Figure()
            fig.add_bar(name="persons reached", x=x, y=[r["persons"] for r in self.rows])
            if self.conversion:
                fig.add_bar(
                    name="conversions touched", x=x, y=[r["conversions"] for r in self.rows]
                )
            fig.update_layout(barmode="group", title=f"Channels ({self.column})")
            return fig
        rows = self.to_frame(by=by).to_dict("records")
        groups = list(self.stages if by == "stage" else self.personas)
        fig = make_subplots(rows=len(groups) or 1, cols=1, subplot_titles=groups or None)
        for i, g in enumerate(groups):
            sub = [r for r in rows if r[by] == g]
            x = [r[self.column] for r in sub]
            fig.add_bar(
                name="persons reached", x=x, y=[r["persons"] for r in sub],
                marker_color="#636efa", showlegend=i == 0, row=i + 1, col=1,
            )  # fmt: skip
            if self.conversion:
                fig.add_bar(
                    name="conversions touched", x=x, y=[r["conversions"] for r in sub],
                    marker_color="#ef553b", showlegend=i == 0, row=i + 1, col=1,
                )  # fmt: skip
        fig.update_layout(
            barmode="group",
            title=f"Channels ({self.column}) by {by}",
            height=max(400, 220 * len(groups)),
        )
        return fig

    def __str__(self) -> str:
        if not self.rows:
            return "no touches"
        lines = _table(self.rows, [self.column])
        for by, rows in (("stage", self.by_stage), ("persona", self.by_persona)):
            if rows:
                lines += ["", f"by {by}:", *_table(rows, [by, self.column])]
        return "\n".join(lines)


def channel_report(
    ws: Workspace,
    conversion: str | None = None,
    *,
    column: str = "channel",
    lookback: str | dt.timedelta = "30d",
    journey_map: Any = None,
) -> ChannelReport:
    """Per channel (or ``column``: ``campaign``, ``utm_source``, ``touchpoint``, ...).

    Persons reached, sessions, touches, share of persons' first touches; with
    ``conversion``: conversions touched (a touch of the channel within ``lookback`` before
    it), revenue touched, conversion rate (conversions touched per person reached) and
    median hours from the channel's last touch to the conversion.

    ``journey_map`` (a :class:`~kundresa.maps.JourneyMap` or a map file) adds the same numbers
    per journey stage and per persona. A touch's stage is the furthest stage of the map the
    person had entered at or before it (``"(before)"`` if none yet; stage entry and persona
    come from the map's rules exactly as :func:`~kundresa.maps.measure_map` assigns them).
    Per stage, ``persons`` are persons with a touch of the channel in that stage,
    ``first_touch_share`` the share of the stage's persons whose first touch in the stage was
    the channel, and a conversion is touched when a touch of the channel *in that stage* lies
    in its lookback. Per persona, every number is restricted to the persona's persons.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> from kundresa.maps import new_map
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb")
    >>> channel_report(ws).rows
    ()
    >>> channel_report(ws, journey_map=new_map("shop")).stages[:2]
    ('(before)', 'awareness')
    """
    import ibis

    ev = ws.events()
    if column not in ev.columns:
        raise InvalidOptionError("column", column, allowed=ev.columns)
    look = parse_duration(lookback, "lookback")
    if conversion is not None:
        ws.require_event(conversion)
    stages: tuple[str, ...] = ()
    personas: tuple[str, ...] = ()
    settings: dict[str, Any] = {"lookback_seconds": look.total_seconds()}
    if journey_map is not None:
        from kundresa.attribution._stages import (
            NO_PERSONA,
            labelled_events,
            load_journey_map,
            stage_ids,
        )

        jm = load_journey_map(journey_map)
        ev = labelled_events(ws, jm)
        stages = stage_ids(jm)
        personas = (*[p.id for p in jm.personas], NO_PERSONA)
        settings["journey_map"] = jm.title
    ev = ev.filter(ev.person_id.notnull())
    ev = ev.mutate(key=ev[column].cast("string").fill_null("(none)"))
    rows = _grouped(ws, ev.mutate(grp=ibis.literal("*")), conversion, column, look, None)
    by_stage: tuple[dict[str, Any], ...] = ()
    by_persona: tuple[dict[str, Any], ...] = ()
    if journey_map is not None:
        by_stage = _grouped(ws, ev.mutate(grp=ev.stage), conversion, column, look, "stage")
        by_persona = _grouped(ws, ev.mutate(grp=ev.persona), conversion, column, look, "persona")
        by_stage = _in_order(by_stage, "stage", stages)
        by_persona = _in_order(by_persona, "persona", personas)
    return ChannelReport(
        conversion=conversion or "",
        column=column,
        rows=rows,
        by_stage=by_stage,
        by_persona=by_persona,
        stages=stages,
        personas=personas,
        settings=settings,
    )


def _in_order(
    rows: tuple[dict[str, Any], ...], key: str, order: tuple[str, ...]
) -> tuple[dict[str, Any], ...]:
    pos = {g: i for i, g in enumerate(order)}
    return tuple(sorted(rows, key=lambda r: pos.get(r[key], len(pos))))  # stable: keeps ranks


def _grouped(
    ws: Workspace,
    ev: ibis.Table,
    conversion: str | None,
    column: str,
    lookback: dt.timedelta,
    group: str | None,
) -> tuple[dict[str, Any], ...]:
    """The report's rows per (``grp``, ``key``) of ``ev``; ``group`` names the ``grp`` column
    in the rows (None: one group, no column)."""
    import ibis

    w = ibis.window(group_by=[ev.person_id, ev.grp], order_by=[ev.ts, ev.event_id])
    ranked = ev.mutate(is_first=(ibis.row_number().over(w) == 0).cast("int64"))
    base = ranked.group_by(["grp", "key"]).aggregate(
        persons=ranked.person_id.nunique(),
        sessions=ranked.session_id.nunique(),
        touches=ranked.count(),
        first_touches=ranked.is_first.sum(),
    )
    rows = {(r["grp"], r["key"]): r for r in ws.store.fetch(base).to_pylist()}
    first_of = {gk: int(r["first_touches"] or 0) for gk, r in rows.items()}
    n_persons: dict[str, int] = {}
    for (g, _), n in first_of.items():
        n_persons[g] = n_persons.get(g, 0) + n
    conv_of: dict[tuple[str, str], dict[str, Any]] = {}
    if conversion is not None:
        conv_of = _touched(ws, ev, conversion, lookback)
    out = []
    for gk in sorted(rows, key=lambda k: (str(k[0]), -int(rows[k]["persons"]), str(k[1]))):
        r = rows[gk]
        row: dict[str, Any] = {} if group is None else {group: gk[0]}
        row |= {
            column: gk[1],
            "persons": int(r["persons"]),
            "sessions": int(r["sessions"]),
            "touches": int(r["touches"]),
            "first_touch_share": first_of.get(gk, 0) / (n_persons.get(gk[0]) or 1),
        }
        if conversion is not None:
            c = conv_of.get(gk, {})
            n = int(c.get("conversions", 0) or 0)
            row["conversions"] = n
            row["revenue"] = float(c.get("revenue", 0.0) or 0.0)
            row["conversion_rate"] = n / int(r["persons"]) if r["persons"] else 0.0
            med = c.get("median_seconds")
            row["median_seconds_to_conversion"] = float(med) if med is not None else None
        out.append(row)
    return tuple(out)


def _touched(
    ws: Workspace, ev: ibis.Table, conversion: str, lookback: dt.timedelta
) -> dict[tuple[str, str], dict[str, Any]]:
    """Conversions with a touch of each (group, key) within ``lookback`` before them."""
    look_us = int(lookback.total_seconds() * 1_000_000)
    conv = ev.filter(ev.event == conversion).select(
        c_person=ev.person_id, c_id=ev.event_id, c_ts=ev.ts, c_rev=ev.revenue.fill_null(0.0)
    )
    t = ev.filter(ev.event != conversion).select("person_id", "ts", "key", "grp")
    j = t.join(conv, t.person_id == conv.c_person)
    j = j.mutate(us=j.c_ts.delta(j.ts, unit="microsecond"))
    j = j.filter((j.us >= 0) & (j.us <= look_us))
    per = j.group_by(["grp", "key", "c_id"]).aggregate(rev=j.c_rev.max(), us=j.us.min())
    agg = per.group_by(["grp", "key"]).aggregate(
        conversions=per.count(), revenue=per.rev.sum(), median_us=per.us.median()
    )
    out = {}
    for r in ws.store.fetch(agg).to_pylist():
        med = r["median_us"]
        out[(r["grp"], r["key"])] = {
            "conversions": r["conversions"],
            "revenue": r["revenue"],
            "median_seconds": None if med is None else round(float(med) / 1e6, 3),
        }
    return out


@dataclass(frozen=True)
class RopoReport(Result):
    """Research online, purchase offline: offline conversions with online touches before.

    ``share`` = offline conversions with an online touch (of ``research_event`` if given)
    within the lookback / all offline conversions; ``share_of_linked`` divides by the offline
    conversions of persons linked to any online touch (only those can show research);
    ``by_channel`` the same per online
    channel; ``showrooming_share`` the reverse (online conversions with an offline touch).

    >>> RopoReport("Order Completed", 10, 4, 0.4, 5, 0.8, {}, 20, 2, 0.1, {}).to_dict()["share"]
    0.4
    """

    _renamed = {"conversion_event": "conversion"}  # noqa: RUF012 (old spelling, one release)

    conversion: str
    offline_conversions: int
    researched_online: int
    share: float
    linked_offline_conversions: int
    share_of_linked: float
    by_channel: Mapping[str, float]
    online_conversions: int
    touched_offline: int
    showrooming_share: float
    settings: Mapping[str, Any]

    def to_frame(self) -> Any:
        """One row per online channel: share of offline conversions it preceded."""
        import pandas as pd

        return pd.DataFrame(
            [{"channel": c, "share": s} for c, s in self.by_channel.items()],
            columns=["channel", "share"],
        )

    def plot(self) -> Any:
        """Bars: share of offline conversions preceded by each online channel."""
        import plotly.express as px

        return px.bar(self.to_frame(), x="channel", y="share", title=f"ROPO share {self.share:.1%}")

    def __str__(self) -> str:
        lines = [
            f"ROPO: {self.researched_online:,} of {self.offline_conversions:,} offline "
            f"{self.conversion} had online research before ({self.share:.1%}; "
            f"{self.share_of_linked:.1%} of {self.linked_offline_conversions:,} by persons "
            "linked online)",
            f"showrooming: {self.touched_offline:,} of {self.online_conversions:,} online "
            f"conversions had an offline touch before ({self.showrooming_share:.1%})",
        ]
        lines += [f"  {c:<12} {s:>7.1%}" for c, s in self.by_channel.items()]
        return "\n".join(lines)


def ropo_report(
    ws: Workspace,
    conversion: str = "Order Completed",
    *,
    lookback: str | dt.timedelta = "30d",
    offline_channels: Sequence[str] = ("store",),
    online_channels: Sequence[str] = ("web", "app"),
    research_event: str | None = RESEARCH_EVENT,
) -> RopoReport:
    """ROPO and showrooming shares for ``conversion`` (stitched persons, both engines).

    An offline conversion (``channel`` in ``offline_channels``) counts as researched online
    when the same person viewed a product online before it: a ``research_event`` event
    (default ``"Product Viewed"``, the Segment e-commerce spec's product view) in
    ``online_channels`` at or before it, within ``lookback``. ``research_event=None`` counts
    *any* online touch (a visit to check opening hours or an order status counts too, so it
    is an upper bound). Showrooming is the reverse: an online conversion after an offline
    touch (any event). ``share`` divides by all offline conversions, ``share_of_linked`` by
    those of persons linked to any online touch (a loyalty card never linked online cannot
    show research): the number to compare with the truth when identity is incomplete.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "r.duckdb")
    >>> ropo_report(ws, "Nope")
    Traceback (most recent call last):
    ...
    kundresa.NotFoundError: event: 'Nope' not found
    """
    ws.require_event(conversion)
    if research_event is not None:
        ws.require_event(research_event)
    look_us = int(parse_duration(lookback, "lookback").total_seconds() * 1_000_000)
    off, on = list(offline_channels), list(online_channels)
    ev = ws.events()
    ev = ev.filter(ev.person_id.notnull())
    conv = ev.filter(ev.event == conversion).select(
        c_person=ev.person_id, c_id=ev.event_id, c_ts=ev.ts, c_channel=ev.channel
    )

    def preceded(conv_side: list[str], touch_side: list[str], event: str | None) -> Any:
        c = conv.filter(conv.c_channel.isin(conv_side))
        t = ev.filter(ev.channel.isin(touch_side))
        if event is not None:
            t = t.filter(t.event == event)
        t = t.select("person_id", "event_id", "ts", "channel")
        j = t.join(c, t.person_id == c.c_person)
        j = j.filter(j.event_id != j.c_id)
        j = j.mutate(us=j.c_ts.delta(j.ts, unit="microsecond"))
        j = j.filter((j.us >= 0) & (j.us <= look_us))
        per = j.group_by(["c_id", "channel"]).aggregate(n=j.count())
        total = ws.store.fetch(c.aggregate(n=c.count())).to_pylist()[0]["n"]
        rows = ws.store.fetch(per.group_by("channel").aggregate(n=per.c_id.nunique())).to_pylist()
        any_ = ws.store.fetch(per.aggregate(n=per.c_id.nunique())).to_pylist()[0]["n"]
        return int(total or 0), int(any_ or 0), {r["channel"]: int(r["n"]) for r in rows}

    online_persons = ev.filter(ev.channel.isin(on)).select(o_person=ev.person_id).distinct()
    offc = conv.filter(conv.c_channel.isin(off))
    linked = offc.join(online_persons, offc.c_person == online_persons.o_person)
    n_linked = int(ws.store.fetch(linked.aggregate(n=linked.count())).to_pylist()[0]["n"] or 0)

    n_off, n_res, per_ch = preceded(off, on, research_event)
    n_on, n_show, _ = preceded(on, off, None)
    return RopoReport(
        conversion=conversion,
        offline_conversions=n_off,
        researched_online=n_res,
        share=n_res / n_off if n_off else 0.0,
        linked_offline_conversions=n_linked,
        share_of_linked=n_res / n_linked if n_linked else 0.0,
        by_channel={c: per_ch[c] / n_off for c in sorted(per_ch)} if n_off else {},
        online_conversions=n_on,
        touched_offline=n_show,
        showrooming_share=n_show / n_on if n_on else 0.0,
        settings={
            "lookback_seconds": look_us / 1e6,
            "offline_channels": off,
            "online_channels": on,
            "research_event": research_event,
        },
    )
