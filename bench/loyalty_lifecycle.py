"""Lifecycle speed: weekly lifecycle over 24 months of ~10M events on DuckDB (target <= 1 s).

    .venv/bin/python bench/loyalty_lifecycle.py [--events 10000000] [--persons 500000]
        [--repeat 3] [--data DIR]

Data, generated with numpy and pyarrow (no SQL): ``--persons`` persons, each with an
acquisition day uniform over the 24 months from 2025-01-06 and a geometric number of active
weeks after it, with 1-6 events in an active week (so new, returning, resurrecting and dormant
all occur), ~5% identify calls; events are stored as stitching stores them on DuckDB
(clustered by :data:`kundresa._stitch.CLUSTER_ORDER`). ``--data DIR`` reuses (or creates)
``DIR/lifecycle.duckdb``. The timed call is ``kundresa.loyalty.lifecycle(ws, period="week")``
(PostHog mode, created = first event of any type), then Amplitude mode and a weekly
stickiness for comparison; the best of ``--repeat`` runs is printed with the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from kundresa import Workspace
from kundresa._stitch import CLUSTER_ORDER
from kundresa.loyalty import LifecycleResult, lifecycle, stickiness
from kundresa.schema import EVENTS

START = dt.datetime(2025, 1, 6)  # a Monday
DAYS = 730


def synthetic(n: int, persons: int, seed: int = 16) -> pa.Table:
    """About ``n`` events of ``persons`` persons (see the module notes), EVENTS' schema."""
    rng = np.random.default_rng(seed)
    per_person = max(1, n // persons)
    # events per person: around the mean, at least one
    counts = np.maximum(1, rng.poisson(per_person, persons))
    counts = (counts * (n / counts.sum())).round().astype(np.int64).clip(1)
    total = int(counts.sum())
    person = np.repeat(np.arange(persons), counts)
    acquired = rng.integers(0, DAYS - 7, persons)
    # active life in days: geometric weeks, plus gaps (resurrection) from the spread
    life = rng.geometric(0.08, persons) * 7
    offset = (rng.random(total) ** 2 * life[person]).astype(np.int64)
    day = np.minimum(acquired[person] + offset, DAYS - 1)
    seconds = rng.integers(0, 86400, total)
    ts = (np.datetime64(START, "us") + day.astype("timedelta64[D]")
          + seconds.astype("timedelta64[s]")).astype("datetime64[us]")  # fmt: skip
    kind = np.where(rng.random(total) < 0.05, "identify", "track")
    names = np.array(["Page Viewed", "Product Viewed", "Order Completed"])
    event = names[rng.choice(3, total, p=[0.6, 0.3, 0.1])]
    cols = {
        "event_id": pa.array(np.char.add("e", np.arange(total).astype(str))),
        "person_id": pa.array(np.char.add("p", person.astype(str))),
        "ts": pa.array(ts, pa.timestamp("us")),
        "type": pa.array(kind),
        "event": pa.array(np.where(kind == "identify", None, event).tolist(), pa.string()),
    }
    arrays = [cols.get(f.name, pa.nulls(total, f.type)) for f in EVENTS]
    return pa.Table.from_arrays(arrays, schema=EVENTS)


def build(path: Path, n: int, persons: int) -> None:
    """Write the synthetic events into a DuckDB workspace at ``path``, clustered."""
    ws = Workspace.open(path)
    ws.events()
    data = synthetic(n, persons)
    ws.store.raw.register("synthetic", data)
    ws.store.raw.execute(
        f"CREATE OR REPLACE TABLE events AS SELECT * FROM synthetic ORDER BY {CLUSTER_ORDER}"
    )
    ws.store.raw.unregister("synthetic")
    ws.close()


def best(call: Callable[[], object], repeat: int) -> tuple[float, object]:
    """The best wall time of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    """Build (or reuse) the data, time lifecycle and stickiness, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--persons", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    folder = args.data or Path(tempfile.mkdtemp(prefix="kundresa_lifecycle_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "lifecycle.duckdb"
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.events, args.persons)
        print(f"built {args.events:,} events in {time.perf_counter() - t0:.1f} s -> {path}")
    print(f"load average before: {os.getloadavg()}")
    with Workspace.open(path) as ws:
        n = ws.store.count("events")
        lifecycle(ws, period="week")  # warm: the file's pages in the OS cache
        seconds, r = best(lambda: lifecycle(ws, period="week"), args.repeat)
        assert isinstance(r, LifecycleResult)
        print(f"lifecycle weekly (posthog), {n:,} events, {len(r.rows)} weeks: {seconds:.3f} s")
        last = r.rows[-2]
        counts = {k: last[k] for k in r.statuses}
        print(f"  week {last['period']}: {counts} pulse {last['pulse']}")
        seconds, _ = best(lambda: lifecycle(ws, period="week", mode="amplitude"), args.repeat)
        print(f"lifecycle weekly (amplitude): {seconds:.3f} s")
        seconds, _ = best(lambda: stickiness(ws, period="week"), args.repeat)
        print(f"stickiness weekly: {seconds:.3f} s")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
