"""Broken files (issue 22, "Bad files"): each ends in a one-line error (exit 2) or in
quarantine, never a traceback, and the valid rows it holds are not lost. Run through the
real ``kundresa`` command, as a user meets them.

Found by the issue's corpus of 89 broken files; the cases here are the ones it listed that
this module covers: a UTF-8 BOM before the first JSON line (its row was quarantined as
``invalid_json``), ``{}`` in a file named ``.jsonl.gz`` (``BadGzipFile``), a truncated
``.jsonl.gz`` (exit 1, "Aborted." only), a ``.json`` nested 100,000 deep and one call 5,000
deep (``RecursionError``), ~1,000 extra columns ("Max expression depth limit of 1000
exceeded"), random bytes as ``.csv`` and a stray ``\\r`` mid-line (sniffer tracebacks).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kundresa import Workspace

ROW = {"user_id": "u1", "ts": "2026-01-05T10:00:00Z", "event": "Signed Up"}


def ingest(tmp_path: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kundresa", "ingest", name, "--db", "w.duckdb", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def stored(tmp_path: Path) -> int:
    if not (tmp_path / "w.duckdb").exists():
        return 0
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        return ws.store.count("events")


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_a_bom_before_the_first_json_line_is_no_bad_row(tmp_path: Path) -> None:
    rows = [ROW, ROW | {"event": "Order Completed"}]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (tmp_path / "b.jsonl").write_bytes(b"\xef\xbb\xbf" + text.encode())
    proc = ingest(tmp_path, "b.jsonl")
    assert proc.returncode == 0, proc.stderr
    assert (json.loads(proc.stdout)["accepted"], json.loads(proc.stdout)["quarantined"]) == (2, 0)


def test_a_bom_before_a_csv_header_is_no_bad_column(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes(
        b"\xef\xbb\xbfuser_id,ts,event\nu1,2026-01-05T10:00:00Z,Signed Up\n"
    )
    proc = ingest(tmp_path, "b.csv")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["accepted"] == 1


def test_not_gzip_behind_a_gz_name(tmp_path: Path) -> None:
    (tmp_path / "n.jsonl.gz").write_text("{}\n")
    one_line_error(ingest(tmp_path, "n.jsonl.gz"), "n.jsonl.gz", "gzip")


def test_a_truncated_gzip_keeps_the_rows_before_the_cut(tmp_path: Path) -> None:
    body = "".join(json.dumps(ROW | {"event": f"E{i}"}) + "\n" for i in range(2000))
    whole = gzip.compress(body.encode())
    (tmp_path / "t.jsonl.gz").write_bytes(whole[: len(whole) * 2 // 3])
    proc = ingest(tmp_path, "t.jsonl.gz")
    one_line_error(proc, "t.jsonl.gz", "truncated")
    assert stored(tmp_path) > 0  # the rows decoded before the cut are stored, and stitched
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        assert ws.store.raw.execute(
            "SELECT count(*) FROM events WHERE person_id IS NULL"
        ).fetchone() == (0,)


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deep_json_is_quarantined_not_a_recursion_error(tmp_path: Path, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    doc = [ROW, {"type": "track", "event": "X", "userId": "u2",
                 "timestamp": "2026-01-05T10:00:00Z", "properties": {"d": "@"}}]  # fmt: skip
    text = json.dumps(doc).replace('"@"', deep)
    (tmp_path / "d.json").write_text(text)
    proc = ingest(tmp_path, "d.json")
    if proc.returncode == 0:
        report = json.loads(proc.stdout)
        assert report["accepted"] >= 1, report
    else:
        one_line_error(proc, "d.json")
    assert "RecursionError" not in proc.stderr


def test_a_thousand_extra_columns(tmp_path: Path) -> None:
    extra = [f"c{i}" for i in range(1100)]
    head = ",".join(["user_id", "ts", "event", *extra])
    line = ",".join(["u1", "2026-01-05T10:00:00Z", "Signed Up", *("x" for _ in extra)])
    (tmp_path / "w.csv").write_text(head + "\n" + line + "\n")
    proc = ingest(tmp_path, "w.csv")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["accepted"] == 1


def test_random_bytes_named_csv(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_bytes(os.urandom(4096))
    proc = ingest(tmp_path, "r.csv")
    assert "Traceback" not in proc.stderr
    if proc.returncode != 0:
        one_line_error(proc, "r.csv")


def test_a_stray_carriage_return_mid_line(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_bytes(
        b"user_id,ts,event\nu1,2026-01-05T10:00:00Z,Signed Up\nu2,2026-01-05T\r10:00:00Z,Buy\n"
        b"u3,2026-01-05T11:00:00Z,Signed Up\n"
    )
    proc = ingest(tmp_path, "s.csv")
    assert "Traceback" not in proc.stderr
    if proc.returncode != 0:
        one_line_error(proc, "s.csv")
    else:
        report = json.loads(proc.stdout)
        assert report["accepted"] >= 2, report  # the valid rows are kept


def test_a_file_column_named_row(tmp_path: Path) -> None:
    """A Parquet column named ``_row`` raised ``ArrowInvalid``; like CSV's it now loads, the
    value kept in ``properties`` as ``_row_1``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"_row": [7], **{k: [v] for k, v in ROW.items()}}), tmp_path / "r.parquet"
    )
    (tmp_path / "r.csv").write_text("_row,user_id,ts,event\n7,u1,2026-01-05T10:00:00Z,Signed Up\n")
    for name in ("r.parquet", "r.csv"):
        proc = ingest(tmp_path, name)
        assert proc.returncode == 0, proc.stderr
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        props = ws.store.raw.execute("SELECT DISTINCT properties FROM events").fetchall()
    assert {str(json.loads(p[0])["_row_1"]) for p in props} == {"7"}


@pytest.mark.parametrize("name", ["big.csv", "big.jsonl.gz"])
def test_a_huge_line_is_quarantined_with_a_bounded_prefix(tmp_path: Path, name: str) -> None:
    """A CSV line over 2,000,000 bytes failed the whole file (its valid rows lost), and a
    gzip bomb's single 419 MB line was read whole and stored whole in ``quarantine.raw``.
    Now the valid rows load; the huge line is quarantined as ``event_too_large`` with at most
    64 KiB of it kept, the rest never held in memory (JSON lines are read 1 MiB at most)."""
    huge = "y" * 5_000_000
    if name.endswith(".csv"):
        (tmp_path / name).write_text(
            "user_id,ts,event,note\nu1,2026-01-05T10:00:00Z,A,x\n"
            f"u2,2026-01-05T10:00:00Z,B,{huge}\nu3,2026-01-05T11:00:00Z,C,z\n"
        )
    else:
        lines = [ROW, ROW | {"event": "B", "properties": {"note": huge}}, ROW | {"event": "C"}]
        (tmp_path / name).write_bytes(
            gzip.compress("".join(json.dumps(r) + "\n" for r in lines).encode())
        )
    proc = ingest(tmp_path, name)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["accepted"], report["quarantined"]) == (2, 1), report
    assert report["reasons"] == {"event_too_large": 1}
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        (size,) = ws.store.raw.execute("SELECT max(strlen(raw)) FROM quarantine").fetchone()
    assert size <= 64 * 1024
    assert (tmp_path / "w.duckdb").stat().st_size < 5_000_000
