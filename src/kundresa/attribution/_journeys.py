"""Journeys to conversion: built in Ibis on the workspace's engine, held as compact arrays.

A *journey* is one person's touchpoint sequence that ends in a conversion event (converting
journey) or in the person's last touch after their last conversion (non-converting journey;
Markov needs those). Touches are the person's touchpoint events other than the conversion
event, strictly before the conversion in the total order ``(ts, event_id)``, after the
previous conversion, and within the lookback (person: ``lookback`` before the journey's end;
session: the end's session only). Consecutive touches of the same channel are merged into one
touch (the run's last event gives its time), the standard definition for path models.

The engine returns two small tables (touches and conversions); everything after that is
numpy on the compact form: ``offsets`` (CSR), ``codes`` (channel index per touch),
``seconds_before`` (touch to journey end), ``conversions`` and ``value`` per journey.

>>> j = Journeys.from_paths([["search", "web"], ["ads"]], conversions=[1, 0])
>>> j.n_journeys, j.channels, j.paths()
(2, ('ads', 'search', 'web'), [('search', 'web'), ('ads',)])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from kundresa._errors import InvalidOptionError
from kundresa._results import Result
from kundresa._util import parse_duration, renamed

if TYPE_CHECKING:
    import ibis

    from kundresa._workspace import Workspace

__all__ = ["UNITS", "Journeys", "build_journeys", "journey_tables"]

UNITS = ("person", "session")
_I64 = np.int64
Array = np.ndarray[Any, Any]


@dataclass(frozen=True, eq=False)
class Journeys(Result):
    """Journeys in compact form (CSR arrays); the input of every attribution model.

    ``conversions[j]`` is 1.0 for a converting journey and 0.0 otherwise; ``value[j]`` is the
    conversion's revenue (0 when absent). ``end_channel[j]`` is the channel of the conversion
    event (``""`` for non-converting journeys), used by the ROPO report.

    >>> j = Journeys.from_paths([["a", "b", "b"]], conversions=[1])
    >>> j.paths()  # consecutive repeats merged
    [('a', 'b')]
    """

    _renamed = {"conversion_event": "conversion"}  # noqa: RUF012 (old spelling, one release)

    channels: tuple[str, ...]
    offsets: Array
    codes: Array
    seconds_before: Array
    conversions: Array
    value: Array
    person_id: tuple[str, ...] = ()
    end_channel: tuple[str, ...] = ()
    conversion: str = ""
    lookback_seconds: float = 0.0
    #: conversions with no touch in the lookback (not attributable to any channel)
    unattributed_conversions: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_paths(
        cls,
        paths: Sequence[Sequence[str]],
        conversions: Sequence[float],
        *,
        value: Sequence[float] | None = None,
        seconds_before: Sequence[Sequence[float]] | None = None,
        merge_repeats: bool = True,
    ) -> Journeys:
        """Journeys from channel lists (tests, examples, the benchmark).

        >>> Journeys.from_paths([["x"]], conversions=[1], value=[9.5]).value.tolist()
        [9.5]
        """
        if len(paths) != len(conversions):
            raise InvalidOptionError(
                "conversions", len(conversions), fix=f"pass one number per path ({len(paths)})"
            )
        channels = tuple(sorted({c for p in paths for c in p}))
        index = {c: i for i, c in enumerate(channels)}
        codes: list[int] = []
        secs: list[float] = []
        offsets = [0]
        for k, p in enumerate(paths):
            times = list(seconds_before[k]) if seconds_before is not None else [0.0] * len(p)
            prev = None
            for c, s in zip(p, times, strict=True):
                if merge_repeats and c == prev:
                    secs[-1] = s  # the run's last touch gives its time
                    continue
                codes.append(index[c])
                secs.append(float(s))
                prev = c
            offsets.append(len(codes))
        conv = np.asarray(conversions, dtype=np.float64)
        return cls(
            channels=channels,
            offsets=np.asarray(offsets, dtype=_I64),
            codes=np.asarray(codes, dtype=_I64),
            seconds_before=np.asarray(secs, dtype=np.float64),
            conversions=conv,
            value=np.zeros(len(conv)) if value is None else np.asarray(value, dtype=np.float64),
        )

    # -- views ---------------------------------------------------------------------------
    @property
    def n_journeys(self) -> int:
        """Number of journeys (converting and not)."""
        return len(self.offsets) - 1

    @property
    def lengths(self) -> Array:
        """Touches per journey."""
        return np.diff(self.offsets)

    def journey_of_touch(self) -> Array:
        """The journey index of every touch."""
        return np.repeat(np.arange(self.n_journeys, dtype=_I64), self.lengths)

    def paths(self) -> list[tuple[str, ...]]:
        """Every journey as a tuple of channel names."""
        ch = self.channels
        codes = self.codes.tolist()
        off = self.offsets.tolist()
        return [tuple(ch[c] for c in codes[off[i] : off[i + 1]]) for i in range(self.n_journeys)]

    def channel_sets(self) -> Array:
        """Bit mask of the distinct channels of each journey (at most 62 channels)."""
        if len(self.channels) > 62:
            raise InvalidOptionError(
                "channels", len(self.channels), fix="group channels (at most 62 for sets)"
            )
        bits = np.left_shift(np.int64(1), self.codes)
        masks = np.zeros(self.n_journeys, dtype=_I64)
        np.bitwise_or.at(masks, self.journey_of_touch(), bits)
        return masks

    def to_frame(self) -> Any:
        """One row per journey: path, touches, conversions, value."""
        import pandas as pd

        return pd.DataFrame(
            {
                "path": [" > ".join(p) for p in self.paths()],
                "touches": self.lengths,
                "conversions": self.conversions,
                "value": self.value,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Counts and the 20 most frequent paths (the arrays stay out of JSON)."""
        frame = self.to_frame()
        top = (
            frame.groupby("path", sort=False)
            .agg(journeys=("path", "size"), conversions=("conversions", "sum"))
            .sort_values(["journeys", "conversions"], ascending=False)
            .head(20)
        )
        return {
            "conversion": self.conversion,
            "lookback_seconds": self.lookback_seconds,
            "journeys": self.n_journeys,
            "converting_journeys": int((self.conversions > 0).sum()),
            "conversions": float(self.conversions.sum()),
            "unattributed_conversions": self.unattributed_conversions,
            "touches": len(self.codes),
            "channels": list(self.channels),
            "top_paths": [
                {"path": p, "journeys": int(r.journeys), "conversions": float(r.conversions)}
                for p, r in top.iterrows()
            ],
        }

    def __str__(self) -> str:
        d = self.to_dict()
        lines = [
            f"{d['journeys']:,} journeys ({d['converting_journeys']:,} converting, "
            f"{d['touches']:,} touches, {len(self.channels)} channels)"
        ]
        lines += [f"  {r['journeys']:>8,}  {r['path']}" for r in d["top_paths"][:10]]
        return "\n".join(lines)


