"""Benchmark: transitions / Sankey and DFG + variants on N events (default 10M), vs peers.

    .venv/bin/python bench/paths.py [--events 10000000] [--peer-events 1000000]
        [--peers-python /tmp/benchpeers5/bin/python] [--fetch-events 2000000]

Times the numpy kernels on the encoded sequence index (what every path analysis runs after the
one-off, cached fetch from the engine), the fetch itself from DuckDB, and, side by side in the
same run on the same ``--peer-events`` log (the same 30-minute sessions as cases/paths):

* pm4py ``discover_dfg`` + ``get_variants`` (AGPL) vs kundresa's DFG + variants;
* retentioneering's step Sankey data (``Eventstream.step_sankey_data``, 5 steps from the path
  start, and anchored at the first ``Product Viewed``) vs kundresa's Sankey kernel.

Peers are never dependencies: they run in a separate Python (``--peers-python``, a venv with
``pip install retentioneering pm4py pandas pyarrow``; default: this Python); a peer that cannot
be imported is skipped with the reason. retentioneering's PostHog telemetry is switched off
(``RETENTIONEERING_NO_TRACK=1``). Each peer's result is checked against ours (DFG edge counts,
variant count, per-step event counts) so that the ratio compares the same answer. The load
average is printed before and after: on a shared machine compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from kundresa.paths import _kernel as kn
from kundresa.paths._analysis import _flows_result, _graph_result, _variants_result
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
STEPS = 5
ANCHOR = "Product Viewed"


def make(n: int, persons: int, seed: int = 1, shape: str = "sessions") -> Sequences:
    """N events over ``persons`` and 56 days, labels drawn with the weights ``P``.

    ``sessions``: every person's events come in visits (a new one with probability 1/5 per
    event, so about 5 events each) starting at random times, events a visit apart by
    exponential gaps of mean 60 s; ``uniform``: event times uniform over the 56 days (almost
    every 30-minute session is a single event; the shape of earlier runs of this benchmark).
    """
    rng = np.random.default_rng(seed)
    person = np.sort(rng.integers(0, persons, n))
    label = rng.choice(len(LABELS), n, p=P).astype(np.int64)
    span = 56 * 86_400_000_000
    if shape == "uniform":
        ts = rng.integers(0, span, n)
    else:
        new = np.ones(n, dtype=bool)
        new[1:] = (person[1:] != person[:-1]) | (rng.random(n - 1) < 0.2)
        visit = np.cumsum(new) - 1
        gaps = rng.exponential(60e6, n).astype(np.int64)
        gaps[new] = 0
        elapsed = np.cumsum(gaps)
        ts = rng.integers(0, span, int(visit[-1]) + 1)[visit] + elapsed - elapsed[new][visit]
    order = np.lexsort((ts, person))
    return Sequences(
        label=label,
        ts=ts[order] + 1_767_571_200_000_000,
        person=person[order].astype(np.int64),
        labels=LABELS,
        persons=tuple(f"p{i}" for i in range(persons)),
    )


CPU: dict[str, float] = {}  # best CPU seconds of the last clock() per label


def clock(fn, repeat: int = 3, label: str = "") -> float:  # type: ignore[no-untyped-def]
    """Best wall seconds of ``repeat`` runs (the best CPU seconds go to ``CPU[label]``)."""
    best = cpu = float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        cpu = min(cpu, time.process_time() - c)
        best = min(best, time.perf_counter() - t)
    CPU[label] = cpu
    return best


def ours(seq: Sequences) -> dict[str, float]:
    """The analyses' result builders on the index (what ``flows()``, ``transition_graph()``
    and ``variants()`` run after the cached fetch), best of 3."""
    out = {}
    units = kn.make_units(seq, grain="session")
    out["units (sessions 30m)"] = clock(
        lambda: kn.make_units(seq, grain="session"), label="units (sessions 30m)"
    )
    every = len(seq.labels)  # no "other": the same per-step counts as the peer's step matrix
    out["sankey (from path start, 5 steps)"] = clock(
        lambda: _flows_result(units, None, None, steps=STEPS, top=every, grain="session"),
        repeat=7,  # milliseconds at 1M: best of 7, as the peer's step Sankey below
        label="sankey (from path start, 5 steps)",
    )
    out[f"sankey (from {ANCHOR}, 5 steps)"] = clock(
        lambda: _flows_result(units, ANCHOR, None, steps=STEPS, top=every, grain="session"),
        label=f"sankey (from {ANCHOR}, 5 steps)",
    )
    out["transitions (DFG: count, persons, median)"] = clock(
        lambda: _graph_result(units, "session"), label="transitions (DFG: count, persons, median)"
    )
    # as variants(top=20) runs it: every group counted, medians for the shown ones
    out["variants"] = clock(lambda: _variants_result(units, "session", 20), label="variants")
    out["DFG + variants"] = out["transitions (DFG: count, persons, median)"] + out["variants"]
    CPU["DFG + variants"] = CPU["transitions (DFG: count, persons, median)"] + CPU["variants"]
    return out


PEER_SCRIPT = r"""
import json, os, sys, time
os.environ["RETENTIONEERING_NO_TRACK"] = "1"  # retentioneering sends PostHog telemetry otherwise
import numpy as np
data = np.load(sys.argv[1])
labels = json.loads(sys.argv[2])
steps, anchor = int(sys.argv[3]), sys.argv[4]
out = {}
try:
    import pandas as pd
    import pm4py
    t = time.perf_counter()
    df = pd.DataFrame({
        "case:concept:name": data["unit"].astype(str),
        "concept:name": np.array(labels, dtype=object)[data["label"]],
        "time:timestamp": pd.to_datetime(data["ts"], unit="us", utc=True),
    })
    build = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    dfg, _start, _end = pm4py.discover_dfg(df)
    variants = pm4py.get_variants(df)
    out["pm4py"] = {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c,
                    "frame_seconds": build,
                    "dfg": [[a, b, int(c)] for (a, b), c in dfg.items()],
                    "variants": len(variants)}
    del df
