"""Funnel speed: kundresa vs the ASOF-join SQL, ClickHouse windowFunnel (chdb), retentioneering.

    .venv/bin/python bench/funnel.py [--events 10000000] [--persons 500000] [--repeat 3]
        [--peers-python /path/to/python-with-chdb-and-retentioneering] [--data DIR]

``--data DIR`` reuses (or creates) ``DIR/bench.duckdb`` and ``DIR/events.parquet`` instead of
building new data in a temporary folder (the 10M build takes minutes on a busy machine).
The load average is printed with the table: on a shared machine compare ratios, not seconds.

Data: N events over P persons and 56 days, 4 funnel steps (Product Viewed 30%, Product Added
10%, Checkout Started 5%, Order Completed 3%) among noise events, in a DuckDB workspace.
Funnel: 4 steps, 7-day window, ``entry="best"``. Every engine's step counts are printed next
to its time so semantic differences (ties) are visible; the ratios are time / kundresa core.

Peers (GPL/heavy) are never dependencies: chdb and retentioneering run in a separate Python
(``--peers-python``, e.g. a venv with ``pip install chdb retentioneering``); a peer that
cannot be imported is skipped with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kundresa import Workspace
from kundresa.funnel import funnel
from kundresa.funnel._kernel import fast_best
from kundresa.funnel._load import load
from kundresa.funnel.spec import FunnelSpec
from kundresa.schema import EVENTS

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]
WINDOW_US = 7 * 86400 * 1_000_000


def build(path: Path, n: int, persons: int) -> None:
    """Synthetic events straight in DuckDB SQL (fast), stored clustered by (person, ts)."""
    ws = Workspace.open(path)
    ws.events()
    cols = ", ".join(
        {
            "event_id": "'e' || i::varchar AS event_id",
            "person_id": "'p' || (hash(i) % $persons)::varchar AS person_id",
            "ts": "TIMESTAMP '2026-01-05' + to_microseconds((hash(i * 7) % 4838400000000)::bigint)"
            " AS ts",
            "type": "'track' AS type",
            "event": "CASE WHEN r < 0.30 THEN 'Product Viewed' WHEN r < 0.40 THEN 'Product Added'"
            " WHEN r < 0.45 THEN 'Checkout Started' WHEN r < 0.48 THEN 'Order Completed'"
            " ELSE 'Page Viewed' END AS event",
        }.get(
            f.name,
            f"NULL::{'TIMESTAMP' if f.name == 'ingested_at' else 'VARCHAR'} AS {f.name}",
        )
        if f.name != "revenue"
        else "NULL::DOUBLE AS revenue"
        for f in EVENTS
    )
    sql = (
        f"CREATE OR REPLACE TABLE events AS SELECT {cols} FROM (SELECT i, "
        f"(hash(i * 13) % 1000000) / 1e6 AS r FROM range({n}) t(i)) ORDER BY person_id, ts"
    ).replace("$persons", str(persons))
    ws.store.raw.execute(sql)
    ws.close()


ASOF_SQL = """
WITH s1 AS (SELECT person_id, ts, ts AS entry FROM events WHERE event = 'Product Viewed'),
s2 AS (SELECT b.person_id, b.ts, a.entry FROM
       (SELECT person_id, ts FROM events WHERE event = 'Product Added') b
       ASOF JOIN s1 a ON a.person_id = b.person_id AND a.ts < b.ts),
s3 AS (SELECT b.person_id, b.ts, a.entry FROM
       (SELECT person_id, ts FROM events WHERE event = 'Checkout Started') b
       ASOF JOIN s2 a ON a.person_id = b.person_id AND a.ts < b.ts),
s4 AS (SELECT b.person_id, b.ts, a.entry FROM
       (SELECT person_id, ts FROM events WHERE event = 'Order Completed') b
       ASOF JOIN s3 a ON a.person_id = b.person_id AND a.ts < b.ts)
SELECT (SELECT count(DISTINCT person_id) FROM s1),
       (SELECT count(DISTINCT person_id) FROM s2 WHERE ts - entry <= INTERVAL 7 DAY),
       (SELECT count(DISTINCT person_id) FROM s3 WHERE ts - entry <= INTERVAL 7 DAY),
       (SELECT count(DISTINCT person_id) FROM s4 WHERE ts - entry <= INTERVAL 7 DAY)
