"""The retention policy erases old data the way ``forget`` does (issue 14).

``kundresa retention-policy --events 400d --quarantine 30d`` is stored in the workspace and
applied at once; a running server applies it at start and periodically, and the CLI goes
through it. Every test greps the raw bytes of the files (DuckDB file and WAL, the server's
SQLite file and WAL) for unique markers of the old rows, and checks that recent rows remain
exactly as they were. Late arrivals older than the horizon are dropped and counted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx

from kundresa import RetentionPolicy, Workspace, apply_retention, set_retention_policy
from tests._server import LiveServer, create_key, read_events, remains, wait_loaded

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
OLD = NOW - dt.timedelta(days=800)  # far before a 400d horizon
RECENT = NOW - dt.timedelta(days=2)
OLD_MARKS = ["OLDMARK-3f9q", "old-user-K7zq", "old-anon-K7zq", "QOLD-8v2m"]
NEW_MARKS = ["NEWMARK-k2p4", "QNEW-1c9x"]


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _events(tag: str, when: dt.datetime, mark: str, user: str, anon: str, n: int) -> list[Any]:
    out: list[Any] = [
        {
            "type": "identify",
            "userId": user,
            "anonymousId": anon,
            "traits": {"email": f"{user}@example.org"},
            "messageId": f"{tag}-identify",
            "timestamp": _iso(when),
        }
    ]
    out += [
        {
            "type": "track",
            "event": "Product Viewed",
            "anonymousId": anon,
            "properties": {"sku": f"sku-{i}", "note": mark},
            "messageId": f"{tag}-track-{i}",
            "timestamp": _iso(when + dt.timedelta(minutes=i + 1)),
        }
        for i in range(n)
    ]
    return out


def _old_and_recent() -> list[Any]:
    """An old person (3 tracks), a recent one (4 tracks), and a person with both."""
    return [
        *_events("old", OLD, "OLDMARK-3f9q", "old-user-K7zq", "old-anon-K7zq", 3),
        *_events("new", RECENT, "NEWMARK-k2p4", "new-user-5t", "new-anon-5t", 4),
        *_events("mixo", OLD, "OLDMARK-3f9q", "mixed-user-2r", "mixed-anon-2r", 2),
        *_events("mixn", RECENT, "NEWMARK-k2p4", "mixed-user-2r", "mixed-anon-2r", 2),
    ]


def _write(path: Path, calls: list[Any], bad: list[str] = ()) -> Path:  # type: ignore[assignment]
    lines = [json.dumps(c) for c in calls] + list(bad)
    path.write_text("\n".join(lines) + "\n")
    return path


def kundresa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KUNDRESA_DB"}
    return subprocess.run(
        [sys.executable, "-m", "kundresa.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


KEPT = (
    "SELECT event_id, person_key, anonymous_id, user_id, ts, type, event, channel, touchpoint, "
    "properties, source, ingested_at FROM events WHERE ts >= TIMESTAMP '{h}' ORDER BY event_id"
)


def _load(db: Path, tmp: Path) -> None:
    """Ingest old and recent calls and two bad rows; backdate one bad row by 40 days."""
    bad = ['{"type": "track", QOLD-8v2m', '{"type": "track", QNEW-1c9x']
    with Workspace.open(db) as ws:
        rep = ws.ingest([_write(tmp / "calls.jsonl", _old_and_recent(), bad)])
        assert (rep.accepted, rep.quarantined) == (15, 2), rep
        ws.store.raw.execute(
            "UPDATE quarantine SET quarantined_at = quarantined_at - INTERVAL 40 DAY "
            "WHERE raw LIKE '%QOLD-8v2m%'"
        )
    assert remains(tmp, OLD_MARKS), "the markers must be findable before retention"


def test_cli_policy_erases_old_rows_and_their_bytes(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    _load(db, tmp_path)
    (tmp_path / "calls.jsonl").unlink()  # only the product's files are grepped
    horizon = (NOW - dt.timedelta(days=400)).isoformat(sep=" ")
    kept_before = _rows(db, KEPT.format(h=horizon))
    recent_person = _rows(
        db,
        "SELECT event_id, person_id, session_id FROM events WHERE user_id = 'new-user-5t' "
        "OR anonymous_id = 'new-anon-5t' ORDER BY event_id",
    )
    assert len(kept_before) == 8
    assert len(recent_person) == 5

    res = kundresa(
        "retention-policy", "--events", "400d", "--quarantine", "30d", "--db", str(db), "--json"
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["policy"] == {"events": "400d", "quarantine": "30d"}
    assert report["deleted"]["events"] == 7  # 4 + 3 calls of 800 days ago
    assert report["deleted"]["quarantine"] == 1
    assert report["deleted"]["identity_keys"] >= 3  # old-user, old-anon, old e-mail hash
    assert report["deleted"]["identities"] >= 3
    assert report["rewritten"] is True
    files = {f["path"]: f for f in report["files"]}
    assert files[str(db)]["bytes_before"] > 0
    assert files[str(db)]["bytes_after"] > 0

    # by SQL: nothing old, the recent rows exactly as they were
    assert _rows(db, f"SELECT count(*) FROM events WHERE ts < TIMESTAMP '{horizon}'") == [(0,)]
    assert _rows(db, KEPT.format(h=horizon)) == kept_before
    assert (
        _rows(
            db,
            "SELECT event_id, person_id, session_id FROM events WHERE user_id = 'new-user-5t' "
            "OR anonymous_id = 'new-anon-5t' ORDER BY event_id",
        )
        == recent_person
    )
    assert _rows(db, "SELECT count(*) FROM identities WHERE identifier LIKE 'old-%'") == [(0,)]
    q = _rows(db, "SELECT raw FROM quarantine")
    assert len(q) == 1
    assert "QNEW-1c9x" in q[0][0]

    # by bytes: no old marker in any file; the recent ones are still found
    assert remains(tmp_path, OLD_MARKS) == {}
    assert remains(tmp_path, NEW_MARKS) == {"k.duckdb": NEW_MARKS}

    # shown without options; parts removed with none, the whole with --off
    shown = kundresa("retention-policy", "--db", str(db))
    assert shown.stdout.strip() == "retention policy: events 400d, quarantine 30d", shown
    res = kundresa("retention-policy", "--quarantine", "none", "--db", str(db), "--json")
    assert json.loads(res.stdout)["policy"] == {"events": "400d", "quarantine": None}
    res = kundresa("retention-policy", "--off", "--db", str(db), "--json")
    assert json.loads(res.stdout)["policy"] == {"events": None, "quarantine": None}
    again = kundresa("retention-policy", "--db", str(db), "--json")
    assert json.loads(again.stdout) == {"events": None, "quarantine": None}


def test_bad_durations_are_one_line_naming_the_option(tmp_path: Path) -> None:
    db = str(tmp_path / "k.duckdb")
    for args, option in (
        (("--events", "30m"), "--events"),  # minutes, not months
        (("--events", "1y"), "--events"),
        (("--quarantine", "soon"), "--quarantine"),
        (("--events", "99999d"), "--events"),
        (("--off", "--events", "3d"), "--off"),
    ):
        res = kundresa("retention-policy", *args, "--db", db)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, (args, lines)
        assert lines[0].startswith(f"error: {option}: "), (args, lines)
        assert "Traceback" not in res.stderr
    assert "400d" in kundresa("retention-policy", "--events", "1y", "--db", db).stderr
    assert not Path(db).exists() or kundresa("retention-policy", "--db", db).stdout.startswith(
        "no retention policy"
    )


def test_late_arrivals_older_than_the_horizon_are_dropped_and_counted(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    with Workspace.open(db) as ws:
        set_retention_policy(ws, RetentionPolicy(events="400d"))
        late = _events("late", OLD, "LATEMARK-6h1w", "late-user-9", "late-anon-9", 3)
        recent = _events("new", RECENT, "NEWMARK-k2p4", "new-user-5t", "new-anon-5t", 2)
        report = ws.ingest([_write(tmp_path / "late.jsonl", [*late, *recent])])
        assert (report.accepted, report.expired, report.quarantined) == (3, 4, 0), report
        assert report.to_dict()["expired"] == 4
        assert "expired 4 (dropped: retention policy)" in str(report)
        assert ws.sql("SELECT count(*) AS n FROM events").to_pylist() == [{"n": 3}]
        assert ws.quarantine().total == 0
    (tmp_path / "late.jsonl").unlink()
    assert remains(tmp_path, ["LATEMARK-6h1w", "late-user-9"]) == {}
    assert remains(tmp_path, ["NEWMARK-k2p4"]) == {"k.duckdb": ["NEWMARK-k2p4"]}


def _status(url: str, read: str) -> dict[str, Any]:
    h = {"Authorization": f"Bearer {read}"}
    got = httpx.get(url + "/api/v1/retention-policy", headers=h, timeout=30)
    assert got.status_code == 200, got.text
    out: dict[str, Any] = got.json()
    return out


def _wait(url: str, read: str, runs: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status = _status(url, read)
    while status["runs"] < runs and time.monotonic() < deadline:
        time.sleep(0.2)
        status = _status(url, read)
    assert status["runs"] >= runs, status
    return status


def test_server_applies_the_policy_at_start_periodically_and_for_the_cli(
    tmp_path: Path,
) -> None:
    db = tmp_path / "k.duckdb"
    _load(db, tmp_path)
    (tmp_path / "calls.jsonl").unlink()
    with Workspace.open(db) as ws:  # stored, not applied: the server applies it at start
        set_retention_policy(ws, RetentionPolicy(events="400d", quarantine="30d"))
    write = create_key(db, "site")
    read = create_key(db, "dash", kind="read")
    server = LiveServer(db, extra=("--retention-interval", "1")).start()
    try:
        first = _wait(server.url, read, 1)
        assert first["policy"] == {"events": "400d", "quarantine": "30d"}
        assert first["interval_seconds"] == 1
        # an inbox row received long ago that no load will reach (its seq is before the
        # checkpoint): the next periodic run erases it
        state = sqlite3.connect(str(db) + ".server.sqlite", timeout=30)
        with state:
            state.execute(
                "INSERT INTO inbox (seq, received_at, source, n, events) VALUES "
                "(0, '2024-01-01T00:00:00Z', 'orphan', 1, '{\"note\": \"INBOXOLD-7k3v\"}')"
            )
        status = _wait(server.url, read, first["runs"] + 2)  # and again, every second
        assert status["last_error"] is None, status
        assert state.execute("SELECT count(*) FROM inbox WHERE seq = 0").fetchone() == (0,)
        state.close()
        assert remains(tmp_path, ["INBOXOLD-7k3v"]) == {}  # not in the SQLite file nor its WAL
        h = {"Authorization": f"Bearer {read}"}
        kept = httpx.post(
            server.url + "/api/v1/sql",
            json={"query": "select count(*) as n from events"},
            headers=h,
        ).json()
        assert kept["rows"] == [{"n": 8}], kept

        # late arrivals through the collector: dropped and counted, their inbox row erased
        late = _events("late", OLD, "SRVLATE-4n8d", "late-user-9", "late-anon-9", 2)
        fresh = _events("fresh", RECENT, "NEWMARK-k2p4", "fresh-user-3", "fresh-anon-3", 1)
        batch = {"batch": [*late, *fresh]}
        assert httpx.post(server.url + "/v1/batch", json=batch, auth=(write, "")).status_code == 200
        stats = wait_loaded(server.url, read)
        assert stats["loader"]["expired"] == 3, stats
        assert stats["loader"]["accepted"] == 2, stats

        # the CLI goes through the server: shows, and sets (the local token only)
        shown = kundresa("retention-policy", "--db", str(db))
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.strip() == "retention policy: events 400d, quarantine 30d"
        shown = kundresa("retention-policy", "--db", str(db), "--json")
        assert json.loads(shown.stdout) == {"events": "400d", "quarantine": "30d"}  # as locally
        denied = httpx.post(
            server.url + "/api/v1/retention-policy", json={"events": "1d"}, headers=h
        )
        assert denied.status_code == 403, denied.text
        bad = kundresa("retention-policy", "--events", "30m", "--db", str(db))
        assert bad.returncode == 2, bad.stderr
        assert bad.stderr.startswith("error: --events: "), bad.stderr
        res = kundresa("retention-policy", "--quarantine", "10d", "--db", str(db), "--json")
        assert res.returncode == 0, res.stderr
        report = json.loads(res.stdout)
        assert report["policy"] == {"events": "400d", "quarantine": "10d"}
        paths = {f["path"] for f in report["files"]}
        sqlite = str(db) + ".server.sqlite"
        assert {str(db), sqlite, sqlite + "-wal"} <= paths, paths
        wal = next(f for f in report["files"] if f["path"] == sqlite + "-wal")
        assert wal["bytes_after"] == 0, wal
        running = remains(tmp_path, [*OLD_MARKS, "SRVLATE-4n8d", "late-user-9", "INBOXOLD-7k3v"])
    finally:
        server.stop()
    horizon = NOW - dt.timedelta(days=400)
    events = read_events(db)
    assert len(events) == 10
    assert all(e["ts"] >= horizon for e in events)
    assert running == {}, f"old bytes remain while serving: {running}"
    assert remains(tmp_path, [*OLD_MARKS, "SRVLATE-4n8d", "late-user-9", "INBOXOLD-7k3v"]) == {}
    assert b"NEWMARK-k2p4" in db.read_bytes()


def test_derived_identities_follow_the_kept_events(make_workspace: Any, tmp_path: Path) -> None:
    """On each engine: a person seen only before the horizon disappears with every identifier;
    a person seen before and after stays one person (the link is still seen); recent events and
    the quarantine within its horizon are kept."""
    ws = make_workspace()
    bad = ['{"type": "track", QNEW-1c9x']
    ws.ingest([_write(tmp_path / "calls.jsonl", _old_and_recent(), bad)])
    before = ws.sql(
        "SELECT event_id, person_id, session_id FROM events WHERE ts >= "
        f"TIMESTAMP '{RECENT.isoformat(sep=' ')}' ORDER BY event_id"
    ).to_pylist()
    set_retention_policy(ws, RetentionPolicy(events="400d", quarantine="30d"))
    report = apply_retention(ws)
    assert report.deleted["events"] == 7
    assert report.deleted["quarantine"] == 0
    assert report.rewritten == (ws.engine == "duckdb")
    ids = ws.sql("SELECT id_type, identifier FROM identities ORDER BY 1, 2").to_pylist()
    assert {r["identifier"] for r in ids if r["id_type"] != "email"} == {
        "mixed-user-2r",
        "mixed-anon-2r",
        "new-user-5t",
        "new-anon-5t",
    }
    persons = ws.sql(
        "SELECT count(DISTINCT person_id) AS n FROM events WHERE user_id = 'mixed-user-2r' "
        "OR anonymous_id = 'mixed-anon-2r'"
    ).to_pylist()
    assert persons == [{"n": 1}]  # the device is still linked to its customer
    after = ws.sql(
        "SELECT event_id, person_id, session_id FROM events ORDER BY event_id"
    ).to_pylist()
    assert [(r["event_id"], r["person_id"]) for r in after] == [
        (r["event_id"], r["person_id"]) for r in before
    ]
    # session ids count a person's sessions: the mixed person's old one is gone, so their
    # recent session is now their first; everyone else's are unchanged
    renumbered = {r["session_id"] for r in after if r["event_id"].startswith("mixn-")}
    assert {s.rsplit("#", 1)[1] for s in renumbered} == {"1"}
    assert [r for r in after if not r["event_id"].startswith("mixn-")] == [
        r for r in before if not r["event_id"].startswith("mixn-")
    ]
    assert ws.quarantine().total == 1
    assert apply_retention(ws).total == 0  # nothing more to erase: nothing rewritten
