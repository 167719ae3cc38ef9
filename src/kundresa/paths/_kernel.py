"""Numpy kernels over a :class:`~kundresa.paths._index.Sequences` (no engine, no pandas).

A *unit* is one path: a person's whole journey (grain ``person``) or one session (grain
``session``: a new session starts after ``session_gap`` of inactivity). Everything here works
on contiguous row ranges of sorted arrays, so each analysis is a few linear passes.

>>> from kundresa.paths._index import Sequences
>>> s = Sequences.from_rows([("a", 1, "x"), ("a", 2, "y"), ("b", 1, "x"), ("b", 5, "y")])
>>> u = make_units(s, grain="person")
>>> g = transition_graph(u)
>>> [(s.labels[a], s.labels[b], int(c)) for a, b, c in zip(g.source, g.target, g.count)]
[('x', 'y', 2)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kundresa.paths._index import Bools, Ints, Sequences

__all__ = [
    "Graph",
    "SliceGroups",
    "Units",
    "first_in_unit",
    "group_slices",
    "make_units",
    "sankey_positions",
    "transition_graph",
]

_B1 = np.uint64(0x9E3779B97F4A7C15)
_B2 = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True)
class Units:
    """Rows (after collapsing repeats) grouped into units ``[start[u], end[u])``."""

    seq: Sequences
    label: Ints
    ts: Ints
    person: Ints
    start: Ints
    end: Ints  # exclusive
    unit: Ints  # unit of every row

    @property
    def count(self) -> int:
        """Number of units."""
        return int(self.start.shape[0])

    @property
    def labels(self) -> tuple[str, ...]:
        """Label names."""
        return self.seq.labels


def make_units(
    seq: Sequences,
    *,
    grain: str = "session",
    session_gap_us: int = 30 * 60 * 1_000_000,
    collapse_repeats: bool = False,
) -> Units:
    """Split the sequences into units and optionally collapse repeated labels (a a b -> a b)."""
    label, ts, person = seq.label, seq.ts, seq.person
    first = seq.person_start()
    if grain == "session" and seq.n:
        first[1:] |= (ts[1:] - ts[:-1]) > session_gap_us
    if collapse_repeats and seq.n:
        keep = np.ones(seq.n, dtype=bool)
        keep[1:] = first[1:] | (label[1:] != label[:-1])
        label, ts, person, first = label[keep], ts[keep], person[keep], first[keep]
    start = np.flatnonzero(first).astype(np.int64)
    end = (np.append(start[1:], np.int64(label.shape[0])) if start.size else start).astype(np.int64)
    unit = np.cumsum(first, dtype=np.int64) - 1
    return Units(seq, label, ts, person, start, end, unit)


@dataclass(frozen=True)
class Graph:
    """Directly-follows graph: one entry per edge plus per-label node figures."""

    source: Ints
    target: Ints
    count: Ints  # transitions
    persons: Ints  # unique persons with the transition
    median_us: np.ndarray[Any, np.dtype[np.float64]]
    node_events: Ints  # per label
    node_persons: Ints
    starts: Ints  # units starting with the label
    ends: Ints  # units ending with the label


def _persons_per_group(group: Ints, person: Ints, groups: int) -> Ints:
    """Distinct persons per group; ``person`` must be non-decreasing (rows are person-major)
    when ``groups <= 65536`` (then a stable radix sort by group keeps persons ascending)."""
    if group.size == 0:
        return np.zeros(groups, dtype=np.int64)
    monotone = bool(np.all(person[1:] >= person[:-1]))
    if groups <= 64 and monotone:
        # one bit per group, OR-ed per person: then count the persons holding each bit
        pstart = np.flatnonzero(np.concatenate([[True], person[1:] != person[:-1]]))
        bits = np.left_shift(np.uint64(1), group.astype(np.uint64))
        masks = np.bitwise_or.reduceat(bits, pstart)
        return np.array(
            [int(np.count_nonzero(masks & np.uint64(1 << g))) for g in range(groups)],
            dtype=np.int64,
        )
    if groups <= 65536 and monotone:
        order = np.argsort(group.astype(np.uint16), kind="stable")
        g, p = group[order], person[order]
        new = np.ones(g.size, dtype=bool)
        new[1:] = (g[1:] != g[:-1]) | (p[1:] != p[:-1])
        return np.bincount(g[new], minlength=groups).astype(np.int64)
    key = np.unique(group * (int(person.max()) + 1) + person)
    return np.bincount(key // (int(person.max()) + 1), minlength=groups).astype(np.int64)


def transition_graph(u: Units) -> Graph:
    """Counts, unique persons and median time of every ``a -> b`` within a unit."""
    v = len(u.labels)
    n = u.label.shape[0]
    node_events = np.bincount(u.label, minlength=v).astype(np.int64)
    node_persons = _persons_per_group(u.label, u.person, v)
    starts = np.bincount(u.label[u.start], minlength=v).astype(np.int64)
    ends = np.bincount(u.label[u.end - 1], minlength=v).astype(np.int64)
    if n < 2:
        z = np.zeros(0, dtype=np.int64)
        return Graph(z, z, z, z, np.zeros(0), node_events, node_persons, starts, ends)
    valid = u.unit[1:] == u.unit[:-1]
    src = u.label[:-1][valid]
    dst = u.label[1:][valid]
    dt = (u.ts[1:] - u.ts[:-1])[valid]
    who = u.person[1:][valid]
    edge = src * v + dst
    # stable sort by edge keeps persons ascending inside each edge block (rows are person-major)
    key = edge.astype(np.uint16) if v * v <= 65536 else edge
    order = np.argsort(key, kind="stable")
    edge_s, dt_s, who_s = edge[order], dt[order], who[order]
    if edge_s.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return Graph(z, z, z, z, np.zeros(0), node_events, node_persons, starts, ends)
    block = np.ones(edge_s.size, dtype=bool)
    block[1:] = edge_s[1:] != edge_s[:-1]
    bstart = np.flatnonzero(block)
    bend = np.append(bstart[1:], edge_s.size)
    newp = block.copy()
    newp[1:] |= who_s[1:] != who_s[:-1]
    persons = np.add.reduceat(newp.astype(np.int64), bstart)
    medians = np.array(
        [np.median(dt_s[a:b]) for a, b in zip(bstart.tolist(), bend.tolist(), strict=True)],
        dtype=np.float64,
    )
    edges = edge_s[bstart]
    return Graph(
        source=edges // v,
        target=edges % v,
        count=(bend - bstart).astype(np.int64),
        persons=persons.astype(np.int64),
        median_us=medians,
        node_events=node_events,
        node_persons=node_persons,
        starts=starts,
        ends=ends,
    )


def first_in_unit(u: Units, code: int, after: Ints | None = None) -> Ints:
    """Row of the first ``code`` in every unit (strictly after row ``after[unit]``), or -1."""
    out = np.full(u.count, -1, dtype=np.int64)
    if code < 0:
        return out
    rows = np.flatnonzero(u.label == code)
    units = u.unit[rows]
    if after is not None:
        ok = rows > after[units]
        rows, units = rows[ok], units[ok]
    if rows.size:
        first = np.ones(rows.size, dtype=bool)
        first[1:] = units[1:] != units[:-1]  # rows ascending, so units non-decreasing
        out[units[first]] = rows[first]
    return out


@dataclass(frozen=True)
class SliceGroups:
    """Distinct label sequences of row slices, most frequent first."""

    paths: list[tuple[int, ...]]
    truncated: list[bool]
    units: Ints
    persons: Ints
    median_us: np.ndarray[Any, np.dtype[np.float64]]
    total_units: int
    total_persons: int
    distinct: int


def _powers(n: int, base: np.uint64) -> np.ndarray[Any, np.dtype[np.uint64]]:
    out = np.empty(max(n, 1), dtype=np.uint64)
    out[0] = 1
    if n > 1:
        out[1:] = base
        out = np.cumprod(out, dtype=np.uint64)  # wraps modulo 2**64 by design
    return out


def group_slices(
    u: Units,
    lo: Ints,
    hi: Ints,
    *,
    truncated: Bools | None = None,
    tail: Ints | None = None,
    dur_lo: Ints | None = None,
    dur_hi: Ints | None = None,
    top: int | None = None,
    by_persons: bool = False,
) -> SliceGroups:
    """Group the slices ``rows lo[i]..hi[i]`` (inclusive) by their label sequence.

    ``truncated[i]`` marks a slice cut short (shown with ``…``), followed by the row
    ``tail[i]``; durations run from ``dur_lo`` to ``dur_hi`` (default ``lo``/``hi``). Sequences
    are grouped by two independent 64-bit polynomial hashes plus length (a false merge has
    a single 64-bit key mixing two independent polynomial hashes and the length (a false
    merge among a million distinct paths has probability about 3e-8), and only the ``top``
    groups (ranked by paths, or by persons with ``by_persons``) are decoded from one member.
    """
    m = int(lo.shape[0])
    lo_person = u.person[lo]
    if m and bool(np.all(lo_person[1:] >= lo_person[:-1])):
        total_persons = int(np.count_nonzero(lo_person[1:] != lo_person[:-1])) + 1
    else:
        total_persons = int(np.unique(lo_person).size) if m else 0
    if m == 0:
        z = np.zeros(0, dtype=np.int64)
        return SliceGroups([], [], z, z, np.zeros(0), 0, 0, 0)
    trunc = truncated if truncated is not None else np.zeros(m, dtype=bool)
    tl = tail if tail is not None else np.full(m, -1, dtype=np.int64)
    length = (hi - lo + 1).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int64)
    owner = np.repeat(np.arange(m, dtype=np.int64), length)
    pos = np.arange(int(length.sum()), dtype=np.int64) - offsets[owner]
    rows = lo[owner] + pos
    sym = (u.label[rows] + 1).astype(np.uint64)
    p1 = _powers(int(length.max()) + 1, _B1)
    p2 = _powers(int(length.max()) + 1, _B2)
    h1 = np.add.reduceat(sym * p1[pos], offsets)
    h2 = np.add.reduceat(sym * p2[pos], offsets)
    tail_sym = np.where(trunc, u.label[np.maximum(tl, 0)] + 2, 0).astype(np.uint64)
    key = h1 ^ (h2 * _B1 + length.astype(np.uint64) * _B2 + tail_sym)
    # hash-based factorisation: groups numbered in order of first appearance (no sort)
    import pandas as pd

    codes, _ = pd.factorize(key)
    group = np.asarray(codes, dtype=np.int64)
    seen = np.maximum.accumulate(group)
    new = np.ones(m, dtype=bool)
    new[1:] = group[1:] > seen[:-1]
    first = np.flatnonzero(new)  # first member of group 0, 1, 2, ...
    g = int(first.shape[0])
    units = np.bincount(group, minlength=g).astype(np.int64)
    persons = _persons_per_group(group, lo_person, g)
    if by_persons:
        rank = np.lexsort((first, -units, -persons))
    else:
        rank = np.lexsort((first, -persons, -units))  # ties: the earliest path first
    if top is not None:
        rank = rank[:top]
    # median duration of the ranked groups only
    a = dur_lo if dur_lo is not None else lo
    b = dur_hi if dur_hi is not None else hi
    pos_of = np.full(g, -1, dtype=np.int64)
    pos_of[rank] = np.arange(rank.size)
    member = np.flatnonzero(pos_of[group] >= 0) if rank.size < g else np.arange(m)
    dur = (u.ts[b[member]] - u.ts[a[member]]).astype(np.int64)
    gm = pos_of[group[member]]
    order = np.lexsort((dur, gm))
    gs = gm[order]
    bstart = np.searchsorted(gs, np.arange(rank.size), side="left")
    bend = np.searchsorted(gs, np.arange(rank.size), side="right")
    ds = dur[order].astype(np.float64)
    med_ranked = (ds[bstart + (bend - bstart - 1) // 2] + ds[bstart + (bend - bstart) // 2]) / 2
    paths: list[tuple[int, ...]] = []
    truncs: list[bool] = []
    for gi in rank.tolist():
        i = int(first[gi])
        seq = tuple(int(x) for x in u.label[lo[i] : hi[i] + 1].tolist())
        if trunc[i]:
            seq = (*seq, -1, int(u.label[tl[i]]))
        paths.append(seq)
        truncs.append(bool(trunc[i]))
    return SliceGroups(
        paths=paths,
        truncated=truncs,
        units=units[rank],
        persons=persons[rank],
        median_us=med_ranked,
        total_units=m,
        total_persons=total_persons,
        distinct=g,
    )


def sankey_positions(
    u: Units, *, start: int | None, end: int | None, steps: int
) -> tuple[Ints, Bools]:
    """Rows of the ``steps`` positions of every selected path (``-1`` where absent).

    * ``start`` only: from the first ``start`` of each unit forwards;
    * ``end`` only: backwards, the ``steps`` rows ending at the first ``end`` of each unit
      (column ``steps - 1`` is the ``end`` event);
    * both: from the first ``start`` to the first ``end`` after it (units without one are
      left out), cut after ``steps`` rows;
    * neither: from the unit's first event.
    Returns the row matrix of the selected units (selected units x steps) and the mask of
    selected units.
    """
    k = np.arange(steps, dtype=np.int64)
    if start is None and end is None:
        anchor = u.start.copy()
        last = u.end - 1
    elif end is None:
        assert start is not None
        anchor = first_in_unit(u, start)
        last = u.end - 1
    elif start is None:
        stop = first_in_unit(u, end)
        sel = stop >= 0
        idx = np.flatnonzero(sel)
        rows = stop[idx, None] - (steps - 1) + k[None, :]
        ok = rows >= u.start[idx, None]
        return np.where(ok, rows, -1), sel
    else:
        anchor = first_in_unit(u, start)
        stop = first_in_unit(u, end, after=anchor)
        anchor = np.where(stop >= 0, anchor, -1)
        last = stop
    sel = anchor >= 0
    idx = np.flatnonzero(sel)
    rows = anchor[idx, None] + k[None, :]
    ok = rows <= last[idx, None]
    return np.where(ok, rows, -1), sel