"""

PEER_SCRIPT = r"""
import json, sys, time
parquet, repeat = sys.argv[1], int(sys.argv[2])
out = {}
try:
    import chdb
    q = (f"SELECT level, count() FROM (SELECT person_id, windowFunnel(604800)(toDateTime(ts), "
         f"event = 'Product Viewed', event = 'Product Added', event = 'Checkout Started', "
         f"event = 'Order Completed') AS level FROM file('{parquet}', Parquet) "
         f"WHERE event != 'Page Viewed' GROUP BY person_id) GROUP BY level ORDER BY level")
    best = 1e9
    for _ in range(repeat):
        t = time.perf_counter()
        res = chdb.query(q, "CSV")
        best = min(best, time.perf_counter() - t)
    levels = {int(a): int(b) for a, b in (l.split(",") for l in str(res).strip().splitlines())}
    counts = [sum(v for k, v in levels.items() if k >= s) for s in range(1, 5)]
    out["chdb windowFunnel"] = {"seconds": best, "counts": counts}
except Exception as e:
    out["chdb windowFunnel"] = {"skipped": f"{type(e).__name__}: {e}"[:200]}
try:
    import pandas as pd
    from retentioneering.eventstream import Eventstream
    df = pd.read_parquet(parquet, columns=["person_id", "event", "ts"])
    df = df[df.event != "Page Viewed"]
    t = time.perf_counter()
    es = Eventstream(df, raw_data_schema={"user_id": "person_id", "event_name": "event",
                                          "event_timestamp": "ts"})
    f = es.funnel(stages=["Product Viewed", "Product Added", "Checkout Started",
                          "Order Completed"], funnel_type="closed", show_plot=False)
    out["retentioneering funnel"] = {"seconds": time.perf_counter() - t,
                                     "counts": [int(x) for x in f.values["unique_users"]]}
except Exception as e:
    out["retentioneering funnel"] = {"skipped": f"{type(e).__name__}: {e}"[:200]}
print(json.dumps(out))
"""


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--persons", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peers-python", default=None)
    ap.add_argument("--data", default=None, help="folder to reuse (or create) the data in")
    args = ap.parse_args()
    folder = Path(args.data or tempfile.mkdtemp(prefix="kundresa_funnel_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.duckdb"
    t = time.perf_counter()
    if not db.exists():
        build(db, args.events, args.persons)
    print(
        f"data: {args.events:,} events, {args.persons:,} persons ({time.perf_counter() - t:.1f} s)"
        f" in {folder}"
    )
    ws = Workspace.open(db)
    spec = FunnelSpec.build(STEPS, window="7d")
    rows: list[tuple[str, float | None, Any]] = []

    def core(fast: bool = True) -> tuple[int, ...]:
        out = fast_best(load(ws, spec, fast=fast).coded, k=4, window_us=WINDOW_US)
        return tuple(int(x) for x in out.filled.sum(axis=0))

    rows.append(("kundresa core (load + fast kernel)", *timed(core, args.repeat)))
    rss_core = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    rows.append(
        (
            "kundresa funnel() full result",
            *timed(lambda: funnel(ws, STEPS, window="7d", next_events=0).counts, args.repeat),
        )
    )
    rows.append(
        ("kundresa general load + fast kernel", *timed(lambda: core(False), min(args.repeat, 2)))
    )
    raw = ws.store.raw
    rows.append(
        (
            "DuckDB ASOF-join SQL chain",
            *timed(lambda: raw.execute(ASOF_SQL).fetchone(), args.repeat),
        )
    )
    parquet = folder / "events.parquet"
    if not parquet.exists():
        raw.execute(
            f"COPY (SELECT person_id, event, ts FROM events) TO '{parquet}' (FORMAT parquet)"
        )
    ws.close()
    peers_py = args.peers_python or sys.executable
    try:
        proc = subprocess.run(
            [peers_py, "-c", PEER_SCRIPT, str(parquet), str(args.repeat)],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        peers = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
        if not peers:
            print("peers: no output;", proc.stderr.strip()[-300:])
    except (OSError, subprocess.TimeoutExpired) as exc:
        peers = {}
        print(f"peers skipped: {exc}")
    for name, res in peers.items():
        if "skipped" in res:
            print(f"{name}: skipped ({res['skipped']})")
        else:
            rows.append((name, res["seconds"], tuple(res["counts"])))
    base = rows[0][1]
    print(f"load average (1, 5, 15 min): {os.getloadavg()}; cores: {os.cpu_count()}")
    print(f"peak RSS after the core runs: {rss_core:.2f} GiB (Python + DuckDB, one process)")
    print(f"{'engine':<38} {'seconds':>8} {'ratio':>7}  counts")
    for name, secs, counts in rows:
        assert secs is not None
        assert base is not None
        print(f"{name:<38} {secs:>8.3f} {secs / base:>7.2f}  {tuple(counts) if counts else ''}")


if __name__ == "__main__":
    main()
