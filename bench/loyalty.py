"""Loyalty speed, side by side with lifetimes 0.11.3 (issue 16, "Speed").

    PYTHONPATH=src .venv/bin/python bench/loyalty.py [--sections cdnow,million,rfm,retention]
        [--repeat 5] [--processes 5] [--peers-python /tmp/ltvenv/bin/python]

The peers venv (lifetimes is never a kundresa dependency) is made as
``bench/lifetimes_oracle.py`` says::

    python -m venv /tmp/ltvenv && /tmp/ltvenv/bin/pip install lifetimes==0.11.3 "pandas<3"

Sections:

- ``cdnow``: on the CDNOW summary (2,357 customers,
  ``tests/data/loyalty/cdnow_customers_summary_with_transactions.csv``) the same work on both
  sides: the BG/NBD fit, the Gamma-Gamma fit (customers with x > 0), and for all customers
  the conditional expected purchases in 39 weeks, P(alive) and the CLV over 12 months
  (lifetimes' ``customer_lifetime_value`` conventions: ``time=12``, ``freq="W"``, months of
  4.345 weeks, ``discount_rate=0.01``). Each side runs in fresh processes of its own
  (``--processes``, interleaved), timed inside the process the same way: the library's
  import, the first run (cold), then the median of ``--repeat`` runs after it (warm);
  bytecode cached, as installed, after one discarded process per side. ``--blas-threads 1``
  sets ``OPENBLAS_NUM_THREADS`` for both sides (numpy's OpenBLAS starts its threads at
  import: ~0.1 s of ``import numpy`` on busy cores).
  End to end = import + first run. Both sides read the CSV with the ``csv`` module before
  the clock starts and build their own containers (numpy arrays, a pandas frame) inside it.
  The parameters are printed side by side and compared to 1e-4 (relative).
- ``million``: the BG/NBD fit on 1,000,000 simulated customers (``simulate_bg_nbd``;
  target <= 10 s), the median of ``--repeat`` after a warm-up; lifetimes on the same arrays in
  its own process, once, stopped after ``--lifetimes-timeout`` seconds.
- ``rfm``: ``kundresa.loyalty.rfm_summary`` on 10M generated orders in a DuckDB workspace
  (target <= 5 s).
- ``retention``: ``bench/loyalty_retention.py``'s ``bench_retention`` (the 24-month weekly
  retention table on 10M events, target <= 1 s).

A section whose function is not on this branch says so ("section X: needs ..."); the exit
status is non-zero only when a section asked for by ``--sections`` is missing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CDNOW = ROOT / "tests" / "data" / "loyalty" / "cdnow_customers_summary_with_transactions.csv"
PEERS = "/tmp/ltvenv/bin/python"
SECTIONS = ("cdnow", "million", "rfm", "retention")
TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
BLAS_THREADS = ""  # --blas-threads


# --------------------------------------------------------------------------- workers


def _read_cdnow() -> dict[str, list[float]]:
    with CDNOW.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: [float(r[k]) for r in rows] for k in ("x", "t_x", "T", "zbar")}


def _digest(values: Any) -> dict[str, Any]:
    vals = [float(v) for v in values]
    return {"n": len(vals), "sum": sum(vals), "head": vals[:3]}


def _kundresa_worker(repeat: int) -> dict[str, Any]:
    data = _read_cdnow()
    t0 = time.perf_counter()
    import numpy as np

    from kundresa import loyalty

    imported = time.perf_counter() - t0

    def run() -> dict[str, Any]:
        x, tx, tt, z = (np.asarray(data[k], dtype=np.float64) for k in ("x", "t_x", "T", "zbar"))
        bg = loyalty.fit_bg_nbd(x, tx, tt)
        gg = loyalty.fit_gamma_gamma(x, z)
        cond = loyalty.conditional_expected_purchases(bg, 39, x, tx, tt)
        alive = loyalty.p_alive(bg, x, tx, tt)
        clv = loyalty.customer_lifetime_value(
            bg, gg, x, tx, tt, z, periods=12, period_length=4.345, discount_rate=0.01
        )
        return {
            "bg": dict(bg.params),
            "bg_ll": bg.log_likelihood,
            "gg": dict(gg.params),
            "cond": _digest(cond),
            "alive": _digest(alive),
            "clv": _digest(clv),
        }

    return _timed(run, imported, repeat)


def _lifetimes_worker(repeat: int) -> dict[str, Any]:
    data = _read_cdnow()
    t0 = time.perf_counter()
    import warnings

    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter  # type: ignore[import-not-found]

    imported = time.perf_counter() - t0
    warnings.simplefilter("ignore")

    def run() -> dict[str, Any]:
        d = pd.DataFrame(data)
        bg = BetaGeoFitter().fit(d["x"], d["t_x"], d["T"])
        k = d["x"] > 0
        gg = GammaGammaFitter().fit(d["x"][k], d["zbar"][k])
        cond = bg.conditional_expected_number_of_purchases_up_to_time(39, d["x"], d["t_x"], d["T"])
        alive = bg.conditional_probability_alive(d["x"], d["t_x"], d["T"])
        clv = gg.customer_lifetime_value(
            bg, d["x"], d["t_x"], d["T"], d["zbar"], time=12, discount_rate=0.01, freq="W"
        )
        params = {k: float(v) for k, v in gg.params_.items()}
        return {
            "bg": {k: float(v) for k, v in bg.params_.items()},
            "gg": {("gamma" if k == "v" else k): v for k, v in params.items()},
            "cond": _digest(cond),
            "alive": _digest(alive),
            "clv": _digest(clv),
        }

    return _timed(run, imported, repeat)


def _timed(run: Any, imported: float, repeat: int) -> dict[str, Any]:
    t = time.perf_counter()
    out = run()
    first = time.perf_counter() - t
    warm = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        warm.append(time.perf_counter() - t)
    return {"import": imported, "first": first, "warm": statistics.median(warm), **out}


def _million_worker(path: str) -> dict[str, Any]:
    import warnings

    import numpy as np
    from lifetimes import BetaGeoFitter

    warnings.simplefilter("ignore")
    arrays = np.load(path)
    t = time.perf_counter()
    bg = BetaGeoFitter().fit(arrays["x"], arrays["t_x"], arrays["T"])
    return {"seconds": time.perf_counter() - t, "bg": {k: float(v) for k, v in bg.params_.items()}}


# --------------------------------------------------------------------------- sections


def _run_worker(python: str, args: list[str], timeout: float | None = None) -> dict[str, Any]:
    # as installed: bytecode cached (PYTHONDONTWRITEBYTECODE would recompile every kundresa
    # module in every process; lifetimes' wheel was compiled by pip), as bench/cli.py does
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT / "src")
    if BLAS_THREADS:  # --blas-threads: both sides alike (numpy's OpenBLAS starts them at import)
        env["OPENBLAS_NUM_THREADS"] = BLAS_THREADS
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def section_cdnow(args: argparse.Namespace) -> bool:
    """kundresa vs lifetimes on CDNOW, end to end; True when both sides ran."""
    print("== cdnow: BG/NBD + Gamma-Gamma fits, E[purchases in 39 w], P(alive), CLV 12 months")
    peers = args.peers_python if Path(args.peers_python).exists() else None
    if peers is None:
        print(f"  lifetimes: no peers venv at {args.peers_python} (see the module notes)")
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    # one discarded process per side first: bytecode written, files in the page cache
    _run_worker(sys.executable, ["--worker", "kundresa", "--repeat", "1"])
    if peers:
        _run_worker(peers, ["--worker", "lifetimes", "--repeat", "1"])
    for _ in range(args.processes):
        rep = ["--repeat", str(args.repeat)]
        ours.append(_run_worker(sys.executable, ["--worker", "kundresa", *rep]))
        if peers:
            theirs.append(_run_worker(peers, ["--worker", "lifetimes", *rep]))

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] if key != "e2e" else r["import"] + r["first"] for r in runs)

    print(f"  medians of {args.processes} fresh processes per side; warm = median of "
          f"{args.repeat} runs after the first")  # fmt: skip
    print(f"  {'figure':<34} {'kundresa':>10} {'lifetimes':>10} {'ratio':>8}")
    for key, label in [
        ("import", "import"),
        ("first", "first run (cold)"),
        ("warm", "warm run"),
        ("e2e", "end to end (import + first run)"),
    ]:
        k = med(ours, key)
        if theirs:
            lt = med(theirs, key)
            print(f"  {label:<34} {k:>9.4f}s {lt:>9.4f}s {lt / k:>7.1f}x")
        else:
            print(f"  {label:<34} {k:>9.4f}s")
    if not theirs:
        return True
    o, t = ours[0], theirs[0]
    worst = 0.0
    print(f"  {'parameter':<16} {'kundresa':>14} {'lifetimes':>14} {'rel. diff':>10}")
    for model in ("bg", "gg"):
        for name, value in o[model].items():
            other = float(t[model][name])
            worst = max(worst, _rel(value, other))
            label = f"{model} {name}"
            print(f"  {label:<16} {value:>14.8g} {other:>14.8g} {_rel(value, other):>10.2e}")
    print(f"  BG/NBD log-likelihood: kundresa {o['bg_ll']:.4f} (FHL 2005: -9582.43; lifetimes "
          "fits rescaled times, so its own figure differs by a constant)")  # fmt: skip
    for key in ("cond", "alive", "clv"):
        worst_p = _rel(o[key]["sum"], t[key]["sum"])
        print(f"  {key:<6} sum over {o[key]['n']} customers: kundresa {o[key]['sum']:.6f}, "
              f"lifetimes {t[key]['sum']:.6f} (rel. diff {worst_p:.1e})")  # fmt: skip
        worst = max(worst, worst_p)
    print(f"  parameters and predictions {'agree' if worst <= 1e-4 else 'DIFFER'} to 1e-4 "
          f"(worst {worst:.1e})")  # fmt: skip
    return True


def section_million(args: argparse.Namespace) -> bool:
    """BG/NBD on 1M simulated customers; lifetimes on the same data if it finishes."""
    import numpy as np

    from kundresa.loyalty import fit_bg_nbd, simulate_bg_nbd

    n = args.customers
    print(f"== million: BG/NBD fit on {n:,} simulated customers (target <= 10 s)")
    x, tx, tt, _ = simulate_bg_nbd(n, **TRUTH, T=39.0, seed=1)
    fit = fit_bg_nbd(x, tx, tt)  # warm-up
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        fit = fit_bg_nbd(x, tx, tt)
        times.append(time.perf_counter() - t)
    shown = ", ".join(f"{k} {v:.4f}" for k, v in fit.params.items())
    print(f"  kundresa: {statistics.median(times):.3f} s (median of {args.repeat}; "
          f"{fit.rows:,} distinct rows, {fit.iterations} Newton steps); {shown}")  # fmt: skip
    if not Path(args.peers_python).exists():
        print(f"  lifetimes: no peers venv at {args.peers_python}")
        return True
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "million.npz")
        np.savez(path, x=x, t_x=tx, T=tt)
        t = time.perf_counter()
        try:
            res = _run_worker(args.peers_python, ["--worker", "million", path],
                              timeout=args.lifetimes_timeout)  # fmt: skip
        except subprocess.TimeoutExpired:
            print(f"  lifetimes: stopped at {time.perf_counter() - t:.0f} s (not finished)")
            return True
    theirs = ", ".join(f"{k} {v:.4f}" for k, v in res["bg"].items())
    ratio = res["seconds"] / statistics.median(times)
    print(f"  lifetimes: {res['seconds']:.1f} s (once; ratio {ratio:.1f}x); {theirs}")
    return True


def _orders_workspace(path: Path, orders: int, persons: int, seed: int = 1) -> None:
    """``orders`` orders (with revenue) of ``persons`` persons over two years, stored as
    stitching stores events on DuckDB."""
    import numpy as np
    import pyarrow as pa

    from kundresa import Workspace
    from kundresa._stitch import CLUSTER_ORDER
    from kundresa.schema import EVENTS

    day_us = 86_400_000_000
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 730 * day_us, persons, dtype=np.int64)
    who = rng.integers(0, persons, orders, dtype=np.int64)
    offset = rng.exponential(90 * day_us, orders).astype(np.int64)
    when = np.minimum(first[who] + offset, 730 * day_us - 1)
    ts = np.datetime64("2025-01-06T00:00:00", "us") + when.astype("timedelta64[us]")
    table = pa.table(
        {
            "event_id": pa.array(np.char.add("e", np.arange(orders).astype(str))),
            "person_id": pa.array(np.char.add("p", who.astype(str))),
            "ts": pa.array(ts, pa.timestamp("us")),
            "type": pa.array(np.full(orders, "track")),
            "event": pa.array(np.full(orders, "Order Completed")),
            "revenue": pa.array(np.round(rng.gamma(6.0, 5.0, orders), 2)),
        }
    )
    ws = Workspace.open(path)
    ws.events()
    raw = ws.store.raw
    raw.register("bench_orders", table)
    kinds = {"ingested_at": "TIMESTAMP", "revenue": "DOUBLE"}
    cols = ", ".join(
        f.name
        if f.name in table.column_names
        else f"NULL::{kinds.get(f.name, 'VARCHAR')} AS {f.name}"
        for f in EVENTS
    )
    raw.execute(
        f"CREATE OR REPLACE TABLE events AS SELECT {cols} FROM bench_orders "
        f"ORDER BY {CLUSTER_ORDER}"
    )
    raw.unregister("bench_orders")
    ws.close()


def section_rfm(args: argparse.Namespace) -> bool:
    """rfm_summary on 10M orders in a DuckDB workspace; False when it is not on this branch."""
    try:
        from kundresa.loyalty import rfm_summary  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        print("section rfm: needs kundresa.loyalty.rfm_summary (not on this branch)")
        return False
    from kundresa import Workspace

    print(f"== rfm: rfm_summary on {args.orders:,} orders of {args.persons:,} persons "
          "(DuckDB, target <= 5 s)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.duckdb"
        t = time.perf_counter()
        _orders_workspace(path, args.orders, args.persons)
        print(f"  built in {time.perf_counter() - t:.1f} s (not timed)")
        with Workspace.open(path) as ws:
            for label, kwargs in [("per customer", {}), ("distinct rows", {"distinct": True})]:
                out = rfm_summary(ws, **kwargs)  # warm-up
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    out = rfm_summary(ws, **kwargs)
                    times.append(time.perf_counter() - t)
                rows = len(out.to_frame())
                print(f"  {label}: {statistics.median(times):.3f} s (median of {args.repeat}; "
                      f"{rows:,} rows)")  # fmt: skip
    return True


def section_retention(args: argparse.Namespace) -> bool:
    """bench/loyalty_retention.py's bench_retention; False when it is not on this branch."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from loyalty_retention import bench_retention  # type: ignore[import-not-found]
    except ImportError:
        print("section retention: needs bench/loyalty_retention.py:bench_retention "
              "(not on this branch)")  # fmt: skip
        return False
    print("== retention: 24-month weekly retention table on 10M events (target <= 1 s)")
    print("  " + json.dumps(bench_retention(), indent=2).replace("\n", "\n  "))
    return True


