"""Differential tests for the optional compiled (numba) funnel path (``funnel/_compiled.py``):
the compiled kernel == the NumPy kernel == the brute-force reference, and the compiled decode
of the DuckDB fast load == the NumPy decode (tie patch included), on tie-heavy random logs.
numba is in the ``[dev]`` extra, so these run in CI; without numba they skip."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from kundresa import Workspace
from kundresa.funnel import _compiled, _fastload, funnel
from kundresa.funnel import _kernel as kernel_mod
from kundresa.funnel._kernel import Coded, Outcome, fast_best
from kundresa.funnel._load import code
from kundresa.funnel.spec import FunnelSpec

from .funnel_reference import Ev, full_events, reference
from .test_funnel_fastload import STEP_SETS, _ws, logs
from .test_funnel_property import T0_US, TIMES, _table
from .test_funnel_property import logs as prop_logs

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="numba not installed")

FIELDS = ("unit", "entry_t", "filled", "ttc", "at")


def _same(a: Outcome, b: Outcome) -> None:
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.shape == y.shape, f
        assert np.array_equal(x, y), f
    assert a.excluded == b.excluded


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    events=st.one_of(logs(), prop_logs()),
    steps=st.sampled_from(STEP_SETS),
    window=st.sampled_from(["1s", "1m", "1h", "7d"]),
)
@example(  # vendor vector: B exactly ``window`` after A converts (inclusive)
    events=[Ev("u1", 0, "e1", "A", {}), Ev("u1", 60 * 10**6, "e2", "B", {})],
    steps=["A", "B"],
    window="1m",
)
def test_compiled_kernel_equals_numpy_and_reference(
    events: list[Ev], steps: list[Any], window: str
) -> None:
    """Every field of the outcome (units, entry, filled, shortest and first times) is
    identical for ``impl="compiled"`` and ``impl="numpy"``, and the counts and shortest
    times equal the reference's, on logs full of equal timestamps and multi-step events."""
    assume(events)  # an empty log has nothing to code (covered by the fast-load tests)
    spec = FunnelSpec.build(steps, window=window)
    loaded = code(_table(events), spec, None, False)
    kw = {"k": spec.k, "window_us": spec.window_us}
    comp = fast_best(loaded.coded, impl="compiled", **kw)
    _same(comp, fast_best(loaded.coded, impl="numpy", **kw))
    got = sorted(
        (str(loaded.unit_ids[g]), int(e) - T0_US, tuple(f), tuple(d))
        for g, e, f, d in zip(
            comp.unit.tolist(),
            comp.entry_t.tolist(),
            comp.filled.tolist(),
            comp.ttc.tolist(),
            strict=True,
        )
    )
    assert got == reference(events, spec)[0]


def _ws_unsorted(events: list[Ev], seed: int | None = None) -> Workspace:
    """A workspace whose rows are stored in reverse (or shuffled) order: DuckDB's ``list()``
    then returns unsorted lists, so the compiled decode's own sort is exercised."""
    ws = Workspace.open(":memory:")
    ws.events()
    if events:
        tbl = full_events(_table(events))
        n = tbl.num_rows
        order = np.arange(n)[::-1] if seed is None else np.random.default_rng(seed).permutation(n)
        ws.store.append("events", tbl.take(order))
    return ws


def _canonical(loaded: tuple[Coded, list[Any], frozenset[str], Any]) -> tuple[Any, ...]:
    """Rows as (unit id, t, mask), units in id order, rows in kernel order within a unit:
    DuckDB's GROUP BY returns units in any order, the order inside a unit must match."""
    c, ids, present, arrow = loaded
    assert arrow.to_pylist() == ids
    uid = np.asarray([str(x) for x in ids], dtype=object)[c.gid] if len(c.gid) else []
    order = sorted(range(len(c.gid)), key=lambda i: uid[i])  # stable: keeps in-unit order
    return (
        [(uid[i], int(c.t[i]), int(c.mask[i])) for i in order],
        present,
        sorted(map(str, ids)),
    )


