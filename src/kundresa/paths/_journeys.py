"""Journey archetypes (long vs short journeys to conversion) and web pages and time.

>>> import tempfile, pathlib
>>> from kundresa import Workspace
>>> from kundresa.paths._analysis import _demo_log
>>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "j.duckdb")
>>> rows = [("a", 0, "ad"), ("a", 60, "buy"), ("b", 0, "ad"), ("b", 9 * 86400, "x"),
...         ("b", 20 * 86400, "buy")]
>>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
>>> result = journey_archetypes(ws, conversion="buy")
>>> sorted((j["touches"], j["archetype"]) for j in result.journeys)
[(2, 'short'), (3, 'long')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kundresa._errors import InvalidOptionError, NotFoundError
from kundresa._util import parse_duration
from kundresa.paths import _kernel as kn
from kundresa.paths._index import PathRules
from kundresa.paths._results import JourneyArchetypes, PageStats

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["journey_archetypes", "page_stats"]

DAY_US = 86_400 * 1_000_000
METHODS = ("threshold", "kmeans")


def _two_means(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Deterministic 2-means on standardised features: True = cluster of the larger values."""
    z = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    score = z.sum(axis=1)
    c = np.stack(
        [
            z[score <= np.quantile(score, 0.1)].mean(axis=0),
            z[score >= np.quantile(score, 0.9)].mean(axis=0),
        ]
    )
    assign = np.zeros(len(z), dtype=bool)
    for _ in range(100):
        d0 = ((z - c[0]) ** 2).sum(axis=1)
        d1 = ((z - c[1]) ** 2).sum(axis=1)
        new = d1 < d0
        if np.array_equal(new, assign) and _ > 0:
            break
        assign = new
        if assign.all() or not assign.any():
            break
        c = np.stack([z[~assign].mean(axis=0), z[assign].mean(axis=0)])
    return assign


