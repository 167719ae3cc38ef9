"""The funnel kernels: one ordered pass per unit over integer-coded events.

Input is a :class:`Coded` set of arrays sorted by (unit, time, tie order): ``t`` in
microseconds, ``mask`` the bit set of steps the event matches, ``xmask`` the bit set of
exclusions it is, ``hold`` an integer code of the held properties (-1: missing).

Two kernels produce the same :class:`Outcome`:

* :func:`fast_best` — the default semantics (ordered, ``best``, no extras), vectorised: for
  each step a segmented running maximum of the *latest entry time* that can reach the step,
  ``K`` passes of NumPy over the arrays, no Python loop per unit.
* :func:`general` — every semantics, a reachability search per attempt over states
  (step, event, exclusion anchors); linear in chains that are actually valid.

>>> import numpy as np
>>> c = Coded(gid=np.array([0, 0]), t=np.array([0, 5]), mask=np.array([1, 2]),
...           xmask=np.zeros(2, np.int64), hold=None, n_units=1)
>>> fast_best(c, k=2, window_us=10).filled.tolist()
[[True, True]]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kundresa.funnel import _compiled
from kundresa.funnel._spec import FunnelSpec

__all__ = ["Coded", "Outcome", "Packed", "as_coded", "fast_best", "general"]

I64 = npt.NDArray[np.int64]
NONE = -1
#: below this many rows ``impl="auto"`` keeps NumPy (the compiled kernel's first call in a
#: process loads or compiles it, ~0.1-2 s; small funnels are fast in NumPy anyway)
COMPILED_MIN_ROWS = 200_000


@dataclass(frozen=True)
class Coded:
    """Events coded as integers, sorted by (unit, time, tie order)."""

    gid: I64
    t: I64
    mask: I64
    xmask: I64
    hold: I64 | None
    n_units: int

    def bounds(self) -> Iterator[tuple[int, int, int]]:
        """(unit code, start, stop) of each unit's run of rows."""
        if len(self.gid) == 0:
            return
        cut = np.flatnonzero(np.diff(self.gid)) + 1
        starts = np.concatenate([[0], cut])
        stops = np.concatenate([cut, [len(self.gid)]])
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
            yield int(self.gid[a]), a, b


@dataclass(frozen=True)
class Packed:
    """The fast stream's events before decoding: unit ``u``'s rows are
    ``v[offsets[u]:offsets[u + 1]]`` in (time, tie) order, each ``time << bits | code`` with
    the step mask ``lut[code]``. The compiled kernel reads this directly (no decoded arrays);
    :meth:`decoded` gives the equivalent :class:`Coded`.

    >>> p = Packed(np.array([0, 2]), np.array([0 << 2 | 1, 5 << 2 | 2]), 2, np.arange(4))
    >>> c = p.decoded()
    >>> c.gid.tolist(), c.t.tolist(), c.mask.tolist(), c.n_units
    ([0, 0], [0, 5], [1, 2], 1)
    """

    offsets: I64
    v: I64
    bits: int
    lut: I64

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.offsets) - 1

    def decoded(self) -> Coded:
        """The same events as :class:`Coded` arrays (NumPy)."""
        gid = np.repeat(np.arange(self.n_units, dtype=np.int64), np.diff(self.offsets))
        low = (1 << self.bits) - 1
        z = np.zeros(len(self.v), np.int64)
        return Coded(gid, self.v >> self.bits, self.lut[self.v & low], z, None, self.n_units)


def as_coded(c: Coded | Packed) -> Coded:
    """``c`` as decoded :class:`Coded` arrays."""
    return c.decoded() if isinstance(c, Packed) else c


@dataclass(frozen=True)
class Outcome:
    """One row per counted item (a unit, or an attempt with ``entry="totals"``).

    ``filled[i, k]``: the item filled step k in some valid chain; ``ttc`` the shortest time
    from entry to that step (µs, -1 when not filled); ``at`` the earliest absolute time the step
    was filled (µs, -1); ``entry_t`` the entry time (µs). ``excluded`` counts units removed by
    ``drop`` exclusions.
    """

    unit: I64
    entry_t: I64
    filled: npt.NDArray[np.bool_]
    ttc: I64
    at: I64
    excluded: int


