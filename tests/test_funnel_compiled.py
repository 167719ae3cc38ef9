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
from kundresa._stitch import CLUSTER_ORDER
from kundresa.funnel import _compiled, _fastload, funnel
from kundresa.funnel import _kernel as kernel_mod
from kundresa.funnel._kernel import Coded, Outcome, Packed, as_coded, fast_best
from kundresa.funnel._load import code
from kundresa.funnel._spec import FunnelSpec

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


def _canonical(loaded: tuple[Any, Any, frozenset[str], Any]) -> tuple[Any, ...]:
    """Rows as (unit id, t, mask), units in id order, rows in kernel order within a unit:
    DuckDB's GROUP BY returns units in any order, the order inside a unit must match."""
    packed_or_coded, ids, present, arrow = loaded
    c = as_coded(packed_or_coded)
    if arrow is None:  # the clustered stream: ids fetched lazily
        assert isinstance(ids, _fastload.LazyUnitIds)
        arrow = ids.arrow()
        ids = list(ids)
    assert arrow.to_pylist() == list(ids)
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
    a = _fastload.load_fast(ws, spec, "person_id", compiled=True, stream=False)
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
    a = _fastload.load_fast(ws, spec, "person_id", compiled=True, stream=False)
    assert _canonical(a) == _canonical(_fastload.load_fast(ws, spec, "person_id", compiled=False))
    items, _ = reference(events, spec)
    out = fast_best(a[0], k=3, window_us=spec.window_us, impl="compiled")
    assert tuple(out.filled.sum(axis=0).tolist()) == tuple(
        sum(1 for it in items if it[2][s]) for s in range(3)
    )


def _ws_clustered(events: list[Ev], event_id_order: bool = True) -> Workspace:
    """A workspace whose events are stored as stitching stores them (``CLUSTER_ORDER``), or,
    with ``event_id_order=False``, clustered by (hash, person, ts) with equal timestamps in
    *reverse* event-id order (the stream must then re-read those ties exactly)."""
    ws = Workspace.open(":memory:")
    ws.events()
    if events:
        tbl = full_events(_table(events))
        order = CLUSTER_ORDER if event_id_order else "hash(person_id), person_id, ts, event_id DESC"
        ws.store.replace_sorted("events", tbl, order)
    return ws


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    events=logs(),
    steps=st.sampled_from(STEP_SETS),
    exact=st.booleans(),
    window=st.sampled_from(["1s", "1m", "1h", "7d"]),
)
@example(  # vendor vector: B exactly ``window`` after A converts (inclusive)
    events=[Ev("u1", 0, "e1", "A", {}), Ev("u1", 60 * 10**6, "e2", "B", {})],
    steps=["A", "B"],
    exact=True,
    window="1m",
)
def test_clustered_stream_equals_grouped_load(
    events: list[Ev], steps: list[Any], exact: bool, window: str
) -> None:
    """On events stored clustered, the stream (no GROUP BY, order verified, ties re-read by
    event id, ids fetched lazily) gives the grouped load's rows, names and ids exactly, and
    the stream is really taken (no Arrow ids); on tie-heavy logs with ties stored in reverse
    event-id order too."""
    ws = _ws_clustered(events, event_id_order=exact)
    spec = FunnelSpec.build(steps, window=window)
    a = _fastload.load_fast(ws, spec, "person_id", compiled=True, stream=True)
    b = _fastload.load_fast(ws, spec, "person_id", compiled=True, stream=False)
    if any(e.name in spec.event_names for e in events):
        assert a[3] is None  # streamed
        assert isinstance(a[0], Packed)
        kw = {"k": spec.k, "window_us": spec.window_us}
        # the fused kernel on the packed stream == the kernels on the decoded rows
        _same(fast_best(a[0], impl="compiled", **kw), fast_best(a[0], impl="numpy", **kw))
        _same(
            fast_best(a[0], impl="compiled", **kw),
            fast_best(as_coded(a[0]), impl="compiled", **kw),
        )
        got = sorted(map(tuple, fast_best(a[0], impl="compiled", **kw).filled.tolist()))
        assert got == sorted(tuple(f) for _, _, f, _ in reference(events, spec)[0])
    assert _canonical(a) == _canonical(b)


def test_stream_falls_back_when_not_clustered() -> None:
    """Rows stored shuffled fail the stream's order check: the grouped lists are used (Arrow
    ids present) and the counts equal the reference's."""
    rng = np.random.default_rng(8)
    events = [
        Ev(f"u{u}", int(rng.choice(TIMES)), f"{u}-{i}", str(rng.choice(["A", "B", "C"])), {})
        for u in range(40)
        for i in range(5)
    ]
    ws = _ws_unsorted(events, seed=2)
    spec = FunnelSpec.build(["A", "B", "C"], window="1m")
    got = _fastload.load_fast(ws, spec, "person_id", compiled=True, stream=True)
    assert got[3] is not None  # fell back to the grouped lists
    items, _ = reference(events, spec)
    out = fast_best(got[0], k=3, window_us=spec.window_us, impl="compiled")
    assert tuple(out.filled.sum(axis=0).tolist()) == tuple(
        sum(1 for it in items if it[2][s]) for s in range(3)
    )


