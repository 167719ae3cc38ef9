"""Only true duplicates are dropped (issue 22, defect 1): a row without its own id gets a
content hash over *every* stored field, NULL-safe, so two orders of $10 and $99 by one
customer at one timestamp are two orders; rows repeated within one file are distinct events
(CDNOW_master.txt has 215 such lines, one customer's equal orders on one day, and all 69,659
orders must load); a re-ingest of the same file, or another file with the same rows, stores
nothing twice.

The issue's reproduction: ``printf 'user_id,timestamp,event,revenue\\nu1,2024-01-01T10:00:00Z,
Order Completed,10\\nu1,2024-01-01T10:00:00Z,Order Completed,99\\n' > two.csv && kundresa
ingest two.csv`` reported "duplicates 1" (on CDNOW 775 real orders, $20,408, vanished)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundresa import Workspace

HEAD = ["user_id", "anonymous_id", "timestamp", "event", "revenue", "currency", "campaign",
        "utm_source", "touchpoint", "channel", "plan"]  # fmt: skip


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEAD)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in HEAD})
    return path


def _stored(ws: Workspace) -> int:
    return int(ws.store.raw.execute("SELECT count(*) FROM events").fetchone()[0])


def test_two_orders_at_one_time_are_two_orders(tmp_path: Path) -> None:
    """The issue's file: both orders stored, revenue 109, no duplicate."""
    at = "2024-01-01T10:00:00Z"
    path = _csv(tmp_path / "two.csv", [
        {"user_id": "u1", "timestamp": at, "event": "Order Completed", "revenue": "10"},
        {"user_id": "u1", "timestamp": at, "event": "Order Completed", "revenue": "99"},
    ])  # fmt: skip
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        report = ws.ingest([path])
        assert (report.accepted, report.duplicates) == (2, 0)
        total = ws.store.raw.execute("SELECT sum(revenue) FROM events").fetchone()[0]
        assert total == 109
        again = ws.ingest([path])  # the same file again: nothing new
        assert (again.accepted, again.duplicates) == (0, 2)
        assert _stored(ws) == 2


def test_every_stored_field_tells_rows_apart(tmp_path: Path) -> None:
    """Rows equal but for one stored field (campaign, UTM source, currency, touchpoint,
    channel, a property) are distinct; an identity moved from one id field to the other is
    too (``concat_ws`` skipped NULLs, so ``(x, NULL)`` and ``(NULL, x)`` hashed alike); an
    exact repeat within the file is a second event; the file again adds nothing."""
    at = "2024-01-01T10:00:00Z"
    base = {"user_id": "u1", "timestamp": at, "event": "Order Completed", "revenue": "10"}
    rows = [base, dict(base)]  # one exact repeat: two equal orders
    for k, v in (("campaign", "spring"), ("utm_source", "news"), ("currency", "SEK"),
                 ("touchpoint", "store"), ("channel", "email"), ("plan", "pro")):  # fmt: skip
        rows.append(base | {k: v})
    rows.append({"anonymous_id": "u1", "timestamp": at, "event": "Order Completed",
                 "revenue": "10"})  # fmt: skip
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        report = ws.ingest([_csv(tmp_path / "f.csv", rows)])
        assert (report.accepted, report.duplicates) == (len(rows), 0)
        again = ws.ingest([_csv(tmp_path / "g.csv", rows[::-1])])  # reordered, renamed
        assert (again.accepted, again.duplicates) == (0, len(rows))


_ROW = st.tuples(
    st.sampled_from(["u1", "u2", ""]),
    st.sampled_from(["", "a1"]),
    st.sampled_from([0, 1]),
    st.sampled_from(["Order Completed", "Page Viewed"]),
    st.sampled_from(["", "10", "99"]),
    st.sampled_from(["", "spring"]),
    st.sampled_from(["", "pro"]),
)


