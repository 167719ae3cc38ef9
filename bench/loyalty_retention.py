"""Retention speed: a 24-month weekly retention table on 10M events (issue 16's target: at
most 1 s on DuckDB).

    .venv/bin/python bench/loyalty_retention.py [--events 10000000] [--persons 500000]

The events are generated directly with numpy and pyarrow (not the slow synthetic shop):
each person has a first day, uniform over 24 months (730 days), and visits after it at
exponentially distributed offsets (mean 60 days, folded into the horizon) of 5 events on
average within 30 minutes; 10% of the events are orders. They are stored as stitching
stores them on DuckDB (clustered by :data:`kundresa._stitch.CLUSTER_ORDER`). Timed:
``retention(ws, period="week", periods=104)`` (first-time cohorts, any event starts and
returns, calendar weeks), the median of 3 runs after a warm-up; and the recurring variant on
orders and the on-or-after variant.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from kundresa import Workspace
from kundresa._stitch import CLUSTER_ORDER
from kundresa.loyalty import retention
from kundresa.schema import EVENTS

HORIZON_DAYS = 730
DAY_US = 86_400_000_000
START = np.datetime64("2025-01-06T00:00:00", "us")


def build(path: Path, events: int, persons: int, seed: int = 1) -> None:
    """``events`` events of ``persons`` persons over 24 months in a DuckDB workspace: visits
    of 5 events on average (within 30 minutes), each person's visits after their first day
    at exponential offsets (mean 60 days, folded into the horizon); 10% are orders."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, HORIZON_DAYS * DAY_US, persons, dtype=np.int64)
    visits = max(1, events // 5)
    visitor = rng.integers(0, persons, visits, dtype=np.int64)
    at = first[visitor] + rng.exponential(60 * DAY_US, visits).astype(np.int64)
    at = np.where(at < HORIZON_DAYS * DAY_US, at, first[visitor] + at % (30 * DAY_US))
    visit = rng.integers(0, visits, events, dtype=np.int64)
    when = at[visit] + rng.integers(0, 30 * 60 * 1_000_000, events, dtype=np.int64)
    table = pa.table(
        {
            "i": pa.array(np.arange(events, dtype=np.int64)),
            "who": pa.array(visitor[visit]),
            "ts": pa.array(START + when.astype("timedelta64[us]"), pa.timestamp("us")),
            "order": pa.array(rng.random(events) < 0.1),
        }
    )
    made = {
        "event_id": "'e' || i::VARCHAR AS event_id",
        "person_id": "'p' || who::VARCHAR AS person_id",
        "ts": "ts",
        "type": "'track' AS type",
        "event": "CASE WHEN \"order\" THEN 'Order Completed' ELSE 'Page Viewed' END AS event",
    }
    kinds = {"ingested_at": "TIMESTAMP", "revenue": "DOUBLE"}
    cols = ", ".join(
        made.get(f.name, f"NULL::{kinds.get(f.name, 'VARCHAR')} AS {f.name}") for f in EVENTS
    )
    ws = Workspace.open(path)
    ws.events()
    raw = ws.store.raw
    raw.register("bench_events", table)
    raw.execute(
        f"CREATE OR REPLACE TABLE events AS SELECT {cols} FROM bench_events "
        f"ORDER BY {CLUSTER_ORDER}"
    )
    raw.unregister("bench_events")
    ws.close()


def _median(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    out = fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench_retention(events: int = 10_000_000, persons: int = 500_000) -> dict[str, Any]:
    """Build the data, time the 24-month weekly retention table; the seconds and the table's
    shape.

    >>> r = bench_retention(20_000, 1_000)
    >>> r["cohorts"] > 50 and r["seconds"] > 0
    True
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        t = time.perf_counter()
        build(path, events, persons)
        built = time.perf_counter() - t
        with Workspace.open(path) as ws:
            secs, r = _median(lambda: retention(ws, period="week", periods=104))
            secs_rec, _ = _median(
                lambda: retention(
                    ws,
                    "Order Completed",
                    "Order Completed",
                    cohort="recurring",
                    period="week",
                    periods=104,
                )
            )
            secs_after, _ = _median(
                lambda: retention(ws, period="week", periods=104, mode="on_or_after")
            )
            mean = r.mean_row()
            return {
                "events": events,
                "persons": persons,
                "build_seconds": round(built, 1),
                "seconds": round(secs, 3),
                "seconds_recurring_orders": round(secs_rec, 3),
                "seconds_on_or_after": round(secs_after, 3),
                "cohorts": len(r.rows()),
                "week1_mean": None if mean is None else mean.cells[1].rate.value,
                "target_seconds": 1.0,
            }


def main() -> None:
    """Print the timing as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--persons", type=int, default=500_000)
    args = ap.parse_args()
    print(json.dumps(bench_retention(args.events, args.persons), indent=2))


if __name__ == "__main__":
    main()