def _check_scope(scope: str) -> None:
    if scope not in UNITS:
        raise InvalidOptionError("unit", scope, allowed=UNITS)


def journey_tables(
    ws: Workspace,
    conversion: str,
    *,
    lookback: str | dt.timedelta = "30d",
    unit: str = "person",
    first_only: bool = False,
    channel_column: str = "channel",
    events: ibis.Table | None = None,
) -> tuple[ibis.Table, ibis.Table]:
    """The two Ibis expressions behind :func:`build_journeys` (touches, conversions).

    ``touches``: ``person_id, journey, step, channel, us_before`` (merged runs);
    ``conversions``: ``person_id, journey, value, end_channel`` (the conversion event's
    ``channel``). ``journey`` counts the
    person's conversions before it; non-converting journeys have no conversion row.
    ``events`` replaces ``ws.events()`` (e.g. touches labelled with their journey stage).
    """
    import ibis

    _check_scope(unit)
    look_us = int(parse_duration(lookback, "lookback").total_seconds() * 1_000_000)
    ev = ws.events() if events is None else events
    if channel_column not in ev.columns:
        raise InvalidOptionError("channel_column", channel_column, allowed=ev.columns)
    ev = ev.filter(ev.person_id.notnull())
    ev = ev.select(
        "person_id",
        "ts",
        "event_id",
        "session_id",
        "revenue",
        ch=ev[channel_column].cast("string").fill_null("(none)"),
        real_channel=ev.channel.fill_null("(none)"),
        is_conv=(ev.event == conversion).cast("int64"),
    )
    w = ibis.cumulative_window(group_by=ev.person_id, order_by=[ev.ts, ev.event_id])
    ev = ev.mutate(journey=ev.is_conv.sum().over(w) - ev.is_conv)
    if first_only:
        ev = ev.filter(ev.journey == 0)
    conv = ev.filter(ev.is_conv == 1).select(
        "person_id",
        "journey",
        c_ts=ev.ts,
        c_session=ev.session_id,
        value=ev.revenue.fill_null(0.0),
        end_channel=ev.real_channel,
    )
    touch = ev.filter(ev.is_conv == 0)
    wj = ibis.window(group_by=[touch.person_id, touch.journey])
    touch = touch.mutate(last_ts=touch.ts.max().over(wj))
    lj = touch.left_join(conv, ["person_id", "journey"])
    lj = lj.select(
        "person_id",
        "journey",
        "ts",
        "event_id",
        "session_id",
        "ch",
        "last_ts",
        "c_ts",
        "c_session",
    )
    end_ts = lj.c_ts.fill_null(lj.last_ts)
    lj = lj.mutate(us_before=end_ts.delta(lj.ts, unit="microsecond"))
    if unit == "person":
        lj = lj.filter(lj.us_before <= look_us)
    else:  # session: the conversion's session, or the last session of a non-converting one
        at_end = ibis.ifelse(lj.ts == lj.last_ts, lj.session_id, ibis.null("string"))
        wl = ibis.window(group_by=[lj.person_id, lj.journey])
        lj = lj.mutate(last_session=at_end.max().over(wl))
        lj = lj.mutate(end_session=lj.c_session.fill_null(lj.last_session))
        lj = lj.filter(lj.session_id == lj.end_session)
    wo = ibis.window(group_by=[lj.person_id, lj.journey], order_by=[lj.ts, lj.event_id])
    lj = lj.mutate(next_ch=lj.ch.lead().over(wo))
    runs = lj.filter(lj.next_ch.isnull() | (lj.next_ch != lj.ch))
    wr = ibis.window(group_by=[runs.person_id, runs.journey], order_by=[runs.ts, runs.event_id])
    runs = runs.select(
        "person_id",
        "journey",
        step=ibis.row_number().over(wr),
        channel=runs.ch,
        us_before=runs.us_before,
    )
    return runs, conv.select("person_id", "journey", "value", "end_channel")