@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(_ROW, min_size=1, max_size=10),
    second=st.lists(_ROW, min_size=0, max_size=10),
)
def test_two_files_store_the_multiset_union(
    tmp_path_factory: object,
    first: list[tuple[str, str, int, str, str, str, str]],
    second: list[tuple[str, str, int, str, str, str, str]],
) -> None:
    """Random files from a small domain (many exact repeats, many near-repeats), loaded one
    after the other: each distinct row is stored as often as the file that repeats it most
    (repeats within a file are events; the same rows in the next file are duplicates), and
    accepted + duplicates counts every row with an identity."""
    folder = tmp_path_factory.mktemp("dup")  # type: ignore[attr-defined]
    t0 = dt.datetime(2024, 1, 1, 10)

    def dicts(rows: list[tuple[str, str, int, str, str, str, str]]) -> list[dict[str, str]]:
        return [
            {"user_id": u, "anonymous_id": a,
             "timestamp": (t0 + dt.timedelta(hours=h)).isoformat(),
             "event": e, "revenue": r, "campaign": c, "plan": p}
            for u, a, h, e, r, c, p in rows
        ]  # fmt: skip

    def counted(rows: list[tuple[str, str, int, str, str, str, str]]) -> Counter[tuple[Any, ...]]:
        return Counter(r for r in rows if r[0] or r[1])

    a, b = counted(first), counted(second)
    with Workspace.open(folder / "w.duckdb") as ws:
        one = ws.ingest([_csv(folder / "a.csv", dicts(first))])
        two = ws.ingest([_csv(folder / "b.csv", dicts(second))])
        assert (one.accepted, one.duplicates) == (sum(a.values()), 0)
        assert _stored(ws) == sum((a | b).values())
        assert two.accepted + two.duplicates == sum(b.values())


def test_identical_bad_rows_on_two_lines_are_two_quarantine_rows(tmp_path: Path) -> None:
    """Issue 22, defect 4: the report said "quarantined 69,659" where the quarantine held
    69,404 (identical raw rows were merged). One entry per rejected line, and a re-ingest of
    the same file adds none."""
    bad = {"user_id": "u1", "timestamp": "not a time", "event": "Order Completed"}
    good = {"user_id": "u1", "timestamp": "2024-01-01T10:00:00Z", "event": "Order Completed"}
    path = _csv(tmp_path / "q.csv", [bad, good, bad, bad])
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        report = ws.ingest([path])
        assert (report.accepted, report.quarantined) == (1, 3)
        assert ws.store.count("quarantine") == 3
        assert [r["row_number"] for r in ws.quarantine().rows] == [2, 4, 5]
        again = ws.ingest([path])
        assert again.quarantined == 3
        assert ws.store.count("quarantine") == 3


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_repeats_are_numbered_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """With 3-row chunks, an order repeated in every chunk is stored once per repeat, and
    the file again (in other chunks: 2 rows) adds nothing."""
    import kundresa._ingest as ingest_module

    order = {"user_id": "u1", "ts": "2024-01-01T10:00:00Z", "event": "Order Completed",
             "revenue": "10"}  # fmt: skip
    rows = [order if i % 2 == 0 else order | {"revenue": str(i)} for i in range(10)]
    path = tmp_path / f"r.{suffix}"
    if suffix == "csv":
        path.write_text("user_id,ts,event,revenue\n" + "".join(
            f"{r['user_id']},{r['ts']},{r['event']},{r['revenue']}\n" for r in rows))  # fmt: skip
    elif suffix == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setattr(ingest_module, "_BATCH_ROWS", 3)
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        report = ws.ingest([path])
        assert (report.accepted, report.duplicates) == (10, 0)
        monkeypatch.setattr(ingest_module, "_BATCH_ROWS", 2)
        again = ws.ingest([path])
        assert (again.accepted, again.duplicates) == (0, 10)
        assert ws.store.raw.execute("SELECT sum(revenue) FROM events").fetchone()[0] == 75


def _cdnow_shaped(path: Path) -> tuple[int, float]:
    """A file shaped as lifetimes' CDNOW_master.txt: a header, columns padded with runs of
    spaces, CRLF line ends, dates as YYYYMMDD, one customer's equal orders repeated on one
    day, and equal customers and days with other amounts. Returns (orders, revenue)."""
    lines = [" customer_id  date number_of_cds  dollar_value"]
    total = 0.0
    n = 0
    for c in range(1, 41):
        for day, cds, value in ((1, 1, 11.77), (12, 1, 12.00), (12, 5, 77.00), (12, 1, 12.00)):
            if (c + day) % 3 == 0:
                continue
            lines.append(f" {c:05d} 199701{day:02d} {cds:>2d} {value:>8.2f}")
            total += value
            n += 1
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return n, round(total, 2)