def main() -> None:
    """Run the sections asked for (all by default) and print their figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", default=None, help=f"comma-separated: {', '.join(SECTIONS)}")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--processes", type=int, default=5)
    ap.add_argument("--peers-python", default=PEERS)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--lifetimes-timeout", type=float, default=300.0)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--blas-threads", default="", help="OPENBLAS_NUM_THREADS for both sides")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    global BLAS_THREADS
    BLAS_THREADS = args.blas_threads
    if args.worker:
        kind = args.worker[0]
        if kind == "kundresa":
            out = _kundresa_worker(args.repeat)
        elif kind == "lifetimes":
            out = _lifetimes_worker(args.repeat)
        else:
            out = _million_worker(args.worker[1])
        print(json.dumps(out))
        return
    asked = args.sections is not None
    names = [s.strip() for s in (args.sections or ",".join(SECTIONS)).split(",") if s.strip()]
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        ap.error(f"--sections: unknown {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if os.path.exists("/proc/loadavg"):
        print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    funcs = {"cdnow": section_cdnow, "million": section_million, "rfm": section_rfm,
             "retention": section_retention}  # fmt: skip
    missing = [name for name in names if not funcs[name](args)]
    if os.path.exists("/proc/loadavg"):
        print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    if asked and missing:
        sys.exit(f"missing sections asked for: {', '.join(missing)}")


if __name__ == "__main__":
    main()
