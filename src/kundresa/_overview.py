"""The overview: events per day by channel and active persons per day, on any engine.

>>> import tempfile, pathlib
>>> from kundresa import Workspace
>>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "o.duckdb")
>>> overview(ws).dates
()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kundresa._results import Result
from kundresa._workspace import InfoResult

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["EventsResult", "OverviewResult", "overview", "recent_events"]


@dataclass(frozen=True)
class OverviewResult(Result):
    """Workspace counts plus touchpoint events per day and channel, active persons per day,
    and the conversion trend: persons per day with ``conversion``, as a share of that
    day's active persons.

    >>> r = OverviewResult(info=None, dates=("2026-01-05",), by_channel={"web": (3,)},
    ...                    persons=(2,), converted=(1,), conversion="Order Completed")
    >>> r.to_frame().to_dict("records")
    [{'day': '2026-01-05', 'channel': 'web', 'events': 3}]
    >>> r.conversion_rate
    (0.5,)
    """

    _renamed = {"days": "dates"}  # noqa: RUF012 (old spelling, one release)

    info: InfoResult | None
    dates: tuple[str, ...]
    by_channel: Mapping[str, tuple[int, ...]]
    persons: tuple[int, ...]
    converted: tuple[int, ...] = ()
    conversion: str = "Order Completed"

    @property
    def conversion_rate(self) -> tuple[float | None, ...]:
        """Converted persons / active persons, per day (None on a day without persons)."""
        return tuple(
            c / p if p else None for c, p in zip(self.converted, self.persons, strict=True)
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["conversion_rate"] = list(self.conversion_rate)
        return out

    def to_frame(self) -> Any:
        import pandas as pd

        rows = [
            {"day": d, "channel": c, "events": n}
            for c, counts in self.by_channel.items()
            for d, n in zip(self.dates, counts, strict=True)
        ]
        return pd.DataFrame(rows, columns=["day", "channel", "events"])

    def plot(self) -> Any:
        from plotly.subplots import make_subplots

        fig = make_subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            row_heights=[0.7, 0.3],
            vertical_spacing=0.06,
            subplot_titles=("Events per day by channel", f"Conversion: {self.conversion}"),
        )
        for c, counts in self.by_channel.items():
            fig.add_bar(x=list(self.dates), y=list(counts), name=c, row=1, col=1)
        rate = [None if r is None else round(100 * r, 2) for r in self.conversion_rate]
        fig.add_scatter(
            x=list(self.dates), y=rate, name="% of active persons", mode="lines+markers",
            row=2, col=1,
        )  # fmt: skip
        fig.update_yaxes(title_text="%", row=2, col=1)
        fig.update_layout(barmode="stack", title="Overview", height=560)
        return fig

    def __str__(self) -> str:
        lines = [str(self.info)] if self.info else []
        lines.append(f"{len(self.dates)} days, {len(self.by_channel)} channels")
        return "\n".join(lines)


def overview(ws: Workspace, conversion: str = "Order Completed") -> OverviewResult:
    """Compute the overview of ``ws`` (touchpoint events only; days in UTC)."""
    ev = ws.events()
    per = ev.group_by([ev.ts.date().name("day"), "channel"]).aggregate(n=ev.count())
    rows = ws.store.fetch(per.order_by(["day", "channel"])).to_pylist()
    pp = ev.group_by(ev.ts.date().name("day")).aggregate(p=ev.person_id.nunique())
    persons = {str(r["day"]): int(r["p"]) for r in ws.store.fetch(pp).to_pylist()}
    conv = ev.filter(ev.event == conversion)
    cp = conv.group_by(conv.ts.date().name("day")).aggregate(p=conv.person_id.nunique())
    converted = {str(r["day"]): int(r["p"]) for r in ws.store.fetch(cp).to_pylist()}
    days = sorted({str(r["day"]) for r in rows})
    index = {d: i for i, d in enumerate(days)}
    totals: dict[str, int] = {}
    for r in rows:
        totals[str(r["channel"])] = totals.get(str(r["channel"]), 0) + int(r["n"])
    by_channel: dict[str, list[int]] = {
        c: [0] * len(days) for c in sorted(totals, key=lambda c: -totals[c])
    }
    for r in rows:
        by_channel[str(r["channel"])][index[str(r["day"])]] = int(r["n"])
    return OverviewResult(
        info=ws.info(),
        dates=tuple(days),
        by_channel={c: tuple(v) for c, v in by_channel.items()},
        persons=tuple(persons.get(d, 0) for d in days),
        converted=tuple(converted.get(d, 0) for d in days),
        conversion=conversion,
    )


_EVENT_COLUMNS = (
    "event_id",
    "person_id",
    "anonymous_id",
    "user_id",
    "ts",
    "type",
    "event",
    "channel",
    "touchpoint",
    "session_id",
    "revenue",
    "currency",
    "source",
    "ingested_at",
)


@dataclass(frozen=True)
class EventsResult(Result):
    """Events as stored (after validation and stitching), newest first: the collector's
    live view, and a way to look one person up.

    >>> EventsResult(total=0, rows=()).to_dict()
    {'total': 0, 'rows': []}
    """

    total: int
    rows: tuple[Mapping[str, Any], ...]

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(_EVENT_COLUMNS))

    def __str__(self) -> str:
        lines = [f"{self.total:,} events match; newest {len(self.rows):,}:"]
        for r in self.rows:
            who = r["user_id"] or r["anonymous_id"]
            lines.append(f"  {r['ts']}  {r['type']:<8} {r['event'] or '':<24} {who}")
        return "\n".join(lines)


def recent_events(
    ws: Workspace,
    *,
    limit: int = 50,
    event_id: str | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    person_id: str | None = None,
) -> EventsResult:
    """Stored events of every call type, newest first, optionally filtered.

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "e.duckdb")
    >>> recent_events(ws, user_id="u1").total
    0
    """
    ev = ws.events(touchpoints_only=False)
    for col, value in (
        ("event_id", event_id),
        ("user_id", user_id),
        ("anonymous_id", anonymous_id),
        ("person_id", person_id),
    ):
        if value is not None:
            ev = ev.filter(ev[col] == value)
    total = int(ws.store.fetch(ev.aggregate(n=ev.count())).column("n")[0].as_py() or 0)
    sel = ev.select(*_EVENT_COLUMNS).order_by(
        [ev.ingested_at.desc(), ev.ts.desc(), ev.event_id.desc()]
    )
    rows = ws.store.fetch(sel.limit(limit)).to_pylist()
    for r in rows:
        for k in ("ts", "ingested_at"):
            r[k] = r[k].isoformat() if r[k] is not None else None
    return EventsResult(total=total, rows=tuple(rows))


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
