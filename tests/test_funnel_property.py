"""Property tests: the kernels against the brute-force reference on random, tie-heavy logs,
for every parameter combination (hypothesis, fixed settings), plus both engines on one
tie-heavy log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from kundresa import Workspace
from kundresa._errors import InvalidOptionError
from kundresa.funnel import Exclusion, Step, funnel
from kundresa.funnel._kernel import fast_best, general
from kundresa.funnel._load import code
from kundresa.funnel._spec import FunnelSpec

from .funnel_reference import Ev, full_events, reference

T0 = dt.datetime(2026, 3, 2, 9, 0)
US = 1_000_000
T0_US = int((T0 - dt.datetime(1970, 1, 1)).total_seconds()) * US
#: few distinct times -> many ties; 1 s and 0.5 s apart to exercise the tie tolerance
TIMES = [0, US // 2, US, 2 * US, 30 * US, 60 * US, 61 * US, 3600 * US]

STEP_SETS: list[list[Any]] = [
    ["A", "B", "C"],
    ["A", "B"],
    ["A", Step("B", optional=True), "C"],
    ["A", Step(("B", "C")), "C"],
    ["A", "B", "A"],
    ["A", Step("B", within="1m"), "C"],
    ["A", Step("B", directly_followed=True), "C"],
]


def _table(events: list[Ev]) -> pa.Table:
    import json

    events = sorted(events, key=lambda e: (e.unit, e.t, e.event_id))
    return pa.table(
        {
            "event_id": [e.event_id for e in events],
            "person_id": [e.unit for e in events],
            "ts": pa.array(
                [T0 + dt.timedelta(microseconds=e.t) for e in events], pa.timestamp("us")
            ),
            "type": ["track"] * len(events),
            "event": [e.name for e in events],
            "properties": [json.dumps(e.props) for e in events],
        }
    )


def _kernel_items(events: list[Ev], spec: FunnelSpec, fast: bool = False) -> tuple[list[Any], int]:
    needs_props = bool(spec.hold_constant) or any(s.where for s in spec.steps)
    loaded = code(_table(events), spec, None, needs_props)
    out = (
        fast_best(loaded.coded, k=spec.k, window_us=spec.window_us)
        if fast
        else general(loaded.coded, spec)
    )
    items = [
        (
            str(loaded.unit_ids[g]),
            int(e) - T0_US,
            tuple(bool(x) for x in f),
            tuple(int(x) for x in d),
        )
        for g, e, f, d in zip(
            out.unit.tolist(),
            out.entry_t.tolist(),
            out.filled.tolist(),
            out.ttc.tolist(),
            strict=True,
        )
    ]
    return sorted(items), out.excluded


@st.composite
def logs(draw: Callable[..., Any]) -> list[Ev]:
    n = draw(st.integers(1, 8))
    ids = draw(st.permutations(range(n)))
    out = []
    for i in range(n):
        out.append(
            Ev(
                unit=draw(st.sampled_from(["u1", "u2"])),
                t=draw(st.sampled_from(TIMES)),
                event_id=f"e{ids[i]:02d}",
                name=draw(st.sampled_from(["A", "B", "C", "X", "Z"])),
                props={"sku": draw(st.sampled_from([1, 2, None]))},
            )
        )
    return out


@st.composite
def specs(draw: Callable[..., Any]) -> FunnelSpec:
    steps = draw(st.sampled_from(STEP_SETS))
    k = len(steps)
    excl = draw(
        st.sampled_from(
            [(), (Exclusion("X", 1, 2, "drop"),), (Exclusion("X", 1, 2, "stop"),)]
            + ([(Exclusion("X", 1, 3, "drop"),), (Exclusion("X", 2, 3, "stop"),)] if k > 2 else [])
        )
    )
    try:
        return FunnelSpec.build(
            steps,
            window=draw(st.sampled_from(["1s", "1m", "1h", "7d"])),
            order=draw(st.sampled_from(["ordered", "strict", "unordered"])),
            entry=draw(st.sampled_from(["best", "first", "totals"])),
            exclusions=excl,
            hold_constant=draw(st.sampled_from([(), ("sku",)])),
            tie=draw(st.sampled_from([None, "1s"])),
            tie_order=draw(st.sampled_from(["event_id", "funnel"])),
        )
    except InvalidOptionError:
        reject()


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(events=logs(), spec=specs())
def test_general_kernel_equals_reference(events: list[Ev], spec: FunnelSpec) -> None:
    """Every parameter combination: the general kernel gives the reference's items (units
    or attempts, entry time, filled steps, shortest time to each step) and exclusions."""
    assert _kernel_items(events, spec) == reference(events, spec)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    events=logs(),
    steps=st.sampled_from(
        [["A", "B", "C"], ["A", "B"], ["A", Step(("B", "C")), "C"], ["A", "B", "A"]]
    ),
    window=st.sampled_from(["1s", "1m", "1h"]),
)
def test_fast_kernel_equals_general_and_reference(
    events: list[Ev], steps: list[Any], window: str
) -> None:
    """The vectorised default path equals the general kernel and the reference."""
    spec = FunnelSpec.build(steps, window=window)
    assert spec.fast
    fast = _kernel_items(events, spec, fast=True)
    assert fast == _kernel_items(events, spec) == reference(events, spec)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(events=logs(), spec=specs())
def test_required_step_counts_are_monotone(events: list[Ev], spec: FunnelSpec) -> None:
    """Step k >= step k+1 over the required steps."""
    items, _ = _kernel_items(events, spec)
    req = [s for s in range(spec.k) if not spec.steps[s].optional]
    counts = [sum(1 for it in items if it[2][s]) for s in req]
    assert counts == sorted(counts, reverse=True)


def _tie_heavy_log(seed: int = 3, units: int = 30) -> list[Ev]:
    rng = np.random.default_rng(seed)
    out = []
    i = 0
    for u in range(units):
        for _ in range(int(rng.integers(2, 8))):
            out.append(
                Ev(
                    unit=f"p{u:02d}",
                    t=int(rng.choice(TIMES)),
                    event_id=f"x{int(rng.integers(0, 10**6)):06d}{i}",
                    name=str(rng.choice(["A", "B", "C", "X", "Z"])),
                    props={"sku": int(rng.integers(1, 3))},
                )
            )
            i += 1
    return out


ENGINE_CASES: list[dict[str, Any]] = [
    {},
    {"entry": "first", "window": "1m"},
    {"entry": "totals", "window": "1m"},
    {"order": "strict"},
    {"order": "unordered", "window": "1m"},
    {"tie": "1s", "window": "1h"},
    {"tie_order": "funnel", "window": "1s"},
    {"exclude": [Exclusion("X", 1, 2, "drop")]},
    {"exclude": [Exclusion("X", 2, 3, "stop")], "entry": "totals"},
    {"hold_constant": ["sku"]},
]


@pytest.fixture(scope="module")
def tie_ws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return {}


def test_engines_match_reference_on_tie_heavy_log(
    make_workspace: Callable[..., Workspace],
) -> None:
    """DuckDB and Spark (same test, `engine` fixture) give the reference's step counts on a
    tie-heavy log (identical timestamps everywhere) for a spread of semantics."""
    events = _tie_heavy_log()
    ws = make_workspace()
    ws.events()
    ws.store.append("events", full_events(_table(events)))
    # the kernels are shared; on Spark run the cases that load differently (all events for
    # strict order, properties for hold_constant, exclusion events) to keep the suite fast
    cases = ENGINE_CASES if ws.engine == "duckdb" else [ENGINE_CASES[i] for i in (0, 3, 8, 9)]
    for case in cases:
        spec_kw = {("exclusions" if k == "exclude" else k): v for k, v in case.items()}
        spec = FunnelSpec.build(["A", "B", "C"], **{"window": "7d", **spec_kw})
        items, excluded = reference(events, spec)
        want = tuple(sum(1 for it in items if it[2][s]) for s in range(3))
        got = funnel(ws, ["A", "B", "C"], next_events=0, **{"window": "7d", **case})
        assert (got.counts, got.excluded) == (want, excluded), case