def test_a_cdnow_shaped_file_loads_every_order(tmp_path: Path) -> None:
    """Issue 22's acceptance on the shape of CDNOW_master.txt (the real file, read from the
    lifetimes 0.11.3 wheel, gives 69,659 orders and $2,500,315.63: see the closing note):
    ``kundresa ingest CDNOW_master.txt --timestamp-format %Y%m%d --set event="Order
    Completed" --column revenue=dollar_value`` loads every order, repeated lines included,
    with no hand preparation; ``customer_id`` and ``date`` are aliases of user_id and ts."""
    import subprocess
    import sys

    f = tmp_path / "CDNOW_master.txt"
    orders, revenue = _cdnow_shaped(f)
    args = [sys.executable, "-m", "kundresa", "ingest", str(f), "--db", str(tmp_path / "c.duckdb"),
            "--timestamp-format", "%Y%m%d", "--set", "event=Order Completed",
            "--column", "revenue=dollar_value", "--json"]  # fmt: skip
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["accepted"], report["duplicates"], report["quarantined"]) == (orders, 0, 0)
    with Workspace.open(tmp_path / "c.duckdb") as ws:
        got = ws.store.raw.execute(
            "SELECT count(*), round(sum(revenue), 2), count(DISTINCT user_id), min(ts), "
            "any_value(event), max(properties) FROM events"
        ).fetchone()
    assert got[:3] == (orders, revenue, 40)
    assert got[3] == dt.datetime(1997, 1, 1)
    assert got[4] == "Order Completed"
    assert got[5] == '{"number_of_cds":"5"}'


def test_timestamp_format_timezone_and_constants(tmp_path: Path) -> None:
    """``--timestamp-format`` reads every text time with strptime codes (a value that does
    not match is quarantined, naming the format); ``--timezone`` places times without an
    offset (an ISO offset still wins); ``--set`` sets a field or a property on every row;
    bad options are one-line errors naming the option."""
    from kundresa import InvalidOptionError

    f = tmp_path / "d.csv"
    f.write_text("user_id,when,plan\nu1,05/01/2026 10:00,pro\nu1,2026-01-05,pro\n")
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        r = ws.ingest([f], mapping={"ts": "when"}, timestamp_format="%d/%m/%Y %H:%M",
                      timezone="Europe/Stockholm",
                      constants={"event": "Visit", "properties.src": "crm"})  # fmt: skip
        assert (r.accepted, r.quarantined) == (1, 1)
        row = ws.store.raw.execute("SELECT ts, event, properties FROM events").fetchone()
        assert row[0] == dt.datetime(2026, 1, 5, 9)  # 10:00 in Stockholm (CET) is 09:00 UTC
        assert row[1] == "Visit"
        assert json.loads(row[2]) == {"plan": "pro", "src": "crm"}
        detail = ws.quarantine().rows[0]["detail"]
        assert "does not match the format %d/%m/%Y %H:%M" in detail
        g = tmp_path / "z.csv"
        g.write_text("user_id,ts,event\nu2,2026-06-01T12:00:00+02:00,A\nu2,2026-06-01 12:00,B\n")
        ws.ingest([g], timezone="Europe/Stockholm")
        got = dict(
            ws.store.raw.execute("SELECT event, ts FROM events WHERE user_id = 'u2'").fetchall()
        )
        assert got == {"A": dt.datetime(2026, 6, 1, 10), "B": dt.datetime(2026, 6, 1, 10)}
        for kw, message in (
            ({"timestamp_format": "%Q"}, "--timestamp-format: '%Q' is not allowed"),
            ({"timezone": "Mars/Base"}, "--timezone: 'Mars/Base' is not allowed"),
            ({"constants": {"ts": "x"}}, "--set: 'ts' is not allowed"),
            ({"constants": {"evnt": "x"}}, "--set: 'evnt' is not allowed; use one of: event_id"),
        ):
            with pytest.raises(InvalidOptionError, match=message):
                ws.ingest([f], **kw)  # type: ignore[arg-type]