#: 30 persons, each A B A B one second apart
ALTERNATING = [
    Ev(f"u{u}", 10**6 * i, f"{u}-{i}", "AB"[i % 2], {}) for u in range(30) for i in range(4)
]


def _spy_stream(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, per ``_load_stream`` call, whether the stream was used (not None)."""
    calls: list[bool] = []
    real = _fastload._load_stream

    def spy(*a: Any) -> Any:
        got = real(*a)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(_fastload, "_load_stream", spy)
    return calls


def test_stream_is_tried_by_default_only_for_the_clustered_person_unit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stitching stores events clustered by person only: with ``stream=None`` the stream is
    tried for ``person_id`` and never for another unit (it would always fall back, after
    a wasted full scan)."""
    ws = _ws_clustered(ALTERNATING)
    spec = FunnelSpec.build(["A", "B"], window="1m")
    tried = _spy_stream(monkeypatch)
    assert _fastload.load_fast(ws, spec, "person_id", compiled=True)[3] is None
    assert tried == [True]
    _fastload.load_fast(ws, spec, "session_id", compiled=True)
    assert tried == [True]


def test_stream_ids_detect_events_changed_after_the_stream() -> None:
    """The lazily fetched ids are checked against the stream's units: a person added between
    the stream and the fetch raises ``EventsChangedError`` (a ``StreamInvalidError``, on which
    ``funnel()`` loads grouped) instead of handing out shifted ids."""
    ws = _ws_clustered(ALTERNATING)
    spec = FunnelSpec.build(["A", "B"], window="1m")
    got = _fastload.load_fast(ws, spec, "person_id", compiled=True, stream=True)
    ids = got[1]
    assert isinstance(ids, _fastload.LazyUnitIds)
    ws.store.append("events", full_events(_table([Ev("late", 0, "late-0", "A", {})])))
    with pytest.raises(_fastload.EventsChangedError, match="events changed"):
        ids.arrow()
    assert issubclass(_fastload.EventsChangedError, _fastload.StreamInvalidError)
    assert issubclass(_fastload.HashCollisionError, _fastload.StreamInvalidError)


def test_stitched_workspace_streams_and_funnel_equals_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a real ingest + stitch the events are stored clustered: ``funnel()`` takes the
    stream (spied) and its counts and drop-off ids equal the grouped load's."""
    import datetime as dt
    import json
    import tempfile
    from pathlib import Path

    rng = np.random.default_rng(12)
    rows = []
    for u in range(200):
        for i in range(int(rng.integers(1, 6))):
            t = dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(
                seconds=int(rng.choice([0, 1, 30, 600, 4000]))
            )
            rows.append(
                {
                    "type": "track",
                    "event": str(rng.choice(["A", "B", "C", "Z"])),
                    "userId": f"user{u}",
                    "messageId": f"m{u}-{i}",
                    "timestamp": t.isoformat(),
                }
            )
    folder = Path(tempfile.mkdtemp())
    (folder / "e.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    ws = Workspace.open(folder / "w.duckdb")
    ws.ingest([folder / "e.jsonl"])
    monkeypatch.setattr(_fastload, "COMPILED_MIN_ROWS", 0)
    streamed = _spy_stream(monkeypatch)
    fast = funnel(ws, ["A", "B", "C"], window="1h", next_events=0)
    assert streamed == [True]
    monkeypatch.setenv("KUNDRESA_NO_NUMBA", "1")  # the grouped NumPy load and kernel
    slow = funnel(ws, ["A", "B", "C"], window="1h", next_events=0)
    assert fast.counts == slow.counts
    assert fast.counts[0] > 100
    assert fast.drop_offs == slow.drop_offs


def test_packed_kernel_threads_equal_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packed kernel split over 4 threads (unit ranges) gives exactly the one-thread and
    the NumPy outcome on 3,000 units of tie-heavy random rows."""
    rng = np.random.default_rng(21)
    sizes = rng.integers(1, 12, 3_000)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    t = np.concatenate([np.sort(rng.integers(0, 50, n)) for n in sizes]).astype(np.int64)
    code = rng.integers(0, 8, len(t)).astype(np.int64)  # 3 bits; masks = codes, 0 = none
    p = Packed(offsets, (t << 3) | code, 3, np.arange(8, dtype=np.int64))
    kw = {"k": 3, "window_us": 20}
    one = fast_best(p, impl="compiled", **kw)
    monkeypatch.setattr(_compiled, "PARALLEL_MIN_ROWS", 100)
    monkeypatch.setattr("kundresa._jit._cores", lambda: 4)
    assert _compiled.threads_for(len(t), _compiled.PARALLEL_MIN_ROWS) == 4
    _same(fast_best(p, impl="compiled", **kw), one)
    _same(fast_best(p, impl="numpy", **kw), one)
    assert one.filled[:, 2].sum() > 100