def fast_best(c: Coded | Packed, *, k: int, window_us: int, impl: str = "auto") -> Outcome:
    """Ordered funnel, ``entry="best"``, vectorised (see module doc).

    ``impl``: ``"numpy"`` (the passes below), ``"compiled"`` (numba, one pass:
    :mod:`kundresa.funnel._compiled`) or ``"auto"`` (compiled when numba is installed and the
    input has at least :data:`COMPILED_MIN_ROWS` rows). Every choice gives the same outcome.

    For a step-j event at time t, ``e_j(t)`` is the latest entry time from which a chain of
    steps 0..j can end at t: ``e_0(t) = t``, ``e_j(t) = max e_{j-1}`` over strictly earlier
    step-(j-1) events. The unit reaches step j when some step-j event has ``t - e_j(t) <=
    window``; the latest entry also gives the shortest time to convert. Each step's pass
    reads only the rows of steps j-1 and j (row order kept, so "earlier" is unchanged).
    """
    n = len(c.v) if isinstance(c, Packed) else len(c.t)
    if n == 0:
        z = np.zeros(0, np.int64)
        return Outcome(z, z, np.zeros((0, k), bool), np.zeros((0, k), np.int64), z, 0)
    if impl == "compiled" or (impl == "auto" and n >= COMPILED_MIN_ROWS and _compiled.available()):
        if isinstance(c, Packed):  # only entered units come back, compacted in numba
            units, entry, filled, ttc, at = _compiled.best_packed(
                c.offsets, c.v, c.bits, c.lut, k, window_us
            )
            return Outcome(units, entry, filled, ttc, at, 0)
        got = _compiled.best_pass(c.gid, c.t, c.mask, k, window_us)
        if got is not None:
            return Outcome(*got, 0)
        # times too wide to pack beside k mask bits: the NumPy passes below
    if impl not in ("auto", "numpy", "compiled"):
        raise ValueError(f"impl must be auto, numpy or compiled, not {impl!r}")
    c = as_coded(c)
    t0 = int(c.t.min())
    rel = c.t - t0 + 1  # 1.. ; 0 means "no entry"
    span = int(rel.max()) + 1
    newunit = np.empty(n, bool)
    newunit[0] = True
    np.not_equal(c.gid[1:], c.gid[:-1], out=newunit[1:])
    starts = np.flatnonzero(newunit)
    m = len(starts)
    # row -> unit index 0..m-1 (the codes themselves when already dense)
    seg = c.gid if c.gid[0] == 0 and c.gid[-1] == m - 1 else np.cumsum(newunit) - 1
    if m * span >= 2**62:  # pragma: no cover - ~146 years of microseconds per unit
        raise OverflowError("time span too long for the fast path")
    units = c.gid[starts]
    filled = np.zeros((m, k), bool)
    ttc = np.full((m, k), -1, np.int64)
    at = np.full((m, k), -1, np.int64)
    # step 0: first entry per unit (rows are time-ordered within a unit)
    rows = np.flatnonzero(c.mask & 1)
    s_rows = seg[rows]
    first = _run_starts(s_rows)
    filled[s_rows[first], 0] = True
    ttc[s_rows[first], 0] = 0
    at[s_rows[first], 0] = c.t[rows[first]]
    first_entry = at[:, 0]
    ent = np.zeros(n, np.int64)  # e_{j-1} at rows of step j-1 (0: none)
    ent[rows] = rel[rows]
    for j in range(1, k):
        sel = np.flatnonzero(c.mask & ((1 << (j - 1)) | (1 << j)))
        if len(sel) == 0:
            ent = np.zeros(n, np.int64)
            continue
        base = seg[sel] * span
        run = np.maximum.accumulate(base + ent[sel])
        prev = np.empty_like(run)
        prev[0] = 0
        prev[1:] = run[:-1]
        prev -= base  # <= 0: nothing earlier in this unit
        isj = (c.mask[sel] & (1 << j)) != 0
        hit = isj & (prev > 0)
        rows = sel[hit]
        e = prev[hit]
        ent = np.zeros(n, np.int64)
        ent[rows] = e
        d = rel[rows] - e
        ok = d <= window_us
        rows, d = rows[ok], d[ok]
        if len(rows) == 0:
            continue
        s_rows = seg[rows]
        first = _run_starts(s_rows)
        got = s_rows[first]
        filled[got, j] = True
        ttc[got, j] = np.minimum.reduceat(d, first)
        at[got, j] = c.t[rows[first]]
    keep = filled[:, 0]
    return Outcome(units[keep], first_entry[keep], filled[keep], ttc[keep], at[keep], 0)