except Exception as e:
    out["pm4py"] = {"skipped": f"{type(e).__name__}: {e}"[:200]}
try:
    import pandas as pd
    from retentioneering.eventstream import Eventstream
    df = pd.DataFrame({
        "session": data["unit"],
        "event": pd.Categorical.from_codes(data["label"], categories=labels),
        "timestamp": pd.to_datetime(data["ts"], unit="us"),
    })
    t = time.perf_counter()
    es = Eventstream(df, schema={"path_cols": ["session"]})
    build = time.perf_counter() - t
    es.step_sankey_data(max_steps=steps)  # warm-up: DuckDB instance, pandas registration
    best = best_a = cpu = float("inf")
    for _ in range(7):
        t, c = time.perf_counter(), time.process_time()
        sm = es.step_sankey_data(max_steps=steps)
        cpu = min(cpu, time.process_time() - c)  # DuckDB's threads included
        best = min(best, time.perf_counter() - t)
    for _ in range(2):
        t = time.perf_counter()
        es.step_sankey_data(max_steps=steps, anchor={"pattern": anchor})
        best_a = min(best_a, time.perf_counter() - t)
    total = int(df["session"].nunique())  # the matrix holds shares of paths
    shares = {str(e): [float(sm.loc[e, k]) for k in range(1, steps + 1)]
              for e in sm.index if e in labels}
    out["retentioneering"] = {"seconds": best, "cpu": cpu, "anchored_seconds": best_a,
                              "eventstream_seconds": build, "paths": total, "shares": shares}
except Exception as e:
    out["retentioneering"] = {"skipped": f"{type(e).__name__}: {e}"[:200]}
