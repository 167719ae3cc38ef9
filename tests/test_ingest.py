"""Ingest: formats, validation, quarantine with reasons, idempotence, PII hashing."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kundresa import FileFormatError, InvalidOptionError, Workspace
from kundresa.schema import MAX_EVENT_BYTES

from .conftest import normalise

T0 = "2026-01-05T10:00:00Z"


def _valid(i: int) -> dict[str, Any]:
    return {
        "type": "track",
        "event": ["Product Viewed", "Product Added", "Order Completed"][i % 3],
        "anonymousId": f"a{i % 50}",
        "timestamp": f"2026-01-{5 + i % 20:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
        "messageId": f"m{i}",
        "properties": {"n": i},
    }


def _malformed(kind: str, i: int) -> str:
    """One malformed row of ``kind``; each row unique (``i``) so none is a duplicate."""
    base = _valid(10_000 + i)
    if kind == "invalid_json":
        return '{"type": "track", "event": "X' + str(i)
    if kind == "not_a_json_object":
        return json.dumps([i, "not", "an", "object"])
    if kind == "event_too_large":
        base["properties"] = {"blob": "x" * (MAX_EVENT_BYTES + 10)}
    elif kind == "unknown_call_type":
        base["type"] = "fly"
    elif kind == "missing_event_name":
        del base["event"]
    elif kind == "missing_timestamp":
        del base["timestamp"]
    elif kind == "unparseable_timestamp":
        base["timestamp"] = f"yesterday {i}"
    elif kind == "timestamp_out_of_range":
        base["timestamp"] = "1960-01-01T00:00:00Z"
    elif kind == "missing_identity":
        del base["anonymousId"]
    elif kind == "missing_previous_id":
        base = {"type": "alias", "userId": f"u{i}", "timestamp": T0, "messageId": f"al{i}"}
    elif kind == "unparseable_revenue":
        base["properties"] = {"revenue": f"lots-{i}"}
    elif kind == "invalid_properties":
        base["properties"] = f"not an object {i}"
    else:  # pragma: no cover - a typo in the test
        raise AssertionError(kind)
    return json.dumps(base)


KINDS = [
    "invalid_json",
    "not_a_json_object",
    "event_too_large",
    "unknown_call_type",
    "missing_event_name",
    "missing_timestamp",
    "unparseable_timestamp",
    "timestamp_out_of_range",
    "missing_identity",
    "missing_previous_id",
    "unparseable_revenue",
    "invalid_properties",
]


def write_malformed_file(path: Path, total: int = 1000, bad: int = 137) -> dict[int, str]:
    """A JSONL file of ``total`` rows of which ``bad`` are malformed; returns line -> reason."""
    rng = random.Random(137)
    bad_lines = set(rng.sample(range(1, total + 1), bad))
    expected: dict[int, str] = {}
    lines = []
    k = 0
    for line in range(1, total + 1):
        if line in bad_lines:
            kind = KINDS[k % len(KINDS)]
            expected[line] = kind
            lines.append(_malformed(kind, k))
            k += 1
        else:
            lines.append(json.dumps(_valid(line)))
    path.write_text("\n".join(lines) + "\n")
    return expected


def test_malformed_rows_are_quarantined_with_specific_reasons(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """Issue 2 acceptance: 1,000 rows, 137 malformed -> 863 loaded, 137 quarantined,
    each with its specific reason; loading the file again adds nothing."""
    f = tmp_path / "mixed.jsonl"
    expected = write_malformed_file(f)
    assert Counter(expected.values()).most_common()[-1][1] >= 11  # every kind well represented
    ws = make_workspace()
    first = ws.ingest([f])
    assert (first.accepted, first.duplicates, first.quarantined) == (863, 0, 137)
    q = ws.store.to_arrow(ws.table("quarantine")).to_pylist()
    assert len(q) == 137
    got = {r["row_number"]: r["reason"] for r in q}
    assert got == expected
    assert all(r["raw"] and r["detail"] and r["field"] for r in q)
    assert ws.info().events == 863

    again = ws.ingest([f])
    assert (again.accepted, again.duplicates, again.quarantined) == (0, 863, 137)
    assert ws.info().events == 863
    assert ws.store.count("quarantine") == 137  # quarantine is idempotent too


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "ts": "2026-01-05T10:00:00Z",
            "event": "Product Viewed",
            "anonymous_id": "a1",
            "user_id": None,
            "channel": "web",
            "revenue": None,
            "event_id": "e1",
        },
        {
            "ts": "2026-01-05T10:10:00Z",
            "event": "Product Added",
            "anonymous_id": "a1",
            "user_id": "u1",
            "channel": "web",
            "revenue": None,
            "event_id": "e2",
        },
        {
            "ts": "2026-01-06T12:00:00Z",
            "event": "Order Completed",
            "anonymous_id": "a2",
            "user_id": "u1",
            "channel": "app",
            "revenue": 499.5,
            "event_id": "e3",
        },
    ]


def test_formats_load_the_same_events(tmp_path: Path) -> None:
    """CSV, Parquet, JSON Lines, gzipped JSONL and Segment batch JSON give identical events."""
    rows = _rows()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "e.parquet")
    header = list(rows[0])
    csv_lines = [",".join(header)] + [
        ",".join("" if r[h] is None else str(r[h]) for h in header) for r in rows
    ]
    (tmp_path / "e.csv").write_text("\n".join(csv_lines) + "\n")
    (tmp_path / "e.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with gzip.open(tmp_path / "e.jsonl.gz", "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n")
    batch = {
        "batch": [
            {
                "type": "track",
                "event": r["event"],
                "anonymousId": r["anonymous_id"],
                "userId": r["user_id"],
                "timestamp": r["ts"],
                "messageId": r["event_id"],
                "channel": r["channel"],
                "properties": {} if r["revenue"] is None else {"revenue": r["revenue"]},
            }
            for r in rows
        ]
    }
    (tmp_path / "e.json").write_text(json.dumps(batch))
    cols = ["event_id", "person_id", "ts", "event", "channel", "revenue", "session_id"]
    results = {}
    for name in ["e.parquet", "e.csv", "e.jsonl", "e.jsonl.gz", "e.json"]:
        with Workspace.open(tmp_path / f"{name}.duckdb") as ws:
            report = ws.ingest([tmp_path / name])
            assert report.accepted == 3, (name, report)
            results[name] = normalise(ws.store.to_arrow(ws.table("events").select(cols)), cols)
    first = results["e.parquet"]
    for name, got in results.items():
        assert got == first, name
    assert len({r["person_id"] for r in first}) == 1  # a1 + u1 + a2 -> one person


def test_segment_client_differences_are_normalised(tmp_path: Path) -> None:
    """Traits in context.traits, originalTimestamp, +00:00 vs Z, ms epoch, null ids."""
    calls = [
        {
            "type": "identify",
            "anonymousId": "dev1",
            "userId": None,
            "context": {"traits": {"email": "A@x.se"}},
            "originalTimestamp": "2026-01-05T10:00:00+00:00",
            "messageId": "c1",
        },
        {
            "type": "identify",
            "userId": "u9",
            "traits": {"email": " a@x.se "},
            "timestamp": "2026-01-05T11:00:00.123456Z",
            "messageId": "c2",
        },
        {
            "type": "page",
            "anonymousId": "dev1",
            "name": "Home",
            "timestamp": 1767610800000,
            "messageId": "c3",
            "context": {
                "library": {"name": "analytics.js"},
                "campaign": {"source": "google", "medium": "cpc", "name": "winter"},
            },
        },
        {
            "type": "screen",
            "anonymousId": "dev2",
            "userId": "u9",
            "name": "Cart",
            "timestamp": "2026-01-05T12:00:00Z",
            "messageId": "c4",
            "context": {"library": {"name": "analytics-ios"}},
        },
    ]
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join(json.dumps(c) for c in calls))
    with Workspace.open(tmp_path / "s.duckdb") as ws:
        assert ws.ingest([f]).accepted == 4
        ev = {r["event_id"]: r for r in ws.store.to_arrow(ws.table("events")).to_pylist()}
        assert ev["c1"]["ts"].isoformat() == "2026-01-05T10:00:00"
        assert ev["c2"]["ts"].isoformat() == "2026-01-05T11:00:00.123456"
        assert ev["c3"]["ts"].isoformat() == "2026-01-05T11:00:00"  # ms epoch
        # channel rule: explicit channel > UTM medium (cpc -> ads) > library (analytics.js -> web)
        assert (ev["c3"]["event"], ev["c3"]["touchpoint"], ev["c3"]["channel"]) == (
            "Page Viewed",
            "Home",
            "ads",
        )
        assert (ev["c3"]["utm_source"], ev["c3"]["utm_medium"], ev["c3"]["campaign"]) == (
            "google",
            "cpc",
            "winter",
        )
        assert (ev["c4"]["event"], ev["c4"]["channel"]) == ("Screen Viewed", "app")
        # the same e-mail (case, spaces) joins dev1 to u9; dev2 joins via userId
        assert len({r["person_id"] for r in ev.values()}) == 1


def test_pii_is_hashed_unless_opted_out(tmp_path: Path) -> None:
    """The raw e-mail is nowhere in the store (only in quarantine, which keeps raw rows)."""
    f = tmp_path / "p.jsonl"
    f.write_text(
        json.dumps(
            {
                "type": "identify",
                "userId": "u1",
                "timestamp": T0,
                "traits": {"email": "secret@example.com"},
                "messageId": "x",
            }
        )
    )
    with Workspace.open(tmp_path / "h.duckdb") as ws:
        ws.ingest([f])
        dump = json.dumps(
            [ws.store.to_arrow(ws.table(t)).to_pylist() for t in ("events", "identities")],
            default=str,
        )
        assert "secret@example.com" not in dump
        ids = ws.store.to_arrow(ws.table("identities")).to_pylist()
        email = next(r for r in ids if r["id_type"] == "email")
        assert len(email["identifier"]) == 32
    with Workspace.open(tmp_path / "raw.duckdb", hash_pii=False) as ws:
        ws.ingest([f])
        ids = ws.store.to_arrow(ws.table("identities")).to_pylist()
        assert {"email", "secret@example.com"} <= {v for r in ids for v in r.values()}
    with pytest.raises(InvalidOptionError, match="created with hash_pii=False"):
        Workspace.open(tmp_path / "raw.duckdb", hash_pii=True)
    with Workspace.open(tmp_path / "raw.duckdb") as ws:
        assert ws.hash_pii is False


def test_column_mapping_and_its_errors(tmp_path: Path) -> None:
    f = tmp_path / "own.csv"
    f.write_text("when,what,who\n2026-01-05 10:00:00,Signed Up,cust-1\n")
    with Workspace.open(tmp_path / "m.duckdb") as ws:
        r = ws.ingest([f], mapping={"ts": "when", "event": "what", "user_id": "who"})
        assert r.accepted == 1
        row = ws.store.to_arrow(ws.table("events")).to_pylist()[0]
        assert (row["user_id"], row["event"]) == ("cust-1", "Signed Up")
        with pytest.raises(InvalidOptionError, match="its columns are: when, what, who"):
            ws.ingest([f], mapping={"ts": "time_of_day"})
        xlsx = tmp_path / "x.xlsx"
        xlsx.write_text("")
        with pytest.raises(FileFormatError, match=r"unsupported suffix '\.xlsx'"):
            ws.ingest([xlsx])


def test_malformed_csv_lines_are_quarantined_not_dropped(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(
        "ts,event,anonymous_id\n"  # line 1
        "2026-01-05,a,x\n"  # 2 ok
        "2026-01-05,b\n"  # 3 too few columns
        "2026-01-05,c,z,extra\n"  # 4 too many columns
        "2026-01-06,d,y\n"  # 5 ok
        "someday,e,y\n"  # 6 unparseable timestamp: its line number must survive the rejects
    )
    with Workspace.open(tmp_path / "c.duckdb") as ws:
        r = ws.ingest([f])
        assert (r.accepted, r.quarantined) == (2, 3)
        q = ws.quarantine()
        assert q.by_reason == {"malformed_csv_row": 2, "unparseable_timestamp": 1}
        lines = {row["row_number"]: row["reason"] for row in q.rows}
        assert lines == {3: "malformed_csv_row", 4: "malformed_csv_row", 6: "unparseable_timestamp"}
        assert "someday" in next(row["raw"] for row in q.rows if row["row_number"] == 6)


def test_identify_and_track_with_both_ids_link_them(tmp_path: Path) -> None:
    """Segment rule: any call that carries both userId and anonymousId links them."""
    calls = [
        {"type": "track", "event": "A", "anonymousId": "d1", "timestamp": T0, "messageId": "1"},
        {
            "type": "track",
            "event": "B",
            "anonymousId": "d1",
            "userId": "u1",
            "timestamp": "2026-01-05T10:01:00Z",
            "messageId": "2",
        },
        {
            "type": "page",
            "anonymousId": "d2",
            "userId": "u1",
            "timestamp": "2026-01-05T10:02:00Z",
            "messageId": "3",
        },
    ]
    f = tmp_path / "l.jsonl"
    f.write_text("\n".join(json.dumps(c) for c in calls))
    with Workspace.open(tmp_path / "l.duckdb") as ws:
        report = ws.ingest([f])
        assert report.merged_persons == 1
        assert ws.info().persons == 1


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_chunk_boundaries_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """With 3-row chunks: a duplicate in a later chunk is a duplicate, row numbers stay the
    file's, and every row is accounted for (accepted + duplicates + quarantined = rows)."""
    import kundresa._ingest as ingest_module

    monkeypatch.setattr(ingest_module, "_BATCH_ROWS", 3)
    rows = [
        {
            "event_id": f"e{i}",
            "ts": f"2026-01-05T10:0{i}:00Z" if i != 7 else "bad",
            "event": "View",
            "anonymous_id": "a1",
        }
        for i in range(10)
    ]
    rows.append(dict(rows[1]))  # a duplicate of row 2, in the last chunk
    path = tmp_path / f"c.{suffix}"
    if suffix == "csv":
        path.write_text(
            "event_id,ts,event,anonymous_id\n"
            + "".join(f"{r['event_id']},{r['ts']},{r['event']},{r['anonymous_id']}\n" for r in rows)
        )
        bad_line = 9  # header is line 1
    elif suffix == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
        bad_line = 8
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        bad_line = 8
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        report = ws.ingest([path])
        assert (report.accepted, report.duplicates, report.quarantined) == (9, 1, 1)
        assert report.files[0].rows == 11
        assert [r["row_number"] for r in ws.quarantine().rows] == [bad_line]