def _run_starts(sorted_codes: I64) -> I64:
    """Positions where a run of equal values starts in a sorted array."""
    if len(sorted_codes) == 0:
        return np.zeros(0, np.int64)
    new = np.empty(len(sorted_codes), bool)
    new[0] = True
    np.not_equal(sorted_codes[1:], sorted_codes[:-1], out=new[1:])
    return np.flatnonzero(new)


class _Unit:
    """One unit's rows as Python lists, with prefix counts of each exclusion."""

    def __init__(self, c: Coded, a: int, b: int, spec: FunnelSpec) -> None:
        self.t: list[int] = c.t[a:b].tolist()
        self.mask: list[int] = c.mask[a:b].tolist()
        self.hold: list[int] | None = None if c.hold is None else c.hold[a:b].tolist()
        n = b - a
        self.n = n
        xm = c.xmask[a:b]
        self.xcum = [
            np.concatenate([[0], np.cumsum((xm >> i) & 1)]).tolist()
            for i in range(len(spec.exclusions))
        ]
        self.cand = [[i for i in range(n) if self.mask[i] >> s & 1] for s in range(spec.k)]

    def excluded_between(self, x: int, i: int, j: int) -> bool:
        lo, hi = (i, j) if i < j else (j, i)
        return bool(self.xcum[x][hi] - self.xcum[x][lo + 1] > 0)


def _ordered_from(
    u: _Unit, e0: int, spec: FunnelSpec, xs: tuple[int, ...]
) -> tuple[list[bool], list[int], list[int], list[int]]:
    """Reachability from entry row ``e0`` honouring exclusions ``xs`` (indices)."""
    k, w, tie = spec.k, spec.window_us, spec.tie_us
    t, hold = u.t, u.hold
    key = None if hold is None else hold[e0]
    filled, ttc, at, minpos = [False] * k, [-1] * k, [-1] * k, [-1] * k
    excl = [spec.exclusions[x] for x in xs]
    start_anchor = tuple(e0 if ex.after == 1 else -1 for ex in excl)
    seen = set()
    stack = [(0, e0, start_anchor)]
    while stack:
        s, i, anchors = stack.pop()
        if (s, i, anchors) in seen:
            continue
        seen.add((s, i, anchors))
        d = t[i] - t[e0]
        if not filled[s] or d < ttc[s]:
            ttc[s] = d
        if not filled[s] or t[i] < at[s]:
            at[s] = t[i]
        if not filled[s] or i < minpos[s]:
            minpos[s] = i
        filled[s] = True
        for ns in range(s + 1, k):
            within = spec.within_us[ns]
            adjacent = spec.strict_pairs[ns]
            for j in u.cand[ns]:
                if tie == 0:
                    if j <= i:
                        continue
                elif j == i or t[j] < t[i] - tie:
                    continue
                if adjacent and j != i + 1:
                    continue
                if t[j] - t[e0] > w or (within is not None and t[j] - t[i] > within):
                    continue
                if key is not None and hold is not None and hold[j] != key:
                    continue
                blocked = False
                for xi, ex in enumerate(excl):
                    if ex.before - 1 == ns and u.excluded_between(xs[xi], anchors[xi], j):
                        blocked = True
                        break
                if blocked:
                    continue
                nxt = tuple(
                    j if ex.after - 1 == ns else a for ex, a in zip(excl, anchors, strict=True)
                )
                stack.append((ns, j, nxt))
            if not spec.steps[ns].optional:
                break
    return filled, ttc, at, minpos


def _matchable(sets: list[list[int]], m: int) -> bool:
    """Can steps 0..m-1 each take a distinct row (rows listed per step)? (Kuhn's matching)"""
    owner: dict[int, int] = {}

    def augment(s: int, seen: set[int]) -> bool:
        for r in sets[s]:
            if r in seen:
                continue
            seen.add(r)
            if r not in owner or augment(owner[r], seen):
                owner[r] = s
                return True
        return False

    return all(augment(s, set()) for s in range(m))


