"""The overview: events per day by channel and active persons per day, on any engine.

>>> import tempfile, pathlib
>>> from kundresa import Workspace
>>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "o.duckdb")
>>> overview(ws).days
()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kundresa.results import Result
from kundresa.workspace import InfoResult

if TYPE_CHECKING:
    from kundresa.workspace import Workspace

__all__ = ["OverviewResult", "overview"]


@dataclass(frozen=True)
class OverviewResult(Result):
    """Workspace counts plus touchpoint events per day and channel and persons per day.

    >>> r = OverviewResult(info=None, days=("2026-01-05",), by_channel={"web": (3,)},
    ...                    persons=(2,))
    >>> r.to_frame().to_dict("records")
    [{'day': '2026-01-05', 'channel': 'web', 'events': 3}]
    """

    info: InfoResult | None
    days: tuple[str, ...]
    by_channel: dict[str, tuple[int, ...]]
    persons: tuple[int, ...]

    def to_frame(self) -> Any:
        import pandas as pd

        rows = [
            {"day": d, "channel": c, "events": n}
            for c, counts in self.by_channel.items()
            for d, n in zip(self.days, counts, strict=True)
        ]
        return pd.DataFrame(rows, columns=["day", "channel", "events"])

    def plot(self) -> Any:
        import plotly.graph_objects as go

        fig = go.Figure()
        for c, counts in self.by_channel.items():
            fig.add_bar(x=list(self.days), y=list(counts), name=c)
        fig.update_layout(barmode="stack", title="Events per day by channel", height=420)
        return fig

    def __str__(self) -> str:
        lines = [str(self.info)] if self.info else []
        lines.append(f"{len(self.days)} days, {len(self.by_channel)} channels")
        return "\n".join(lines)


def overview(ws: Workspace) -> OverviewResult:
    """Compute the overview of ``ws`` (touchpoint events only; days in UTC)."""
    ev = ws.events()
    per = ev.group_by([ev.ts.date().name("day"), "channel"]).aggregate(n=ev.count())
    rows = ws.store.to_arrow(per.order_by(["day", "channel"])).to_pylist()
    pp = ev.group_by(ev.ts.date().name("day")).aggregate(p=ev.person_id.nunique())
    persons = {str(r["day"]): int(r["p"]) for r in ws.store.to_arrow(pp).to_pylist()}
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
        days=tuple(days),
        by_channel={c: tuple(v) for c, v in by_channel.items()},
        persons=tuple(persons.get(d, 0) for d in days),
    )
