"""Channel report and ROPO (research online, purchase offline) report.

Both run in Ibis on the workspace's engine (DuckDB or Spark) and return small results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kundresa._util import parse_duration
from kundresa.errors import InvalidOptionError
from kundresa.results import Result

if TYPE_CHECKING:
    import ibis

    from kundresa.workspace import Workspace

__all__ = ["ChannelReport", "RopoReport", "channel_report", "ropo_report"]


@dataclass(frozen=True)
class ChannelReport(Result):
    """Per channel: reach, sessions, touches, first touches, conversions and revenue touched.

    >>> ChannelReport(conversion_event="", column="channel", rows=()).to_frame().empty
    True
    """

    conversion_event: str
    column: str
    rows: tuple[dict[str, Any], ...]

    def to_frame(self) -> Any:
        """One row per channel."""
        import pandas as pd

        return pd.DataFrame(list(self.rows))

    def plot(self) -> Any:
        """Bars of persons reached and conversions touched per channel."""
        import plotly.graph_objects as go

        x = [r[self.column] for r in self.rows]
        fig = go.Figure()
        fig.add_bar(name="persons reached", x=x, y=[r["persons"] for r in self.rows])
        if self.conversion_event:
            fig.add_bar(name="conversions touched", x=x, y=[r["conversions"] for r in self.rows])
        fig.update_layout(barmode="group", title=f"Channels ({self.column})")
        return fig

    def __str__(self) -> str:
        if not self.rows:
            return "no touches"
        cols = [k for k in self.rows[0] if k != self.column]
        width = max([len(str(r[self.column])) for r in self.rows] + [len(self.column)])
        lines = [f"{self.column:<{width}}" + "".join(f"{c[:16]:>17}" for c in cols)]
        for r in self.rows:
            cells = "".join(
                f"{r[c]:>17,.3f}" if isinstance(r[c], float) else f"{r[c]!s:>17}" for c in cols
            )
            lines.append(f"{r[self.column]!s:<{width}}" + cells)
        return "\n".join(lines)


def channel_report(
    ws: Workspace,
    conversion: str | None = None,
    *,
    column: str = "channel",
    lookback: str | dt.timedelta = "30d",
) -> ChannelReport:
    """Per channel (or ``column``: ``campaign``, ``utm_source``, ``touchpoint``, ...).

    Persons reached, sessions, touches, share of persons' first touches; with
    ``conversion``: conversions touched (a touch of the channel within ``lookback`` before
    it), revenue touched, conversion rate (conversions touched per person reached) and
    median hours from the channel's last touch to the conversion.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> channel_report(Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb")).rows
    ()
    """
    import ibis

    ev = ws.events()
    if column not in ev.columns:
        raise InvalidOptionError("column", column, allowed=ev.columns)
    ev = ev.filter(ev.person_id.notnull()).mutate(key=ev[column].fill_null("(none)").cast("string"))
    base = ev.group_by("key").aggregate(
        persons=ev.person_id.nunique(),
        sessions=ev.session_id.nunique(),
        touches=ev.count(),
    )
    w = ibis.window(group_by=ev.person_id, order_by=[ev.ts, ev.event_id])
    firsts = ev.mutate(rn=ibis.row_number().over(w))
    firsts = firsts.filter(firsts.rn == 0)
    firsts = firsts.group_by("key").aggregate(first_touches=firsts.count())
    rows = {r["key"]: r for r in ws.store.to_arrow(base).to_pylist()}
    first_of = {r["key"]: int(r["first_touches"]) for r in ws.store.to_arrow(firsts).to_pylist()}
    n_persons = sum(first_of.values()) or 1
    conv_of: dict[str, dict[str, Any]] = {}
    if conversion is not None:
        ws.require_event(conversion)
        conv_of = _touched(ws, ev, conversion, parse_duration(lookback, "lookback"))
    out = []
    for key in sorted(rows, key=lambda k: (-int(rows[k]["persons"]), str(k))):
        r = rows[key]
        row: dict[str, Any] = {
            column: key,
            "persons": int(r["persons"]),
            "sessions": int(r["sessions"]),
            "touches": int(r["touches"]),
            "first_touch_share": first_of.get(key, 0) / n_persons,
        }
        if conversion is not None:
            c = conv_of.get(key, {})
            n = int(c.get("conversions", 0) or 0)
            row["conversions"] = n
            row["revenue"] = float(c.get("revenue", 0.0) or 0.0)
            row["conversion_rate"] = n / int(r["persons"]) if r["persons"] else 0.0
            hours = c.get("median_hours")
            row["median_hours_to_conversion"] = float(hours) if hours is not None else None
        out.append(row)
    return ChannelReport(conversion_event=conversion or "", column=column, rows=tuple(out))


def _touched(
    ws: Workspace, ev: ibis.Table, conversion: str, lookback: dt.timedelta
) -> dict[str, dict[str, Any]]:
    """Conversions with a touch of each key within ``lookback`` before them."""
    look_us = int(lookback.total_seconds() * 1_000_000)
    conv = ev.filter(ev.event == conversion).select(
        c_person=ev.person_id, c_id=ev.event_id, c_ts=ev.ts, c_rev=ev.revenue.fill_null(0.0)
    )
    t = ev.filter(ev.event != conversion).select("person_id", "ts", "key")
    j = t.join(conv, t.person_id == conv.c_person)
    j = j.mutate(us=j.c_ts.delta(j.ts, unit="microsecond"))
    j = j.filter((j.us >= 0) & (j.us <= look_us))
    per = j.group_by(["key", "c_id"]).aggregate(rev=j.c_rev.max(), us=j.us.min())
    agg = per.group_by("key").aggregate(
        conversions=per.count(), revenue=per.rev.sum(), median_us=per.us.median()
    )
    out = {}
    for r in ws.store.to_arrow(agg).to_pylist():
        med = r["median_us"]
        out[r["key"]] = {
            "conversions": r["conversions"],
            "revenue": r["revenue"],
            "median_hours": None if med is None else float(med) / 3.6e9,
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

    conversion_event: str
    offline_conversions: int
    researched_online: int
    share: float
    linked_offline_conversions: int
    share_of_linked: float
    by_channel: dict[str, float]
    online_conversions: int
    touched_offline: int
    showrooming_share: float
    settings: dict[str, Any]

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
            f"{self.conversion_event} had online research before ({self.share:.1%}; "
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
    research_event: str | None = None,
) -> RopoReport:
    """ROPO and showrooming shares for ``conversion`` (stitched persons, both engines).

    An offline conversion (``channel`` in ``offline_channels``) counts as researched online
    when the same person has a touch in ``online_channels`` (only ``research_event`` events
    when given, e.g. ``"Product Viewed"``) at or before it, within ``lookback``. Showrooming
    is the reverse: an online conversion after an offline touch.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "r.duckdb")
    >>> ropo_report(ws, "Nope")
    Traceback (most recent call last):
    ...
    kundresa.errors.NotFoundError: event: 'Nope' not found
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
        total = ws.store.to_arrow(c.aggregate(n=c.count())).to_pylist()[0]["n"]
        rows = ws.store.to_arrow(
            per.group_by("channel").aggregate(n=per.c_id.nunique())
        ).to_pylist()
        any_ = ws.store.to_arrow(per.aggregate(n=per.c_id.nunique())).to_pylist()[0]["n"]
        return int(total or 0), int(any_ or 0), {r["channel"]: int(r["n"]) for r in rows}

    online_persons = ev.filter(ev.channel.isin(on)).select(o_person=ev.person_id).distinct()
    offc = conv.filter(conv.c_channel.isin(off))
    linked = offc.join(online_persons, offc.c_person == online_persons.o_person)
    n_linked = int(ws.store.to_arrow(linked.aggregate(n=linked.count())).to_pylist()[0]["n"] or 0)

    n_off, n_res, per_ch = preceded(off, on, research_event)
    n_on, n_show, _ = preceded(on, off, None)
    return RopoReport(
        conversion_event=conversion,
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