def test_column_mapping_and_flat_aliases_work_for_json_too(tmp_path: Path) -> None:
    """Issue 22, defect 3: ``--column event=ev --column ts=when`` quarantined every JSON Lines
    row as ``missing_event_name`` (the mapping was ignored for JSON), and flat JSONL rows
    ignored the aliases CSV honours (``event_name``, ``customer_id``, ``event_time``). Now the
    same rows give the same events from CSV, JSON Lines and a JSON list, and a mapping that
    names a key no row has is an error naming the keys there are."""
    own = [
        {"when": "2026-01-05T10:00:00Z", "what": "Signed Up", "who": "cust-1"},
        {"when": "2026-01-05T11:00:00Z", "what": "Order Completed", "who": "cust-1"},
    ]
    mapping = {"ts": "when", "event": "what", "user_id": "who"}
    (tmp_path / "own.csv").write_text(
        "when,what,who\n" + "".join(f"{r['when']},{r['what']},{r['who']}\n" for r in own)
    )
    (tmp_path / "own.jsonl").write_text("".join(json.dumps(r) + "\n" for r in own))
    (tmp_path / "own.json").write_text(json.dumps(own))
    aliased = [{"event_time": r["when"], "event_name": r["what"], "customer_id": r["who"]}
               for r in own]  # fmt: skip
    (tmp_path / "alias.jsonl").write_text("".join(json.dumps(r) + "\n" for r in aliased))
    (tmp_path / "alias.csv").write_text(
        "event_time,event_name,customer_id\n"
        + "".join(f"{r['when']},{r['what']},{r['who']}\n" for r in own)
    )
    cols = ["event_id", "user_id", "ts", "event", "properties"]
    got = {}
    for name, m in (("own.csv", mapping), ("own.jsonl", mapping), ("own.json", mapping),
                    ("alias.csv", None), ("alias.jsonl", None)):  # fmt: skip
        with Workspace.open(tmp_path / f"{name}.duckdb") as ws:
            report = ws.ingest([tmp_path / name], mapping=m)
            assert (report.accepted, report.quarantined) == (2, 0), (name, report)
            got[name] = normalise(ws.store.to_arrow(ws.table("events").select(cols)), cols)
    assert all(g == got["own.csv"] for g in got.values()), got
    assert sorted(r["event"] for r in got["own.csv"]) == ["Order Completed", "Signed Up"]
    with Workspace.open(tmp_path / "bad.duckdb") as ws:
        with pytest.raises(InvalidOptionError, match=r"no row has the key 'nope'.*what, when, who"):
            ws.ingest([tmp_path / "own.jsonl"], mapping={"ts": "nope"})
        assert ws.store.count("events") == 0
        with pytest.raises(InvalidOptionError, match=r"mapping: 'evnt' is not allowed; use one"):
            ws.ingest([tmp_path / "own.csv"], mapping={"evnt": "what"})  # not silently unused
    mail = tmp_path / "mail.csv"
    mail.write_text("when,what,mail\n2026-01-05T10:00:00Z,Signed Up,A@Example.com\n")
    with Workspace.open(tmp_path / "mail.duckdb") as ws:
        assert ws.ingest([mail], mapping={"ts": "when", "event": "what", "email": "mail"}).accepted
        key = ws.store.raw.execute("SELECT person_key FROM events").fetchone()[0]
        assert key.startswith("email:")
        assert "example" not in key.lower()
