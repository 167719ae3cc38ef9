"""An obviously-correct funnel: enumerate every candidate chain, keep the valid ones.

Written from the definitions in docs/funnel.md only (never from the kernels): brute force
over all tuples of distinct events, so it is slow and only for small logs (<= ~9 events per
unit). Returns, per counted item, (unit, entry time, filled steps, shortest times).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from kundresa.funnel._spec import FunnelSpec


@dataclass(frozen=True)
class Ev:
    unit: str
    t: int  # microseconds
    event_id: str
    name: str
    props: dict[str, Any]


Item = tuple[str, int, tuple[bool, ...], tuple[int, ...]]


def _ordered_events(evs: list[Ev], spec: FunnelSpec) -> list[Ev]:
    def step_rank(e: Ev) -> int:
        for s, st in enumerate(spec.steps):
            if e.name in st.names:
                return s
        return spec.k

    if spec.tie_order == "funnel":
        return sorted(evs, key=lambda e: (e.t, step_rank(e), e.event_id))
    return sorted(evs, key=lambda e: (e.t, e.event_id))


def _hold(e: Ev, spec: FunnelSpec) -> Any:
    vals = tuple(e.props.get(h) for h in spec.hold_constant)
    return None if any(v is None for v in vals) else vals


def _matches(e: Ev, spec: FunnelSpec, s: int) -> bool:
    st = spec.steps[s]
    if e.name not in st.names:
        return False
    return all(e.props.get(key) == want for key, want in st.where.items())


def _chain_ok(
    seq: list[Ev], chain: list[tuple[int, int]], spec: FunnelSpec, use: list[int]
) -> bool:
    """chain: (step, position) pairs in step order."""
    p0 = chain[0][1]
    t0 = seq[p0].t
    if spec.hold_constant:
        keys = {_hold(seq[p], spec) for _, p in chain}
        if None in keys or len(keys) != 1:
            return False
    for (_, pa), (sb, pb) in itertools.pairwise(chain):
        a, b = seq[pa], seq[pb]
        if spec.tie_us == 0:
            if pb <= pa:
                return False
        elif b.t < a.t - spec.tie_us:
            return False
        if spec.strict_pairs[sb] and pb != pa + 1:
            return False
        w = spec.within_us[sb]
        if w is not None and b.t - a.t > w:
            return False
    if any(seq[p].t - t0 > spec.window_us for _, p in chain):
        return False
    pos_of = dict(chain)
    for xi in use:
        x = spec.exclusions[xi]
        if x.before - 1 in pos_of:
            lo, hi = sorted((pos_of[x.after - 1], pos_of[x.before - 1]))
            if any(seq[q].name == x.event for q in range(lo + 1, hi)):
                return False
    return True


def _ordered_attempt(
    seq: list[Ev], e0: int, spec: FunnelSpec, use: list[int]
) -> tuple[list[bool], list[int], list[int]]:
    k = spec.k
    filled, ttc, minpos = [False] * k, [-1] * k, [-1] * k
    optional = [s for s in range(1, k - 1) if spec.steps[s].optional]
    n = len(seq)
    for last in range(k):
        for skip_n in range(len(optional) + 1):
            for skip in itertools.combinations([s for s in optional if s < last], skip_n):
                steps = [s for s in range(last + 1) if s not in skip]
                others = [p for p in range(n) if p != e0]
                for pick in itertools.permutations(others, len(steps) - 1):
                    chain = list(zip(steps, (e0, *pick), strict=True))
                    if not all(_matches(seq[p], spec, s) for s, p in chain):
                        continue
                    if not _chain_ok(seq, chain, spec, use):
                        continue
                    for s, p in chain:
                        d = seq[p].t - seq[e0].t
                        ttc[s] = d if not filled[s] else min(ttc[s], d)
                        minpos[s] = p if not filled[s] else min(minpos[s], p)
                        filled[s] = True
    return filled, ttc, minpos


def _unordered_attempt(
    seq: list[Ev], a: int, spec: FunnelSpec
) -> tuple[list[bool], list[int], list[int]]:
    k = spec.k
    filled, ttc, minpos = [False] * k, [-1] * k, [-1] * k
    key = _hold(seq[a], spec) if spec.hold_constant else None
    window = [
        p
        for p in range(a, len(seq))
        if seq[p].t - seq[a].t <= spec.window_us
        and (not spec.hold_constant or _hold(seq[p], spec) == key)
    ]
    for m in range(1, k + 1):
        for pick in itertools.permutations(window, m):
            if all(_matches(seq[p], spec, s) for s, p in enumerate(pick)):
                done = max(pick)
                d = seq[done].t - seq[a].t
                s = m - 1
                ttc[s] = d if not filled[s] else min(ttc[s], d)
                minpos[s] = done if not filled[s] else min(minpos[s], done)
                filled[s] = True
    return filled, ttc, minpos


def reference(events: list[Ev], spec: FunnelSpec) -> tuple[list[Item], int]:
    """(items sorted by unit and entry, units excluded by drop exclusions)."""
    k = spec.k
    every = list(range(len(spec.exclusions)))
    stop = [i for i in every if spec.exclusions[i].mode == "stop"]
    items: list[Item] = []
    excluded = 0
    units = sorted({e.unit for e in events})
    for unit in units:
        seq = _ordered_events([e for e in events if e.unit == unit], spec)
        if spec.order == "unordered":
            starts = [p for p, e in enumerate(seq) if any(_matches(e, spec, s) for s in range(k))]
        else:
            starts = [p for p, e in enumerate(seq) if _matches(e, spec, 0)]
        if spec.hold_constant:
            starts = [p for p in starts if _hold(seq[p], spec) is not None]
        if not starts:
            continue

        def attempt(p: int, use: list[int], seq: list[Ev] = seq) -> Any:
            if spec.order == "unordered":
                return _unordered_attempt(seq, p, spec)
            return _ordered_attempt(seq, p, spec, use)

        def reach(f: list[bool]) -> int:
            return max([s for s in range(k) if f[s]], default=-1)

        if spec.entry == "totals":
            p = starts[0]
            while True:
                f, d, mp = attempt(p, every)
                if len(stop) < len(every) and reach(f) < reach(attempt(p, stop)[0]):
                    excluded += 1
                elif f[0]:
                    items.append((unit, seq[p].t, tuple(f), tuple(d)))
                if f[k - 1]:
                    end = max(mp[k - 1], p)
                else:
                    end = max(
                        q for q in range(p, len(seq)) if seq[q].t - seq[p].t <= spec.window_us
                    )
                later = [q for q in starts if q > end]
                if not later:
                    break
                p = later[0]
            continue
        entries = starts if spec.entry == "best" else starts[:1]
        uf, ud = [False] * k, [-1] * k
        r_all = -1
        for p in entries:
            f, d, _ = attempt(p, every)
            if len(stop) < len(every):
                r_all = max(r_all, reach(attempt(p, stop)[0]))
            for s in range(k):
                if f[s]:
                    ud[s] = d[s] if not uf[s] else min(ud[s], d[s])
                    uf[s] = True
        if len(stop) < len(every) and reach(uf) < r_all:
            excluded += 1
            continue
        if uf[0]:
            items.append((unit, seq[starts[0]].t, tuple(uf), tuple(ud)))
    return sorted(items), excluded


def full_events(table: Any) -> Any:
    """Pad an Arrow table of some event columns to the full events schema (nulls)."""
    import pyarrow as pa

    from kundresa.schema import EVENTS

    cols = {}
    for f in EVENTS:
        if f.name in table.column_names:
            cols[f.name] = table.column(f.name).cast(f.type)
        else:
            cols[f.name] = pa.nulls(table.num_rows, f.type)
    return pa.table(cols, schema=EVENTS)
