"""Time ingest of N synthetic events (default 10M) and print rows/s.

    .venv/bin/python bench/ingest.py [--events 10000000] [--jsonl-events 1000000]

Peer, side by side: DuckDB loading the same Parquet file with no validation at all
(``CREATE TABLE AS SELECT * FROM read_parquet``): the ratio is the price of validation,
deduplication and quarantine. The data comes from the synthetic generator (realistic
columns and JSON properties), cached under ``bench/.data``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from kundresa import Workspace
from kundresa.synth import generate_events

DATA = Path(__file__).parent / ".data"


def events_file(n: int) -> Path:
    path = DATA / f"events_{n}.parquet"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    parts, total, seed = [], 0, 0
    while total < n:
        table, _ = generate_events(20_000, seed)
        parts.append(table)
        total += table.num_rows
        seed += 1
    table = pa.concat_tables(parts).slice(0, n)
    pq.write_table(table, path, compression="zstd")
    print(f"generated {n:,} events in {time.perf_counter() - t0:.1f} s -> {path}")
    return path


def jsonl_file(parquet: Path, n: int) -> Path:
    path = DATA / f"events_{n}.jsonl"
    if path.exists():
        return path
    rows = pq.read_table(parquet).slice(0, n).to_pylist()
    with path.open("w") as fh:
        for r in rows:
            r["ts"] = r["ts"].isoformat() + "Z"
            r["properties"] = json.loads(r["properties"])
            fh.write(json.dumps(r) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--jsonl-events", type=int, default=1_000_000)
    args = ap.parse_args()
    parquet = events_file(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "peer.duckdb"))
        t0 = time.perf_counter()
        con.execute(f"CREATE TABLE events AS SELECT * FROM read_parquet('{parquet}')")
        peer = time.perf_counter() - t0
        con.close()

        ws = Workspace.open(Path(tmp) / "k.duckdb")
        t0 = time.perf_counter()
        report = ws.ingest([parquet], stitch=False)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        stitched = ws.stitch()
        stitch = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = ws.ingest([parquet], stitch=False)
        reload = time.perf_counter() - t0
        ws.close()

        jsonl = jsonl_file(parquet, args.jsonl_events)
        ws = Workspace.open(Path(tmp) / "j.duckdb")
        t0 = time.perf_counter()
        jreport = ws.ingest([jsonl], stitch=False)
        jload = time.perf_counter() - t0
        ws.close()

    n = report.accepted
    print(f"parquet ingest   {n:,} rows in {load:.1f} s = {n / load:,.0f} rows/s (validated)")
    print(
        f"peer (no checks) {n:,} rows in {peer:.1f} s = {n / peer:,.0f} rows/s; "
        f"ratio {load / peer:.1f}x"
    )
    print(f"stitch + sessions over {n:,} events: {stitch:.1f} s ({stitched.persons:,} persons)")
    print(f"re-ingest (all duplicates) {again.duplicates:,} rows in {reload:.1f} s")
    print(
        f"jsonl ingest     {jreport.accepted:,} rows in {jload:.1f} s = "
        f"{jreport.accepted / jload:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