def _unordered_from(
    u: _Unit, a: int, spec: FunnelSpec
) -> tuple[list[bool], list[int], list[int], list[int]]:
    """Steps matched (any order, distinct rows) in the window starting at row ``a``."""
    k, t, hold = spec.k, u.t, u.hold
    key = None if hold is None else hold[a]
    filled, ttc, at, minpos = [False] * k, [-1] * k, [-1] * k, [-1] * k
    sets: list[list[int]] = [[] for _ in range(k)]
    got = 0
    for j in range(a, u.n):
        if t[j] - t[a] > spec.window_us:
            break
        if not u.mask[j] or (key is not None and hold is not None and hold[j] != key):
            continue
        for s in range(k):
            if u.mask[j] >> s & 1:
                sets[s].append(j)
        while got < k and _matchable(sets, got + 1):
            filled[got], ttc[got], at[got], minpos[got] = True, t[j] - t[a], t[j], j
            got += 1
    return filled, ttc, at, minpos


def general(c: Coded, spec: FunnelSpec) -> Outcome:
    """Every semantics of :class:`FunnelSpec`, one unit at a time (see module doc)."""
    k = spec.k
    stop = tuple(i for i, x in enumerate(spec.exclusions) if x.mode == "stop")
    every = tuple(range(len(spec.exclusions)))
    has_drop = len(stop) < len(every)
    unordered = spec.order == "unordered"
    rows_u: list[int] = []
    rows_e: list[int] = []
    rows_f: list[list[bool]] = []
    rows_ttc: list[list[int]] = []
    rows_at: list[list[int]] = []
    excluded = 0
    any_mask = (1 << k) - 1

    for g, a, b in c.bounds():
        u = _Unit(c, a, b, spec)
        starts = [i for i in range(u.n) if u.mask[i] & any_mask] if unordered else list(u.cand[0])
        if u.hold is not None:
            starts = [i for i in starts if u.hold[i] != NONE]
        if not starts:
            continue

        def run(
            e: int, xs: tuple[int, ...], u: _Unit = u
        ) -> tuple[list[bool], list[int], list[int], list[int]]:
            if unordered:
                return _unordered_from(u, e, spec)
            return _ordered_from(u, e, spec, xs)

        def reach(f: list[bool]) -> int:
            return max((s for s in range(k) if f[s]), default=-1)

        if spec.entry == "totals":
            i = 0
            while i < len(starts):
                e = starts[i]
                f, d, at_, mp = run(e, every)
                dropped = has_drop and reach(f) < reach(run(e, stop)[0])
                if dropped:
                    excluded += 1
                elif f[0]:
                    rows_u.append(g)
                    rows_e.append(u.t[e])
                    rows_f.append(f)
                    rows_ttc.append(d)
                    rows_at.append(at_)
                if f[k - 1]:
                    end = max(mp[k - 1], e)
                else:
                    end = e
                    while end + 1 < u.n and u.t[end + 1] - u.t[e] <= spec.window_us:
                        end += 1
                while i < len(starts) and starts[i] <= end:
                    i += 1
            continue

        entries = starts if spec.entry == "best" else starts[:1]
        uf, ud, ua = [False] * k, [-1] * k, [-1] * k
        best_all = -1
        for e in entries:
            f, d, at_, _ = run(e, every)
            if has_drop:
                best_all = max(best_all, reach(run(e, stop)[0]))
            for s in range(k):
                if f[s]:
                    ud[s] = d[s] if not uf[s] else min(ud[s], d[s])
                    ua[s] = at_[s] if not uf[s] else min(ua[s], at_[s])
                    uf[s] = True
        if has_drop and reach(uf) < best_all:
            excluded += 1
            continue
        if not uf[0]:
            continue
        rows_u.append(g)
        rows_e.append(u.t[starts[0]])
        rows_f.append(uf)
        rows_ttc.append(ud)
        rows_at.append(ua)

    n = len(rows_u)
    return Outcome(
        np.asarray(rows_u, np.int64),
        np.asarray(rows_e, np.int64),
        np.asarray(rows_f, bool).reshape(n, k),
        np.asarray(rows_ttc, np.int64).reshape(n, k),
        np.asarray(rows_at, np.int64).reshape(n, k),
        excluded,
    )
