"""Kernels vs an independent pure-Python reference (hypothesis), and vs pm4py when installed.

The reference below never touches numpy: it sorts each person's events by (ts, row), splits
sessions at gaps, and counts with dicts and ``statistics.median``.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundresa.paths import _kernel as kn
from kundresa.paths._index import Sequences

GAP = 10

rows_st = st.lists(
    st.tuples(st.sampled_from("pqrs"), st.integers(0, 40), st.sampled_from("abcd")),
    min_size=0,
    max_size=60,
)
SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def reference_units(
    rows: list[tuple[str, int, str]], grain: str, collapse: bool
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
            if cur and grain == "session" and prev is not None and t - prev > GAP:
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
@given(rows=rows_st, grain=st.sampled_from(["session", "person"]), collapse=st.booleans())
def test_transition_graph_matches_reference(
    rows: list[tuple[str, int, str]], grain: str, collapse: bool
) -> None:
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, grain=grain, session_gap_us=GAP, collapse_repeats=collapse)
    ref_units = reference_units(rows, grain, collapse)
    assert kernel_graph(u) == reference_graph(ref_units)
    assert u.count == len([x for x in ref_units if x])
    g = kn.transition_graph(u)
    starts = Counter(x[0][2] for x in ref_units if x)
    assert {u.labels[i]: int(c) for i, c in enumerate(g.starts) if c} == dict(starts)


@SETTINGS
@given(rows=rows_st, grain=st.sampled_from(["session", "person"]))
def test_variants_match_reference(rows: list[tuple[str, int, str]], grain: str) -> None:
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, grain=grain, session_gap_us=GAP)
    groups = kn.group_slices(u, u.start, u.end - 1)
    got = {
        tuple(u.labels[c] for c in path): int(n)
        for path, n in zip(groups.paths, groups.units, strict=True)
    }
    ref_units = [x for x in reference_units(rows, grain, False) if x]
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


def test_pm4py_agrees_on_dfg_and_variants() -> None:
    """pm4py (AGPL; an outside oracle only, never a dependency) on the same log, no ties."""
    pm4py = pytest.importorskip("pm4py")
    import pandas as pd

    rows = []
    for p in range(40):
        n = 2 + (p * 7) % 9
        for k in range(n):
            rows.append((f"c{p:02d}", p * 1000 + k * (1 + p % 3), "abcde"[(p * k + k // 2) % 5]))
    seq = Sequences.from_rows(rows)
    u = kn.make_units(seq, grain="person")
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
