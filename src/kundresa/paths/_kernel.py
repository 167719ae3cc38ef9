"""Numpy kernels over a :class:`~kundresa.paths._index.Sequences` (no engine, no pandas).

A *unit* is one path: a person's whole journey (unit ``person``) or one session (unit
``session``: a new session starts after ``session_gap`` of inactivity). Everything here works
on contiguous row ranges of sorted arrays, so each analysis is a few linear passes.

>>> from kundresa.paths._index import Sequences
>>> s = Sequences.from_rows([("a", 1, "x"), ("a", 2, "y"), ("b", 1, "x"), ("b", 5, "y")])
>>> u = make_units(s, unit="person")
>>> g = transition_graph(u)
>>> [(s.labels[a], s.labels[b], int(c)) for a, b, c in zip(g.source, g.target, g.count)]
[('x', 'y', 2)]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kundresa.paths import _compiled
from kundresa.paths._index import Bools, Ints, Sequences

__all__ = [
    "FlowCounts",
    "Graph",
    "SliceGroups",
    "Units",
    "count_distinct",
    "first_in_unit",
    "flow_counts",
    "group_slices",
    "make_units",
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
    unit: str = "session",
    session_gap_us: int = 30 * 60 * 1_000_000,
    collapse_repeats: bool = False,
) -> Units:
    """Split the sequences into units and optionally collapse repeated labels (a a b -> a b)."""
    label, ts, person = seq.label, seq.ts, seq.person
    first = seq.person_start()
    if unit == "session" and seq.n:
        first[1:] |= (ts[1:] - ts[:-1]) > session_gap_us
    if collapse_repeats and seq.n:
        keep = np.ones(seq.n, dtype=bool)
        keep[1:] = first[1:] | (label[1:] != label[:-1])
        label, ts, person, first = label[keep], ts[keep], person[keep], first[keep]
    start = np.flatnonzero(first).astype(np.int64)
    end = (np.append(start[1:], np.int64(label.shape[0])) if start.size else start).astype(np.int64)
    unit_of_row = np.cumsum(first, dtype=np.int64) - 1
    return Units(seq, label, ts, person, start, end, unit_of_row)


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


def count_distinct(a: Ints) -> int:
    """Distinct values of ``a`` (one linear pass when it is sorted, as person columns are).

    >>> count_distinct(np.array([0, 0, 2, 5, 5])), count_distinct(np.array([3, 1, 3]))
    (3, 2)
    """
    if a.size == 0:
        return 0
    if bool(np.all(a[1:] >= a[:-1])):
        return int(np.count_nonzero(a[1:] != a[:-1])) + 1
    return int(np.unique(a).size)


def _persons_per_group(group: Ints, person: Ints, groups: int) -> Ints:
    """Distinct persons per group; ``person`` must be non-decreasing (rows are person-major)
    when ``groups <= 65536`` (then a stable radix sort by group keeps persons ascending)."""
    if group.size == 0:
        return np.zeros(groups, dtype=np.int64)
    monotone = bool(np.all(person[1:] >= person[:-1]))
    if groups <= 64 and monotone:
        # one bit per group, OR-ed per person: then count the persons holding each bit
        pstart = np.flatnonzero(np.concatenate([[True], person[1:] != person[:-1]]))
        table = np.left_shift(np.uint64(1), np.arange(groups, dtype=np.uint64))
        return _bit_counts(np.bitwise_or.reduceat(table[group], pstart))[:groups]
    if groups <= 65536 and monotone:
        # stable radix sort by group: persons stay ascending inside each group's block
        order = np.argsort(group.astype(np.uint16), kind="stable")
        ps = person[order]
        size = np.bincount(group, minlength=groups)
        bstart = (np.cumsum(size) - size)[size > 0]
        new = np.ones(ps.size, dtype=bool)
        new[1:] = ps[1:] != ps[:-1]
        new[bstart] = True
        out = np.zeros(groups, dtype=np.int64)
        out[size > 0] = np.add.reduceat(new, bstart, dtype=np.int64)
        return out
    # distinct (group, person) pairs by hashing one int64 key (no sort)
    import pandas as pd

    width = int(person.max()) + 1
    if groups * width < 2**63:
        pairs = pd.unique(group * width + person)
        return np.bincount(pairs // width, minlength=groups).astype(np.int64)
    both = np.unique(np.stack([group, person], axis=1), axis=0)
    return np.bincount(both[:, 0], minlength=groups).astype(np.int64)


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
    # every adjacent pair of rows, pairs across units in a sentinel edge ``v * v`` (no compaction)
    edges_n = v * v
    narrow = edges_n < 65536  # 16-bit edge codes: a radix sort and a quarter of the memory
    lab = u.label.astype(np.uint16) if narrow else u.label
    edge = lab[:-1] * (np.uint16(v) if narrow else v) + lab[1:]
    edge[u.start[1:] - 1] = edges_n  # the pair (last row of a unit, first of the next)
    size = np.bincount(edge, minlength=edges_n + 1)[:edges_n]
    real = int(size.sum())
    if real == 0:
        z = np.zeros(0, dtype=np.int64)
        return Graph(z, z, z, z, np.zeros(0), node_events, node_persons, starts, ends)
    # stable sort by edge keeps persons ascending inside each edge block (rows are
    # person-major); the sentinel block sorts last and is cut off
    order = np.argsort(edge, kind="stable")[:real]  # order[j]: the pair (order[j], +1)
    dt_s = np.diff(u.ts)[order]
    who_s = u.person[order]  # a pair's person is the person of both its rows
    present = np.flatnonzero(size)
    bend = np.cumsum(size)[present]
    bstart = bend - size[present]
    newp = np.ones(real, dtype=bool)
    newp[1:] = who_s[1:] != who_s[:-1]
    newp[bstart] = True
    persons = np.add.reduceat(newp, bstart, dtype=np.int64)
    return Graph(
        source=present // v,
        target=present % v,
        count=size[present].astype(np.int64),
        persons=persons,
        median_us=_block_medians(dt_s, bstart, bend),
        node_events=node_events,
        node_persons=node_persons,
        starts=starts,
        ends=ends,
    )


def _block_medians(values: Ints, bstart: Ints, bend: Ints) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Median of every non-empty block ``values[bstart[i]:bend[i]]``."""
    if bstart.size <= 4096:  # one partition per block
        return np.array(
            [np.median(values[a:b]) for a, b in zip(bstart.tolist(), bend.tolist(), strict=True)],
            dtype=np.float64,
        )
    block = np.repeat(np.arange(bstart.size), bend - bstart)
    vs = values[np.lexsort((values, block))].astype(np.float64)
    out: np.ndarray[Any, np.dtype[np.float64]] = (
        vs[bstart + (bend - bstart - 1) // 2] + vs[bstart + (bend - bstart) // 2]
    ) / 2
    return out


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


def _factorize(key: np.ndarray[Any, Any]) -> tuple[Ints, int]:
    """Hash factorisation: codes numbered in order of first appearance (no sort)."""
    import pandas as pd

    codes, uniques = pd.factorize(key)
    return np.asarray(codes, dtype=np.int64), len(uniques)


def _top_groups(primary: Ints, secondary: Ints, top: int | None) -> Ints:
    """Group ids ranked by ``-primary``, ``-secondary``, then id (= first appearance);
    only the first ``top`` (a partition picks the candidates, so no full sort)."""
    g = int(primary.shape[0])
    cand = np.arange(g, dtype=np.int64)
    if top is not None and g > top:
        kth = np.partition(primary, g - top)[g - top]  # the top-th largest value
        cand = np.flatnonzero(primary >= kth)
    rank = cand[np.lexsort((cand, -secondary[cand], -primary[cand]))]
    return rank if top is None else rank[:top]


def _group_medians(group: Ints, values: Ints, groups: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Median of ``values`` per group ``0..groups-1`` (every group non-empty)."""
    if groups <= 256:
        # radix (stable) sort on a small key, then one partition-based median per group
        order = np.argsort(group.astype(np.uint8), kind="stable")
        vs = values[order]
        bounds = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=groups))])
        return np.array(
            [np.median(vs[a:b]) for a, b in itertools.pairwise(bounds.tolist())],
            dtype=np.float64,
        )
    order = np.lexsort((values, group))
    gs = group[order]
    lo = np.searchsorted(gs, np.arange(groups), side="left")
    hi = np.searchsorted(gs, np.arange(groups), side="right")
    vs = values[order].astype(np.float64)
    out: np.ndarray[Any, np.dtype[np.float64]] = (
        vs[lo + (hi - lo - 1) // 2] + vs[lo + (hi - lo) // 2]
    ) / 2
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
    ``tail[i]``; durations run from ``dur_lo`` to ``dur_hi`` (default ``lo``/``hi``).
    Each slice gets one integer key: the sequence written as digits in base ``labels + 1``
    (plus a digit for the tail), which is exact (collision-free) whenever it fits in 63 bits
    (10 labels: paths up to 17 events); longer paths fall back to two independent 64-bit
    polynomial hashes mixed with the length (a false merge among a million distinct paths
    has probability about 3e-8). Keys are grouped by hashing (no sort), and only the ``top``
    groups (ranked by paths, or by persons with ``by_persons``; ties: earliest path first)
    get medians and are decoded from one member.
    """
    m = int(lo.shape[0])
    lo_person = u.person[lo]
    total_persons = count_distinct(lo_person)
    if m == 0:
        z = np.zeros(0, dtype=np.int64)
        return SliceGroups([], [], z, z, np.zeros(0), 0, 0, 0)
    trunc = truncated if truncated is not None else np.zeros(m, dtype=bool)
    tl = tail if tail is not None else lo
    length = (hi - lo + 1).astype(np.int64)
    whole = (
        m == u.count
        and truncated is None
        and bool(np.array_equal(lo, u.start))
        and bool(np.array_equal(hi, u.end - 1))
    )
    if whole:  # every row of every unit, in order: no gather needed
        offsets = lo
        pos = np.arange(u.label.shape[0], dtype=np.int64) - lo[u.unit]
        sym = (u.label + 1).astype(np.uint64)
    else:
        offsets = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int64)
        owner = np.repeat(np.arange(m, dtype=np.int64), length)
        pos = np.arange(int(length.sum()), dtype=np.int64) - offsets[owner]
        sym = (u.label[lo[owner] + pos] + 1).astype(np.uint64)
    v = len(u.labels)
    maxlen = int(length.max())
    has_tail = truncated is not None and bool(trunc.any())
    tail_sym = (
        np.where(trunc, u.label[np.maximum(tl, 0)] + 1, 0).astype(np.uint64)
        if has_tail
        else np.uint64(0)
    )
    if maxlen * math.log2(v + 1) + (math.log2(v + 1) if has_tail else 0) < 62.5:
        digits = _powers(maxlen, np.uint64(v + 1))
        key = np.add.reduceat(sym * digits[pos], offsets)
        if has_tail:
            key = key * np.uint64(v + 1) + tail_sym
    else:
        p1 = _powers(maxlen + 1, _B1)
        p2 = _powers(maxlen + 1, _B2)
        h1 = np.add.reduceat(sym * p1[pos], offsets)
        h2 = np.add.reduceat(sym * p2[pos], offsets)
        key = h1 ^ (h2 * _B1 + length.astype(np.uint64) * _B2 + tail_sym)
    group, g = _factorize(key)
    seen = np.maximum.accumulate(group)
    new = np.ones(m, dtype=bool)
    new[1:] = group[1:] > seen[:-1]
    first = np.flatnonzero(new)  # first member of group 0, 1, 2, ...
    units = np.bincount(group, minlength=g).astype(np.int64)
    if by_persons or top is None or g <= top:
        persons = _persons_per_group(group, lo_person, g)
        rank = _top_groups(persons, units, top) if by_persons else _top_groups(units, persons, top)
    else:  # ranked by paths: persons (the tie-break) only for the groups that can make it
        kth = np.partition(units, g - top)[g - top]
        cand = np.flatnonzero(units >= kth)
        slot = np.full(g, -1, dtype=np.int64)
        slot[cand] = np.arange(cand.size)
        rows_in = np.flatnonzero(slot[group] >= 0)
        persons = np.zeros(g, dtype=np.int64)
        persons[cand] = _persons_per_group(slot[group[rows_in]], lo_person[rows_in], cand.size)
        rank = cand[np.lexsort((cand, -persons[cand], -units[cand]))][:top]
    # median duration of the ranked groups only
    a = dur_lo if dur_lo is not None else lo
    b = dur_hi if dur_hi is not None else hi
    timed = np.ones(rank.size, dtype=bool)
    if dur_lo is None and dur_hi is None:
        timed = length[first[rank]] > 1  # a group's paths share one length; 1 event = 0 s
    med_ranked = np.zeros(rank.size, dtype=np.float64)
    if timed.any():
        pos_of = np.full(g, -1, dtype=np.int64)
        pos_of[rank[timed]] = np.arange(int(timed.sum()))
        gm = pos_of[group]
        member = np.flatnonzero(gm >= 0)
        dur = (u.ts[b[member]] - u.ts[a[member]]).astype(np.int64)
        med_ranked[timed] = _group_medians(gm[member], dur, int(timed.sum()))
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


@dataclass(frozen=True)
class FlowCounts:
    """Sankey numbers. Codes: ``0..v-1`` the labels, ``v`` = other; ``nodes[k, c]`` paths at
    step ``k`` on ``c``, ``links[k, a, b]`` paths going ``a`` (step ``k``) -> ``b`` (step
    ``k + 1``); ``*_persons`` the same as unique persons."""

    nodes: Ints  # steps x (v + 1)
    node_persons: Ints
    links: Ints  # (steps - 1) x (v + 1) x (v + 1)
    link_persons: Ints
    paths: int
    persons: int


def _step_rows(u: Units, start: int | None, end: int | None) -> tuple[Ints, Ints, Ints, Ints]:
    """``(base, lo, hi, units)`` for the selected units (ascending): the anchor row (the
    first step, or the last one for ``end`` only) and the rows a path may use, ``lo..hi``."""
    if start is None and end is None:
        return u.start, u.start, u.end - 1, np.arange(u.count, dtype=np.int64)
    if end is None:
        assert start is not None
        anchor = first_in_unit(u, start)
        idx = np.flatnonzero(anchor >= 0)
        return anchor[idx], anchor[idx], u.end[idx] - 1, idx
    if start is None:
        stop = first_in_unit(u, end)
        idx = np.flatnonzero(stop >= 0)
        return stop[idx], u.start[idx], stop[idx], idx  # base is the last step here
    anchor = first_in_unit(u, start)
    stop = first_in_unit(u, end, after=anchor)
    idx = np.flatnonzero((anchor >= 0) & (stop >= 0))
    return anchor[idx], anchor[idx], stop[idx], idx


_BYTE_BITS = ((np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1).astype(np.int64)


def _bit_counts(masks: np.ndarray[Any, np.dtype[np.uint64]]) -> Ints:
    """How many of ``masks`` have each of the 64 bits set (a byte histogram per byte)."""
    b = masks.astype("<u8").view(np.uint8).reshape(-1, 8)
    return np.concatenate([np.bincount(b[:, j], minlength=256) @ _BYTE_BITS for j in range(8)])


def _persons_by_bits(
    keys: list[Ints], codes: list[Ints], sizes: list[int], pstart: Ints
) -> list[Ints]:
    """Distinct persons per code for several row keys: ``codes[i][keys[i]]`` is the code
    (``0..sizes[i]-1``, or -1 for none) of every row, rows person-major with persons starting
    at ``pstart``. Every (array, code) owns one bit of a 64-bit word per row (one lookup in a
    tiny table), the words are OR-ed per person and each bit is counted over persons. Arrays
    of up to 64 codes are packed together into words; a wider one gets words of its own."""
    words: list[list[tuple[int, int, int]]] = [[]]  # per word: (array, first code, bit)
    used = 0
    for i, size in enumerate(sizes):
        if size > 64:
            words += [[(i, lo, 0)] for lo in range(0, size, 64)]
            words.append([])
            used = 0
            continue
        if used + size > 64:
            words.append([])
            used = 0
        words[-1].append((i, 0, used))
        used += size
    out = [np.zeros(size, dtype=np.int64) for size in sizes]
    for mine in (w for w in words if w):
        acc: np.ndarray[Any, np.dtype[np.uint64]] | None = None
        for i, lo, bit in mine:
            c = codes[i]
            inside = (c >= lo) & (c < lo + 64)
            shift = np.where(inside, c - lo + bit, 0).astype(np.uint64)
            table = np.where(inside, np.left_shift(np.uint64(1), shift), np.uint64(0))
            if acc is None:
                acc = table[keys[i]]
            else:
                acc |= table[keys[i]]
        assert acc is not None
        per_bit = _bit_counts(np.bitwise_or.reduceat(acc, pstart))
        for i, lo, bit in mine:
            width = min(64, sizes[i] - lo)
            out[i][lo : lo + width] = per_bit[bit : bit + width]
    return out


def _top_lut(c: Ints, top: int, name_rank: Ints) -> Ints | None:
    """Shifted code -> code with all but the ``top`` labels (by count ``c``, ties: name)
    mapped to "other" (the last code), or None when nothing is cut.

    >>> _top_lut(np.array([5, 3, 1, 2, 0]), 2, np.array([0, 1, 2])).tolist()
    [0, 1, 4, 3, 4]
    """
    v = len(name_rank)
    present = np.flatnonzero(c[1 : v + 1])
    ranked = present[np.lexsort((name_rank[present], -c[1 : v + 1][present]))]
    if ranked.size <= top:
        return None
    lut = np.arange(v + 2, dtype=np.int64)
    lut[ranked[top:] + 1] = v + 1
    return lut


def _flow_counts_compiled(
    u: Units,
    base: Ints,
    room: Ints,
    backwards: bool,
    steps: int,
    top: int,
    name_rank: Ints,
    persons: Ints,
) -> FlowCounts:
    """:func:`flow_counts` by the compiled kernels (:mod:`kundresa.paths._compiled`)."""
    w = len(u.labels) + 2
    ident = np.arange(w, dtype=np.int64)
    if top >= len(u.labels):  # nothing can be cut: no counting pass for the ranking
        lut = np.tile(ident, (steps, 1))
    else:
        raw = _compiled.flow_nodes(u.label, base, room, backwards=backwards, steps=steps, width=w)
        cut = [_top_lut(raw[k], top, name_rank) for k in range(steps)]
        lut = np.stack([ident if c is None else c for c in cut])
    counts, node_persons, links, link_persons = _compiled.flow_links(
        u.label, base, room, backwards=backwards, lut=lut, persons=persons
    )
    return FlowCounts(
        nodes=counts[:, 1:],
        node_persons=node_persons[:, 1:],
        links=links[:, 1:, 1:],
        link_persons=link_persons[:, 1:, 1:],
        paths=int(base.shape[0]),
        persons=count_distinct(persons),
    )


def flow_counts(
    u: Units, *, start: int | None, end: int | None, steps: int, top: int
) -> FlowCounts:
    """Sankey counts for ``steps`` steps from the first ``start`` of each unit (or from its
    first event), backwards from the first ``end`` (``end`` only: the last step is ``end``),
    or from ``start`` to the next ``end`` (units without both are left out); per step the
    ``top`` labels by paths (ties: label name) and the rest as ``other``.

    Works on steps x paths label rows (one pass per step, no masking: absent = code 0 in
    the shifted codes below) with one bit per code per person for unique persons.
    """
    v = len(u.labels)
    w = v + 2  # shifted codes: 0 absent, 1..v the labels, v + 1 other
    base, lo, hi, idx = _step_rows(u, start, end)
    m = int(idx.shape[0])
    backwards = start is None and end is not None
    room = base - lo if backwards else hi - base  # steps available before/after ``base``
    persons = u.person[u.start[idx]]
    name_rank = np.empty(v, dtype=np.int64)
    name_rank[np.argsort(np.array(u.labels, dtype=object))] = np.arange(v)
    if _compiled.available():
        return _flow_counts_compiled(u, base, room, backwards, steps, top, name_rank, persons)
    small = np.int32 if w * w < 2**31 else np.int64
    shifted = np.empty((steps, m), dtype=small)
    counts = np.zeros((steps, w), dtype=np.int64)
    for k in range(steps):
        d = steps - 1 - k if backwards else k
        ok = room >= d
        row = np.maximum(base - d, lo) if backwards else np.minimum(base + d, hi)
        col = u.label[row].astype(small) + 1
        col[~ok] = 0
        c = np.bincount(col, minlength=w)
        lut = _top_lut(c, top, name_rank)
        if lut is not None:
            col = lut.astype(small)[col]
            c = np.bincount(col, minlength=w)
        shifted[k] = col
        counts[k] = c
    links = np.zeros((max(steps - 1, 0), w, w), dtype=np.int64)
    link_persons = np.zeros_like(links)
    pairs: list[Ints] = []
    dense: list[Ints] = []
    for k in range(steps - 1):
        pair = shifted[k] * w + shifted[k + 1]
        lc = np.bincount(pair, minlength=w * w)
        lc.reshape(w, w)[0, :] = 0
        lc.reshape(w, w)[:, 0] = 0
        used = np.flatnonzero(lc)
        ids = np.full(w * w, -1, dtype=np.int64)  # absent and unused pairs: no bit
        ids[used] = np.arange(used.size)
        pairs.append(pair)
        dense.append(ids)
        links[k].reshape(-1)[used] = lc[used]
    if m:
        pstart = np.flatnonzero(np.concatenate([[True], persons[1:] != persons[:-1]]))
        node_codes = np.arange(w, dtype=np.int64)
        node_codes[0] = -1
        counted = _persons_by_bits(
            [*shifted, *pairs],
            [node_codes] * steps + dense,
            [w] * steps + [int((ids >= 0).sum()) for ids in dense],
            pstart,
        )
    else:
        counted = [np.zeros(w, dtype=np.int64)] * steps + [
            np.zeros(0, dtype=np.int64) for _ in dense
        ]
    node_persons = np.stack(counted[:steps])
    for k, ids in enumerate(dense):
        used = np.flatnonzero(ids >= 0)
        link_persons[k].reshape(-1)[used] = counted[steps + k]
    return FlowCounts(
        nodes=counts[:, 1:],
        node_persons=node_persons[:, 1:],
        links=links[:, 1:, 1:],
        link_persons=link_persons[:, 1:, 1:],
        paths=m,
        persons=count_distinct(persons),
    )
