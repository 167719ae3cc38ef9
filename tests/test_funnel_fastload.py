"""Differential tests: the DuckDB fast load (``_fastload``, packed lists per unit, tie patch)
gives exactly the general loader's arrays-in-effect, hence identical kernel outcomes, and the
reference's counts, on tie-heavy logs (identical timestamps with different steps everywhere)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kundresa import Workspace
from kundresa.funnel import Step, _fastload, funnel
from kundresa.funnel._fastload import applies
from kundresa.funnel._kernel import Outcome, fast_best, general
from kundresa.funnel._load import Loaded, load
from kundresa.funnel._spec import FunnelSpec

from .funnel_reference import Ev, full_events, reference
from .test_funnel_property import TIMES, _table

STEP_SETS: list[list[Any]] = [
    ["A", "B", "C"],
    ["A", "B"],
    ["A", Step(("B", "C")), "C"],
    ["A", "B", "A"],
    ["B", "A"],
    ["A", Step(("B", "C"))],
    [Step(("A", "Z")), "B", "C"],
]


def _items(loaded: Loaded, out: Outcome) -> list[Any]:
    return sorted(
        (
            str(loaded.unit_ids[g]),
            int(e),
            tuple(bool(x) for x in f),
            tuple(int(x) for x in d),
            tuple(int(x) for x in a),
        )
        for g, e, f, d, a in zip(
            out.unit.tolist(),
            out.entry_t.tolist(),
            out.filled.tolist(),
            out.ttc.tolist(),
            out.at.tolist(),
            strict=True,
        )
    )


def _both(ws: Workspace, spec: FunnelSpec) -> tuple[list[Any], list[Any], Loaded, Loaded]:
    fast = load(ws, spec)
    slow = load(ws, spec, fast=False)
    kw = {"k": spec.k, "window_us": spec.window_us}
    return (
        _items(fast, fast_best(fast.coded, **kw)),
        _items(slow, general(slow.coded, spec)),
        fast,
        slow,
    )


def _ws(events: list[Ev]) -> Workspace:
    ws = Workspace.open(":memory:")
    ws.events()
    if events:
        ws.store.append("events", full_events(_table(events)))
    return ws


@st.composite
def logs(draw: Callable[..., Any]) -> list[Ev]:
    n = draw(st.integers(0, 14))
    ids = draw(st.permutations(range(n)))
    return [
        Ev(
            unit=draw(st.sampled_from(["u1", "u2", "u3"])),
            t=draw(st.sampled_from(TIMES[:4])),
            event_id=f"e{ids[i]:02d}",
            name=draw(st.sampled_from(["A", "B", "C", "Z"])),
            props={},
        )
        for i in range(n)
    ]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    events=logs(),
    steps=st.sampled_from(STEP_SETS),
    window=st.sampled_from(["1s", "1m", "7d"]),
)
def test_fast_load_equals_general_load(events: list[Ev], steps: list[Any], window: str) -> None:
    """Fast load + fast kernel == general load + general kernel (units, entry, filled,
    shortest times, first times) on tie-heavy logs; names present agree."""
    ws = _ws(events)
    spec = FunnelSpec.build(steps, window=window)
    assert applies(ws, spec, None)
    fast, slow, lf, ls = _both(ws, spec)
    assert fast == slow
    assert lf.names_present == ls.names_present
    assert [(u, e - _T0_US, f, d) for u, e, f, d, _ in fast] == reference(events, spec)[0]


_T0_US = int((dt.datetime(2026, 3, 2, 9, 0) - dt.datetime(1970, 1, 1)).total_seconds()) * 10**6


def test_fast_load_patches_ties_many_units() -> None:
    """Hundreds of units, most with same-timestamp events of different steps (the tie patch
    path), a few without: counts equal the reference; the fast path is really taken."""
    rng = np.random.default_rng(11)
    events = []
    for u in range(300):
        for i in range(int(rng.integers(1, 8))):
            events.append(
                Ev(
                    unit=f"p{u:03d}",
                    t=int(rng.choice(TIMES[:3] if u % 5 else [u * 10**6 + i])),
                    event_id=f"{int(rng.integers(0, 10**6)):06d}-{u}-{i}",
                    name=str(rng.choice(["A", "B", "C"])),
                    props={},
                )
            )
    ws = _ws(events)
    spec = FunnelSpec.build(["A", "B", "C"], window="1h")
    fast, slow, _, _ = _both(ws, spec)
    assert fast == slow
    items, _ = reference(events, spec)
    want = tuple(sum(1 for it in items if it[2][s]) for s in range(3))
    assert funnel(ws, ["A", "B", "C"], window="1h", next_events=0).counts == want


def test_fast_load_not_used_where_it_does_not_apply(
    make_workspace: Callable[..., Workspace],
) -> None:
    """Breakdowns, funnel tie order, other semantics and Spark keep the general loader."""
    ws = make_workspace()
    spec = FunnelSpec.build(["A", "B"])
    assert applies(ws, spec, None) == (ws.engine == "duckdb")
    assert not applies(ws, spec, "channel")
    assert not applies(ws, FunnelSpec.build(["A", "B"], tie_order="funnel"), None)
    assert not applies(ws, FunnelSpec.build(["A", "B"], entry="first"), None)


@pytest.mark.parametrize("steps", [["A", "B"], ["Nope", "B"]])
def test_fast_load_empty_and_missing(steps: list[str]) -> None:
    """No rows: empty outcome; names present only those seen."""
    ws = _ws([Ev("u1", 0, "e1", "B", {})])
    spec = FunnelSpec.build(steps)
    fast, slow, lf, ls = _both(ws, spec)
    assert fast == slow
    assert lf.names_present == ls.names_present == frozenset({"B"})


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    us=st.lists(st.integers(-(10**16), 10**16), max_size=30),
    period=st.sampled_from(["day", "week", "month"]),
)
def test_vectorised_trend_equals_per_entry_loop(us: list[int], period: str) -> None:
    """The vectorised trend (labels, entered, converted) equals the per-entry loop it
    replaced (``_period`` on each entry), including dates before 1970."""
    from collections import defaultdict

    from kundresa.funnel._analysis import _period, _trend

    conv = [i % 3 == 0 for i in range(len(us))]
    want: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e, c in zip(us, conv, strict=True):
        want[_period(e, period)][0] += 1
        want[_period(e, period)][1] += int(c)
    got = _trend(np.array(us, np.int64), np.array(conv, bool), period)
    assert got == [(p, n, c) for p, (n, c) in sorted(want.items())]


def test_dropoff_ids_fast_equal_general_and_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop-off ids through the fast load (sorted in Arrow) equal the general loader's
    (sorted in Python) and the reference's, for ids whose byte, case and digit order matter."""
    ids = ["b", "B", "ä", "z", "ε", "10", "9", "a b", "ÿ", "Ā"]
    rng = np.random.default_rng(2)
    events = [
        Ev(unit=u, t=int(rng.choice(TIMES[:5])), event_id=f"{u}-{i}", name=nm, props={})
        for u in ids
        for i, nm in enumerate(rng.choice(["A", "B", "C"], size=int(rng.integers(1, 5))))
    ]
    ws = _ws(events)
    steps = ["A", "B", "C"]
    fast = funnel(ws, steps, window="1h", next_events=0)
    monkeypatch.setattr(_fastload, "applies", lambda *a: False)
    general_ = funnel(ws, steps, window="1h", next_events=0)
    items, _ = reference(events, FunnelSpec.build(steps, window="1h"))
    for s in (2, 3):
        want = tuple(sorted(it[0] for it in items if it[2][s - 2] and not it[2][s - 1]))
        assert fast.drop_off_ids(s) == general_.drop_off_ids(s) == want
    assert any(fast.drop_off_ids(s) for s in (2, 3))