print(json.dumps(out))
"""


def run_peers(units: kn.Units, python: str) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="kundresa_paths_bench_"))
    npz = folder / "log.npz"
    np.savez(npz, unit=units.unit, label=units.label, ts=units.ts)
    try:
        proc = subprocess.run(
            [python, "-c", PEER_SCRIPT, str(npz), json.dumps(LABELS), str(STEPS), ANCHOR],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"all": {"skipped": str(exc)}}
    finally:
        npz.unlink(missing_ok=True)
    lines = proc.stdout.strip().splitlines()
    if not lines:
        return {"all": {"skipped": f"no output: {proc.stderr.strip()[-300:]}"}}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def check_pm4py(units: kn.Units, res: dict[str, Any]) -> bool:
    g = kn.transition_graph(units)
    mine = {
        (LABELS[a], LABELS[b]): int(c)
        for a, b, c in zip(g.source.tolist(), g.target.tolist(), g.count.tolist(), strict=True)
    }
    theirs = {(a, b): c for a, b, c in res["dfg"]}
    distinct = kn.group_slices(units, units.start, units.end - 1, top=1).distinct
    return mine == theirs and distinct == res["variants"]


def check_retentioneering(units: kn.Units, res: dict[str, Any]) -> bool:
    every = len(units.labels)
    flows = _flows_result(units, None, None, steps=STEPS, top=every, grain="session")
    mine = {(n["step"], n["label"]): n["count"] for n in flows.nodes}
    theirs = {
        (k, name): round(share * res["paths"])
        for name, shares in res["shares"].items()
        for k, share in enumerate(shares)
        if round(share * res["paths"])
    }
    return bool(res["paths"] == flows.paths and mine == theirs)


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
    # numpy string arrays arrive as ENUM types (millions of values): store plain VARCHARs
    con.execute(
        "CREATE TABLE events AS SELECT event_id::VARCHAR AS event_id, person_id::VARCHAR AS"
        " person_id, ts, type::VARCHAR AS type, event::VARCHAR AS event,"
        " NULL::VARCHAR AS properties FROM src"
    )
    load_sequences(ws)  # warm-up: Ibis/sqlglot parse their type strings once per process
    con.execute("CREATE OR REPLACE TABLE events AS SELECT * FROM events")  # defeat nothing cached
    t = clock(lambda: load_sequences(ws), repeat=1)
    ws.close()
    return t


def report_peers(units: kn.Units, res: dict[str, float], peers: dict[str, Any]) -> None:
    if "all" in peers:
        print(f"  peers skipped: {peers['all']['skipped']}")
        return
    pm = peers.get("pm4py", {})
    if "skipped" in pm:
        print(f"  pm4py: skipped ({pm['skipped']})")
    else:
        print(
            f"  {'pm4py DFG + variants (same cases)':<45} {pm['seconds']:8.3f} s"
            f"   ratio {pm['seconds'] / res['DFG + variants']:.1f}x"
            f" (CPU {pm['cpu']:.3f} s, {pm['cpu'] / CPU['DFG + variants']:.1f}x)"
            f"   (same DFG and variant count: {check_pm4py(units, pm)};"
            f" its DataFrame build {pm['frame_seconds']:.2f} s not counted)"
        )
    rt = peers.get("retentioneering", {})
    if "skipped" in rt:
        print(f"  retentioneering: skipped ({rt['skipped']})")
        return
    ours_start = res["sankey (from path start, 5 steps)"]
    ours_anchor = res[f"sankey (from {ANCHOR}, 5 steps)"]
    with_units = ours_start + res["units (sessions 30m)"]
    print(
        f"  {'retentioneering step Sankey (path start)':<45} {rt['seconds']:8.3f} s"
        f"   ratio {rt['seconds'] / ours_start:.1f}x"
        f" (CPU {rt['cpu']:.3f} s, {rt['cpu'] / CPU['sankey (from path start, 5 steps)']:.1f}x;"
        f" wall {rt['seconds'] / with_units:.1f}x counting our sessionising too)"
        f"   (same per-step counts: {check_retentioneering(units, rt)})"
    )
    print(
        f"  {'retentioneering step Sankey (anchored)':<45} {rt['anchored_seconds']:8.3f} s"
        f"   ratio {rt['anchored_seconds'] / ours_anchor:.1f}x"
        f"   (its Eventstream build {rt['eventstream_seconds']:.2f} s not counted)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--peer-events", type=int, default=1_000_000)
    ap.add_argument("--fetch-events", type=int, default=2_000_000)
    ap.add_argument("--peers-python", default=None, help="Python with pm4py/retentioneering")
    ap.add_argument("--shape", choices=("sessions", "uniform"), default="sessions")
    args = ap.parse_args()
    print(f"load average (1, 5, 15 min) at start: {os.getloadavg()}; cores: {os.cpu_count()}")
    for n in sorted({args.peer_events, args.events}):
        seq = make(n, max(n // 20, 1), shape=args.shape)
        res = ours(seq)
        units = kn.make_units(seq, grain="session")
        print(
            f"\n== {n:,} events, {n // 20:,} persons, {units.count:,} sessions, shape"
            f" {args.shape} (kundresa numpy kernels on the index)"
        )
        for k, v in res.items():
            print(f"  {k:<45} {v:8.3f} s  (CPU {CPU[k]:.3f} s)")
        if n == args.peer_events:
            peers = run_peers(units, args.peers_python or sys.executable)
            report_peers(units, res, peers)
        del seq, units
    t = fetch_from_duckdb(args.fetch_events)
    print(
        f"\n== one-off index build from DuckDB, {args.fetch_events:,} events: {t:.2f} s"
        " (cached per workspace and rules until the events change)"
    )
    print(f"load average (1, 5, 15 min) at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
