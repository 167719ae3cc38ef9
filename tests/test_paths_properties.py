"""Kernels vs an independent pure-Python reference (hypothesis), and vs pm4py when installed.

The reference below never touches numpy: it sorts each person's events by (ts, row), splits
sessions at gaps, and counts with dicts and ``statistics.median``.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kundresa.paths import _compiled
from kundresa.paths import _kernel as kn
from kundresa.paths._index import Sequences
from tests._oracles import require_oracle

GAP = 10
IMPLS = ["numpy", *(["compiled"] if _compiled.available() else [])]

rows_st = st.lists(
    st.tuples(st.sampled_from("pqrs"), st.integers(0, 40), st.sampled_from("abcd")),
    min_size=0,
    max_size=60,
)
SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def reference_units(
    rows: list[tuple[str, int, str]], unit: str, collapse: bool
) -> list[list[tuple[str, int, str]]]:
    by_person: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for i, (p, t, e) in enumerate(rows):
        by_person[p].append((t, i, e))
    units = []
    for p in sorted(by_person):
        evs = sorted(by_person[p])
        cur: list[tuple[str, int, str]] = []
        prev = None  # sessions split on the raw gap, before repeats are collapsed
        for t, _, e in evs:
            if cur and unit == "session" and prev is not None and t - prev > GAP:
                units.append(cur)
                cur = []
            prev = t
            if collapse and cur and cur[-1][2] == e:
                continue
            cur.append((p, t, e))
        units.append(cur)
    return units


def reference_graph(
    units: list[list[tuple[str, int, str]]],
) -> dict[tuple[str, str], tuple[int, int, float]]:
    times: dict[tuple[str, str], list[int]] = defaultdict(list)
    who: dict[tuple[str, str], set[str]] = defaultdict(set)
    for u in units:
        for (p, t0, a), (_, t1, b) in itertools.pairwise(u):
            times[(a, b)].append(t1 - t0)
            who[(a, b)].add(p)
    return {k: (len(v), len(who[k]), float(statistics.median(v))) for k, v in times.items()}


def kernel_graph(u: kn.Units) -> dict[tuple[str, str], tuple[int, int, float]]:
    g = kn.transition_graph(u)
    lab = u.labels
    return {
        (lab[a], lab[b]): (int(c), int(p), float(m))
        for a, b, c, p, m in zip(g.source, g.target, g.count, g.persons, g.median_us, strict=True)
    }


@SETTINGS
@given(rows=rows_st, unit=st.sampled_from(["session", "person"]), collapse=st.booleans())
def test_transition_graph_matches_reference(
    rows: list[tuple[str, int, str]], unit: str, collapse: bool
) -> None:
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, unit=unit, session_gap_us=GAP, collapse_repeats=collapse)
    ref_units = reference_units(rows, unit, collapse)
    assert kernel_graph(u) == reference_graph(ref_units)
    assert u.count == len([x for x in ref_units if x])
    g = kn.transition_graph(u)
    starts = Counter(x[0][2] for x in ref_units if x)
    assert {u.labels[i]: int(c) for i, c in enumerate(g.starts) if c} == dict(starts)


@SETTINGS
@given(rows=rows_st, unit=st.sampled_from(["session", "person"]))
def test_variants_match_reference(rows: list[tuple[str, int, str]], unit: str) -> None:
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, unit=unit, session_gap_us=GAP)
    groups = kn.group_slices(u, u.start, u.end - 1)
    got = {
        tuple(u.labels[c] for c in path): int(n)
        for path, n in zip(groups.paths, groups.units, strict=True)
    }
    ref_units = [x for x in reference_units(rows, unit, False) if x]
    ref = Counter(tuple(e for _, _, e in x) for x in ref_units)
    assert got == dict(ref)
    durations: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for x in ref_units:
        durations[tuple(e for _, _, e in x)].append(x[-1][1] - x[0][1])
    got_med = {
        tuple(u.labels[c] for c in path): float(m)
        for path, m in zip(groups.paths, groups.median_us, strict=True)
    }
    assert got_med == {k: float(statistics.median(v)) for k, v in durations.items()}


@SETTINGS
@given(
    rows=rows_st,
    unit=st.sampled_from(["session", "person"]),
    top=st.integers(1, 4),
    by_persons=st.booleans(),
)
def test_variant_ranking_and_persons_match_reference(
    rows: list[tuple[str, int, str]], unit: str, top: int, by_persons: bool
) -> None:
    """Top-``top`` variants: paths, persons and order (by paths or persons, then the other,
    then first appearance), as a pure-Python ranking of every variant would give."""
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, unit=unit, session_gap_us=GAP)
    groups = kn.group_slices(u, u.start, u.end - 1, top=top, by_persons=by_persons)
    ref_units = [x for x in reference_units(rows, unit, False) if x]
    count: Counter[tuple[str, ...]] = Counter()
    who: dict[tuple[str, ...], set[str]] = defaultdict(set)
    first: dict[tuple[str, ...], int] = {}
    for i, x in enumerate(ref_units):
        key = tuple(e for _, _, e in x)
        count[key] += 1
        who[key].add(x[0][0])
        first.setdefault(key, i)

    def order(k: tuple[str, ...]) -> tuple[int, int, int]:
        a, b = len(who[k]), count[k]
        return (-a, -b, first[k]) if by_persons else (-b, -a, first[k])

    expected = [(k, count[k], len(who[k])) for k in sorted(count, key=order)[:top]]
    got = [
        (tuple(u.labels[c] for c in path), int(n), int(p))
        for path, n, p in zip(groups.paths, groups.units, groups.persons, strict=True)
    ]
    assert got == expected
    assert groups.distinct == len(count)
    assert groups.total_persons == len({x[0][0] for x in ref_units})


def test_long_paths_use_the_hash_and_still_group_exactly() -> None:
    """Paths too long for the exact base-(labels+1) key (4 labels: > 26 events) go through the
    64-bit hashes: equal paths merge, paths differing in one event or in length do not."""
    base = [("abcd"[(k * k + 1) % 4]) for k in range(40)]
    changed = [*base[:20], "a" if base[20] != "a" else "b", *base[21:]]
    rows = []
    for p, path in enumerate([base, base, changed, base[:-1], base]):
        rows += [(f"p{p}", k, e) for k, e in enumerate(path)]
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, unit="person")
    groups = kn.group_slices(u, u.start, u.end - 1)
    got = sorted((len(path), int(n)) for path, n in zip(groups.paths, groups.units, strict=True))
    assert got == [(39, 1), (40, 1), (40, 3)]
    assert groups.distinct == 3


def test_pm4py_agrees_on_dfg_and_variants() -> None:
    """pm4py (AGPL; an outside oracle only, never a dependency) on the same log, no ties."""
    pm4py = require_oracle("pm4py")
    import pandas as pd

    rows = []
    for p in range(40):
        n = 2 + (p * 7) % 9
        for k in range(n):
            rows.append((f"c{p:02d}", p * 1000 + k * (1 + p % 3), "abcde"[(p * k + k // 2) % 5]))
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, unit="person")
    df = pd.DataFrame(rows, columns=["case:concept:name", "ts", "concept:name"])
    df["time:timestamp"] = pd.to_datetime(df["ts"], unit="s", utc=True)
    dfg, start, end = pm4py.discover_dfg(df)
    assert kernel_graph_counts(u) == {k: int(v) for k, v in dfg.items()}
    g = kn.transition_graph(u)
    assert {u.labels[i]: int(c) for i, c in enumerate(g.starts) if c} == dict(start)
    assert {u.labels[i]: int(c) for i, c in enumerate(g.ends) if c} == dict(end)
    pm_vars = {tuple(k): int(v) for k, v in pm4py.get_variants(df).items()}
    groups = kn.group_slices(u, u.start, u.end - 1)
    ours = {
        tuple(u.labels[c] for c in path): int(n)
        for path, n in zip(groups.paths, groups.units, strict=True)
    }
    assert ours == pm_vars


def kernel_graph_counts(u: kn.Units) -> dict[tuple[str, str], int]:
    return {k: v[0] for k, v in kernel_graph(u).items()}


def reference_flows(
    units: list[list[tuple[str, int, str]]],
    start: str | None,
    end: str | None,
    steps: int,
    top: int,
) -> tuple[dict[tuple[int, str], tuple[int, int]], dict[tuple[int, str, str], tuple[int, int]]]:
    """Sankey nodes/links ``(count, persons)`` by brute force (positions per unit, dicts)."""
    cols: list[dict[int, str]] = []
    who: list[str] = []
    for x in units:
        ev = [e for _, _, e in x]
        if start is None and end is None:
            pos = {k: ev[k] for k in range(min(steps, len(ev)))}
        elif end is None:
            if start not in ev:
                continue
            i = ev.index(start)
            pos = {k: ev[i + k] for k in range(steps) if i + k < len(ev)}
        elif start is None:
            if end not in ev:
                continue
            j = ev.index(end)
            pos = {steps - 1 - d: ev[j - d] for d in range(steps) if j - d >= 0}
        else:
            if start not in ev:
                continue
            i = ev.index(start)
            if end not in ev[i + 1 :]:
                continue
            j = ev.index(end, i + 1)
            pos = {k: ev[i + k] for k in range(steps) if i + k <= j}
        cols.append(pos)
        who.append(x[0][0])
    for k in range(steps):
        c = Counter(p[k] for p in cols if k in p)
        keep = set(sorted(c, key=lambda e: (-c[e], e))[:top])
        for p in cols:
            if k in p and p[k] not in keep:
                p[k] = "other"
    nodes: dict[tuple[int, str], list[Any]] = defaultdict(lambda: [0, set()])
    links: dict[tuple[int, str, str], list[Any]] = defaultdict(lambda: [0, set()])
    for p, person in zip(cols, who, strict=True):
        for k, e in p.items():
            nodes[(k, e)][0] += 1
            nodes[(k, e)][1].add(person)
            if k + 1 in p:
                links[(k, e, p[k + 1])][0] += 1
                links[(k, e, p[k + 1])][1].add(person)
    return (
        {key: (n, len(s)) for key, (n, s) in nodes.items()},
        {key: (n, len(s)) for key, (n, s) in links.items()},
    )


@SETTINGS
@given(
    rows=rows_st,
    unit=st.sampled_from(["session", "person"]),
    collapse=st.booleans(),
    ends=st.sampled_from([(None, None), ("a", None), (None, "b"), ("a", "b"), ("c", "c")]),
    steps=st.integers(1, 5),
    top=st.integers(1, 4),
)
@example(  # one person, two sessions with the same links: persons are counted once
    rows=[("p", 0, "a"), ("p", 1, "b"), ("p", 30, "a"), ("p", 31, "b"), ("q", 0, "a")],
    unit="session",
    collapse=False,
    ends=(None, None),
    steps=2,
    top=4,
)
def test_flow_counts_match_reference(
    rows: list[tuple[str, int, str]],
    unit: str,
    collapse: bool,
    ends: tuple[str | None, str | None],
    steps: int,
    top: int,
) -> None:
    """Sankey node and link counts and unique persons, every mode, with top-K + other."""
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, unit=unit, session_gap_us=GAP, collapse_repeats=collapse)
    start, end = ends
    s = None if start is None else seq.code(start)
    e = None if end is None else seq.code(end)
    ref_units = [x for x in reference_units(rows, unit, collapse) if x]
    ref_nodes, ref_links = reference_flows(ref_units, start, end, steps, top)
    if (s is not None and s < 0) or (e is not None and e < 0):
        assert not ref_nodes
        return
    for impl in IMPLS:  # the compiled (numba) kernels and the NumPy path, each vs the reference
        with pytest.MonkeyPatch.context() as mp:
            if impl == "numpy":
                mp.setenv("KUNDRESA_NO_NUMBA", "1")
            fc = kn.flow_counts(u, start=s, end=e, steps=steps, top=top)
        names = [*u.labels, "other"]
        nodes = {
            (k, names[c]): (int(fc.nodes[k, c]), int(fc.node_persons[k, c]))
            for k in range(steps)
            for c in range(len(names))
            if fc.nodes[k, c]
        }
        links = {
            (k, names[a], names[b]): (int(fc.links[k, a, b]), int(fc.link_persons[k, a, b]))
            for k in range(steps - 1)
            for a in range(len(names))
            for b in range(len(names))
            if fc.links[k, a, b]
        }
        assert nodes == ref_nodes, impl
        assert links == ref_links, impl


@pytest.mark.parametrize("threads", [1, 4])
def test_compiled_flow_counts_equal_numpy_on_a_large_log(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled Sankey kernels give the NumPy path's arrays exactly on 200k events (many
    persons with several sessions each, every mode, a top-K cut and none), not only on tiny
    logs; in one thread and split between persons over 4 threads."""
    import numpy as np

    if not _compiled.available():
        pytest.skip("numba not installed")
    monkeypatch.setattr(_compiled, "PARALLEL_MIN_PATHS", 10**9 if threads == 1 else 1000)
    monkeypatch.setattr("kundresa._jit._cores", lambda: threads)
    rng = np.random.default_rng(11)
    n, persons = 200_000, 5_000
    person = np.sort(rng.integers(0, persons, n))
    ts = rng.integers(0, 10_000, n)
    order = np.lexsort((ts, person))
    seq = Sequences(
        label=rng.choice(6, n, p=[0.4, 0.2, 0.15, 0.1, 0.1, 0.05]).astype(np.int64),
        ts=ts[order],
        person=person[order].astype(np.int64),
        labels=tuple("abcdef"),
        persons=tuple(f"p{i}" for i in range(persons)),
    )
    u = kn.make_units(seq, unit="session", session_gap_us=400)
    for (start, end), top in itertools.product(
        [(None, None), (1, None), (None, 4), (1, 4)], [3, 9]
    ):
        fast = kn.flow_counts(u, start=start, end=end, steps=5, top=top)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("KUNDRESA_NO_NUMBA", "1")
            slow = kn.flow_counts(u, start=start, end=end, steps=5, top=top)
        assert fast.paths == slow.paths > 1000
        assert fast.persons == slow.persons
        for name in ("nodes", "node_persons", "links", "link_persons"):
            assert np.array_equal(getattr(fast, name), getattr(slow, name)), (start, end, name)