def journey_archetypes(
    ws: Workspace,
    *,
    conversion: str = "Order Completed",
    method: str = "threshold",
    long_after: str = "7d",
) -> JourneyArchetypes:
    """Per converting person: touches (touchpoints up to and including the first
    ``conversion``), ``duration_seconds`` (first touchpoint to it) and distinct channels;
    classified ``long`` (research-heavy) when the duration exceeds ``long_after``
    (``method="threshold"``, the default: a fixed, explainable consideration window, so a
    person's archetype does not depend on who else is in the data) or by 2-means on log
    touches and log hours (``method="kmeans"``: the boundary moves with the mix of
    journeys; with many one-visit store purchases it splits those off and puts most
    same-day online buyers with the researchers). See the module example.
    """
    from kundresa.paths._analysis import sequences

    if method not in METHODS:
        raise InvalidOptionError("method", method, allowed=METHODS)
    cutoff = parse_duration(long_after, "long_after").total_seconds() / 86400
    seq = sequences(ws, PathRules(), extra=("channel",))
    u = kn.make_units(seq, unit="person")
    code = seq.code(conversion)
    if code < 0:
        raise NotFoundError("conversion", conversion, candidates=seq.labels)
    hit = kn.first_in_unit(u, code)
    conv = np.flatnonzero(hit >= 0)
    touches = hit[conv] - u.start[conv] + 1
    days = (u.ts[hit[conv]] - u.ts[u.start[conv]]) / DAY_US
    ch_codes, ch_names = seq.extra["channel"]
    nch = len(ch_names) + 1
    rows = np.arange(seq.n)
    upto = (hit[u.unit] >= 0) & (rows <= hit[u.unit])
    pairs = np.unique(u.unit[upto] * nch + (ch_codes[upto] + 1))
    per_unit = np.bincount(pairs // nch, minlength=u.count)
    channels = per_unit[conv]
    if conv.size == 0:
        long = np.zeros(0, dtype=bool)
    elif method == "threshold":
        long = days > cutoff
    else:
        long = _two_means(np.stack([np.log1p(touches), np.log1p(days * 24)], axis=1))
        if long.any() and (~long).any() and np.median(days[long]) < np.median(days[~long]):
            long = ~long
    # channels per archetype: share of its persons touched by each channel before converting
    pair_unit, pair_ch = pairs // nch, pairs % nch - 1
    is_long_unit = np.zeros(u.count, dtype=bool)
    is_long_unit[conv[long]] = True
    summary = []
    for name, mask in (("short", ~long), ("long", long)):
        n = int(mask.sum())
        if n:
            m_units = is_long_unit[pair_unit] if name == "long" else ~is_long_unit[pair_unit]
            m_units &= hit[pair_unit] >= 0
            counts = np.bincount(pair_ch[m_units & (pair_ch >= 0)], minlength=len(ch_names))
            top = [str(ch_names[c]) for c in np.argsort(-counts, kind="stable")[:3] if counts[c]]
        else:
            top = []
        summary.append(
            {
                "archetype": name,
                "persons": n,
                "share": round(n / conv.size, 6) if conv.size else 0.0,
                "median_touches": float(np.median(touches[mask])) if n else 0.0,
                "median_seconds": round(float(np.median(days[mask])) * 86400, 3) if n else 0.0,
                "median_channels": float(np.median(channels[mask])) if n else 0.0,
                "top_channels": top,
            }
        )
    if method == "threshold" or not conv.size:
        boundary = {"long_after_seconds": cutoff * 86400}
    else:
        boundary = {
            "max_short_seconds": round(float(days[~long].max()) * 86400, 3)
            if (~long).any()
            else 0.0,
            "min_long_seconds": round(float(days[long].min()) * 86400, 3) if long.any() else 0.0,
        }
    persons = u.person[u.start[conv]]
    journeys = tuple(
        {
            "person_id": seq.persons[p],
            "touches": int(t),
            "duration_seconds": round(float(d) * 86400, 3),
            "channels": int(c),
            "archetype": "long" if lg else "short",
        }
        for p, t, d, c, lg in zip(
            persons.tolist(),
            touches.tolist(),
            days.tolist(),
            channels.tolist(),
            long.tolist(),
            strict=True,
        )
    )
    return JourneyArchetypes(
        conversion=conversion,
        method=method,
        boundary=boundary,
        summary=tuple(summary),
        journeys=journeys,
    )


def page_stats(
    ws: Workspace,
    *,
    page_field: str = "touchpoint",
    conversion: str = "Order Completed",
    session_gap: str = "30m",
    page_events: tuple[str, ...] = (),
) -> PageStats:
    """Web pages and time: page/screen calls named by ``page_field``; time on page is the
    time to the next touchpoint of the same session (none for a session's last event);
    entries/exits are the first/last page of a session; ``conversion_rate_after`` is the
    share of persons who viewed the page and had ``conversion`` later. ``page_events``
    (event names) replaces the default page test (``type`` page or screen).

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> page_stats(ws).pages
    ()
    """
    from kundresa.paths._analysis import sequences

    gap_us = int(parse_duration(session_gap, "session_gap").total_seconds() * 1_000_000)
    seq = sequences(ws, PathRules(), extra=("type", page_field))
    if seq.n == 0:
        return PageStats(page_field, conversion, {"sessions": 0}, ())
    u = kn.make_units(seq, unit="session", session_gap_us=gap_us)
    type_codes, type_names = seq.extra["type"]
    page_types = [i for i, t in enumerate(type_names) if t in ("page", "screen")]
    is_page = np.isin(type_codes, page_types)
    if page_events:
        is_page = np.isin(seq.label, [seq.code(e) for e in page_events if seq.code(e) >= 0])
    f_codes, f_names = seq.extra[page_field]
    names = [*(str(v) for v in f_names), "(none)"]
    page = np.where(f_codes >= 0, f_codes, len(f_names))
    v = len(names)
    rows = np.flatnonzero(is_page)
    pg = page[rows]
    views = np.bincount(pg, minlength=v)
    persons = kn._persons_per_group(pg, seq.person[rows], v)
    nxt_same = np.zeros(seq.n, dtype=bool)
    nxt_same[:-1] = u.unit[1:] == u.unit[:-1]
    timed = rows[nxt_same[rows]]
    dt = seq.ts[timed + 1] - seq.ts[timed]
    med = np.full(v, np.nan)
    order = np.lexsort((dt, page[timed]))
    ps, ds = page[timed][order], dt[order]
    for c in np.unique(ps).tolist():
        a, b = np.searchsorted(ps, c, "left"), np.searchsorted(ps, c, "right")
        med[c] = np.median(ds[a:b]) / 1e6
    unit_of = u.unit[rows]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = unit_of[1:] != unit_of[:-1]
    last = np.ones(rows.size, dtype=bool)
    last[:-1] = unit_of[1:] != unit_of[:-1]
    entries = np.bincount(pg[first], minlength=v)
    exits = np.bincount(pg[last], minlength=v)
    code = seq.code(conversion)
    last_conv = np.full(len(seq.persons), -1, dtype=np.int64)
    if code >= 0:
        conv_rows = np.flatnonzero(seq.label == code)
        np.maximum.at(last_conv, seq.person[conv_rows], conv_rows)
    after = rows < last_conv[seq.person[rows]]
    conv_after = kn._persons_per_group(pg[after], seq.person[rows][after], v)
    out: list[dict[str, Any]] = []
    for c in np.flatnonzero(views).tolist():
        out.append(
            {
                "page": names[c],
                "views": int(views[c]),
                "persons": int(persons[c]),
                "median_seconds_on_page": None if np.isnan(med[c]) else round(float(med[c]), 3),
                "entries": int(entries[c]),
                "exits": int(exits[c]),
                "exit_rate": round(float(exits[c] / views[c]), 6),
                "converted_after": int(conv_after[c]),
                "conversion_rate_after": round(float(conv_after[c] / persons[c]), 6),
            }
        )
    out.sort(key=lambda r: (-r["views"], r["page"]))
    dur = (u.ts[u.end - 1] - u.ts[u.start]) / 1e6
    sessions = {
        "sessions": float(u.count),
        "median_seconds": round(float(np.median(dur)), 3),
        "median_events": float(np.median(u.end - u.start)),
    }
    return PageStats(page_field, conversion, sessions, tuple(out))