@renamed(lookback_scope="unit")
def build_journeys(
    ws: Workspace,
    conversion: str,
    *,
    lookback: str | dt.timedelta = "30d",
    unit: str = "person",
    first_only: bool = False,
    channel_column: str = "channel",
    journey_map: Any = None,
) -> Journeys:
    """Build every journey to ``conversion`` (and the non-converting ones) from the store.

    ``conversion`` must be an event name of the workspace (else :class:`NotFoundError` with
    the closest names). ``lookback`` is a duration (``"30d"``); ``unit`` is
    ``person`` (touches within ``lookback`` before the conversion) or ``session`` (the
    conversion's session). ``first_only`` keeps only each person's journey to their first
    conversion (and persons who never convert). ``channel_column`` may be ``campaign``,
    ``utm_source``, ``touchpoint``, ... for finer attribution. With ``journey_map`` (a
    :class:`~kundresa.maps.JourneyMap` or a map file) every touch is labelled
    ``"<stage> / <channel>"`` with the journey stage the person was in at the touch (see
    :func:`~kundresa.attribution.channel_report`), so the models credit channels per stage.

    >>> import tempfile, pathlib, pyarrow as pa, datetime as dt
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "j.duckdb")
    >>> t0 = dt.datetime(2026, 1, 5)
    >>> rows = [("e1", "search", "Search Result Clicked", 0), ("e2", "web", "Page Viewed", 60),
    ...         ("e3", "web", "Order Completed", 120)]
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "ev.jsonl"
    >>> import json
    >>> _ = f.write_text("\\n".join(json.dumps({"messageId": i, "type": "track", "event": e,
    ...     "userId": "u1", "timestamp": (t0 + dt.timedelta(seconds=s)).isoformat() + "Z",
    ...     "context": {"channel": c}}) for i, c, e, s in rows))
    >>> _ = ws.ingest([f])
    >>> build_journeys(ws, "Order Completed").paths()
    [('search', 'web')]
    """
    _check_scope(unit)
    ws.require_event(conversion)
    look = parse_duration(lookback, "lookback")
    events = None
    if journey_map is not None:
        from kundresa.attribution._stages import STAGE_SEP, labelled_events, load_journey_map

        events = labelled_events(ws, load_journey_map(journey_map))
        if channel_column not in events.columns:
            raise InvalidOptionError("channel_column", channel_column, allowed=events.columns)
        label = events.stage + STAGE_SEP + events[channel_column].cast("string").fill_null("(none)")
        events = events.mutate(stage_channel=label)
        channel_column = "stage_channel"
    runs, conv = journey_tables(
        ws,
        conversion,
        lookback=look,
        unit=unit,
        first_only=first_only,
        channel_column=channel_column,
        events=events,
    )
    return assemble(
        ws.store.fetch(runs),
        ws.store.fetch(conv),
        conversion=conversion,
        lookback_seconds=look.total_seconds(),
    )