def test_median_helpers_on_many_groups() -> None:
    """Both median strategies (a partition per group, and one lexsort for many groups) give
    ``statistics.median`` of every group, including groups of one and even sizes."""
    import numpy as np

    rng = np.random.default_rng(5)
    for groups in (3, 300, 5000):
        group = rng.integers(0, groups, 20_000)
        group[:groups] = np.arange(groups)  # every group non-empty
        values = rng.integers(0, 50, group.size)
        expected = [statistics.median(values[group == g].tolist()) for g in range(groups)]
        assert kn._group_medians(group, values, groups).tolist() == expected
        order = np.argsort(group, kind="stable")
        size = np.bincount(group, minlength=groups)
        bend = np.cumsum(size)
        got = kn._block_medians(values[order], bend - size, bend)
        assert got.tolist() == expected


def test_persons_by_bits_packs_and_splits_words() -> None:
    """Distinct persons per code through the bit words: narrow arrays packed into one word,
    one wider than 64 codes split over words, codes of -1 counted nowhere; checked against
    sets of persons."""
    import numpy as np

    rng = np.random.default_rng(3)
    person = np.sort(rng.integers(0, 400, 5000))
    pstart = np.flatnonzero(np.concatenate([[True], person[1:] != person[:-1]]))
    sizes = [5, 150, 64, 3, 40]
    keys, codes = [], []
    for size in sizes:
        key = rng.integers(0, size + 2, person.size)
        code = np.arange(size + 2) - 1  # key 0 -> no code, key 1.. -> code 0..
        code[code >= size] = -1
        keys.append(key)
        codes.append(code)
    got = kn._persons_by_bits(keys, codes, sizes, pstart)
    for key, code, size, out in zip(keys, codes, sizes, got, strict=True):
        expected = [len(set(person[code[key] == c].tolist())) for c in range(size)]
        assert out.tolist() == expected