@settings(max_examples=150, deadline=None, derandomize=True)
@given(events=logs(), steps=st.sampled_from(STEP_SETS))
def test_compiled_decode_equals_numpy_decode(events: list[Ev], steps: list[Any]) -> None:
    """The fast load decoded in numba (its own sort and the tie patch included) gives the NumPy
    decode's rows (rows stored in reverse order, so the lists arrive unsorted)."""
    ws = _ws_unsorted(events)
    spec = FunnelSpec.build(steps, window="1m")
    a = _fastload.load_fast(ws, spec, "person_id", compiled=True)
    b = _fastload.load_fast(ws, spec, "person_id", compiled=False)
    assert _canonical(a) == _canonical(b)


def test_auto_takes_the_compiled_path_and_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the row threshold at 0, ``funnel()`` really runs the compiled decode and kernel
    (spied), and its counts equal the reference's on a tie-heavy log of 300 units."""
    rng = np.random.default_rng(5)
    events = [
        Ev(
            unit=f"p{u:03d}",
            t=int(rng.choice(TIMES[:4])),
            event_id=f"{u:03d}-{i}",
            name=str(rng.choice(["A", "B", "C", "Z"])),
            props={},
        )
        for u in range(300)
        for i in range(int(rng.integers(1, 7)))
    ]
    ws = _ws(events)
    calls: list[str] = []
    real_decode, real_pass = _compiled.decode, _compiled.best_pass

    def spy_decode(*a: Any, **kw: Any) -> Any:
        calls.append("decode")
        return real_decode(*a, **kw)

    def spy_pass(*a: Any) -> Any:
        calls.append("kernel")
        return real_pass(*a)

    monkeypatch.setattr(_compiled, "decode", spy_decode)
    monkeypatch.setattr(_compiled, "best_pass", spy_pass)
    monkeypatch.setattr(_fastload, "COMPILED_MIN_ROWS", 0)
    monkeypatch.setattr(kernel_mod, "COMPILED_MIN_ROWS", 0)
    spec = FunnelSpec.build(["A", "B", "C"], window="1h")
    items, _ = reference(events, spec)
    want = tuple(sum(1 for it in items if it[2][s]) for s in range(3))
    assert funnel(ws, ["A", "B", "C"], window="1h", next_events=0).counts == want
    assert "decode" in calls
    assert "kernel" in calls


def test_switched_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``KUNDRESA_NO_NUMBA=1`` makes ``available()`` false and ``auto`` use NumPy."""
    monkeypatch.setenv("KUNDRESA_NO_NUMBA", "1")
    assert not _compiled.available()
    with pytest.raises(RuntimeError, match="numba"):
        _compiled.best_pass(np.zeros(1), np.zeros(1), np.ones(1), 1, 0)
    c = Coded(np.array([0]), np.array([0]), np.array([1]), np.array([0]), None, 1)
    assert fast_best(c, k=1, window_us=0, impl="auto").filled.tolist() == [[True]]
    with pytest.raises(ValueError, match="impl"):
        fast_best(c, k=1, window_us=0, impl="fortran")


@pytest.mark.parametrize("ties", [True, False])
def test_compiled_decode_sorts_long_units(ties: bool) -> None:
    """Units with more than 32 rows (the compiled decode's np.sort branch, not the insertion
    sort), stored shuffled, decode like NumPy's and count like the reference: with tie-heavy
    times (tie patch) and with distinct times (no patch: the sort alone orders the rows)."""
    rng = np.random.default_rng(3)
    events = [
        Ev(
            unit=f"u{u}",
            t=int(rng.choice(TIMES)) if ties else i * 7 * 10**6,
            event_id=f"{u}-{i:03d}",
            name=str(rng.choice(["A", "B", "C", "Z"])),
            props={},
        )
        for u, n in enumerate([1, 31, 32, 33, 120])
        for i in range(n)
    ]
    ws = _ws_unsorted(events, seed=4)
    spec = FunnelSpec.build(["A", "B", "C"], window="1m")
    a = _fastload.load_fast(ws, spec, "person_id", compiled=True)
    assert _canonical(a) == _canonical(_fastload.load_fast(ws, spec, "person_id", compiled=False))
    items, _ = reference(events, spec)
    out = fast_best(a[0], k=3, window_us=spec.window_us, impl="compiled")
    assert tuple(out.filled.sum(axis=0).tolist()) == tuple(
        sum(1 for it in items if it[2][s]) for s in range(3)
    )