def assemble(
    runs: pa.Table, conv: pa.Table, *, conversion: str = "", lookback_seconds: float = 0.0
) -> Journeys:
    """Compact :class:`Journeys` from the engine's two tables (deterministic order)."""
    import pandas as pd

    r = runs.to_pandas()
    c = conv.to_pandas()
    keys = pd.concat(
        [r[["person_id", "journey"]], c[["person_id", "journey"]]], ignore_index=True
    ).drop_duplicates()
    keys = keys.sort_values(["person_id", "journey"], kind="stable").reset_index(drop=True)
    keys["jid"] = np.arange(len(keys), dtype=_I64)
    c = c.merge(keys, on=["person_id", "journey"], how="left")
    r = r.merge(keys, on=["person_id", "journey"], how="left")
    r = r.sort_values(["jid", "step"], kind="stable")
    channels = tuple(sorted(str(x) for x in r["channel"].unique()))
    index = {ch: i for i, ch in enumerate(channels)}
    codes = r["channel"].map(index).to_numpy(dtype=_I64)
    n = len(keys)
    lengths = np.bincount(r["jid"].to_numpy(dtype=_I64), minlength=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(_I64)
    conversions = np.zeros(n)
    value = np.zeros(n)
    cj = c["jid"].to_numpy(dtype=_I64)
    conversions[cj] = 1.0
    value[cj] = c["value"].to_numpy(dtype=np.float64)
    end = np.full(n, "", dtype=object)
    end[cj] = c["end_channel"].astype(str).to_numpy()
    unattributed = float(conversions[lengths == 0].sum())
    return Journeys(
        channels=channels,
        offsets=offsets,
        codes=codes,
        seconds_before=r["us_before"].to_numpy(dtype=np.float64) / 1e6,
        conversions=conversions,
        value=value,
        person_id=tuple(keys["person_id"].astype(str)),
        end_channel=tuple(str(x) for x in end),
        conversion=conversion,
        lookback_seconds=lookback_seconds,
        unattributed_conversions=unattributed,
    )
