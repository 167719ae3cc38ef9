"""``forget`` erases every byte (issue 14, privacy): the raw files hold nothing of the person.

Reproduces the data-protection officer's check of issue 14: after ``kundresa forget`` the
raw bytes of the DuckDB file and the server's SQLite state (and their WALs) still held the
person's ids and messageIds, and events acknowledged but not yet loaded, or sent again
later, came back. Here a real server collects the events of two persons, the CLI forgets
one of them *while the server runs* (through the server), the forgotten person's SDK sends
again (a retry with the same messageId, and a new event), the server stops, and every file
in the workspace folder is grepped for every identifier of the person.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests._server import LiveServer, create_key, read_events, remains, wait_loaded

ALICE = {
    "userId": "alice-user-7f3k",
    "anonymousId": "alice-anon-9q2w",
    "email": "alice.forgotten@example.org",
    "phone": "+46701234567",
}


def _calls(person: dict[str, str], tag: str, n: int) -> list[dict[str, object]]:
    ident = {
        "type": "identify",
        "userId": person["userId"],
        "anonymousId": person["anonymousId"],
        "traits": {"email": person["email"], "phone": person["phone"]},
        "messageId": f"{tag}-identify",
        "timestamp": "2026-11-02T10:00:00Z",
    }
    tracks = [
        {
            "type": "track",
            "event": "Product Viewed",
            "anonymousId": person["anonymousId"],
            "properties": {"sku": f"sku-{i}", "customer": {"email": person["email"]}},
            "messageId": f"{tag}-track-{i}",
            "timestamp": f"2026-11-02T10:{i + 1:02d}:00Z",
        }
        for i in range(n)
    ]
    return [ident, *tracks]


def kundresa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kundresa.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_forget_through_the_server_leaves_no_byte_and_no_return(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    write = create_key(db, "site")
    read = create_key(db, "dash", kind="read")
    bob = {k: v.replace("alice", "bob") for k, v in ALICE.items()}
    bob["phone"] = "+46709876543"
    server = LiveServer(db).start()
    try:
        batch = {"batch": [*_calls(ALICE, "alice-m", 4), *_calls(bob, "bob-m", 3)]}
        assert httpx.post(server.url + "/v1/batch", json=batch, auth=(write, "")).status_code == 200
        wait_loaded(server.url, read)
        h = {"Authorization": f"Bearer {read}"}
        mine = (
            "select i.identifier from identities i join identities j using (person_id) "
            f"where j.identifier = '{ALICE['userId']}' and i.id_type in ('email', 'phone')"
        )
        got = httpx.post(server.url + "/api/v1/sql", json={"query": mine}, headers=h).json()
        hashed = [r["identifier"] for r in got["rows"]]
        assert len(hashed) == 2
        assert ALICE["email"] not in hashed  # salted hashes

        # a read key may not erase; the owner's CLI may, through the server
        denied = httpx.post(
            server.url + "/api/v1/forget", json={"identifier": ALICE["email"]}, headers=h
        )
        assert denied.status_code == 403, denied.text
        # an export of the person's events, written through the server (--out), and one
        # of counts only
        people, counts = tmp_path / "out" / "events.csv", tmp_path / "out" / "info.json"
        for name, out in (("events", people), ("info", counts)):
            exported = kundresa(name, "--db", str(db), "--out", str(out))
            # (the server holds the DuckDB file: the command went through it)
            assert exported.returncode == 0, exported.stderr
        assert ALICE["userId"].encode() in people.read_bytes()
        proc = kundresa("forget", ALICE["email"], "--id-type", "email", "--db", str(db), "--json")
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["events"] == 5, report
        assert report["exports"] == [str(people.resolve())], report
        assert not people.exists()
        assert counts.exists()  # no identifier in it: kept
        assert report["tombstones"] >= 3, report
        assert report["rewritten"] == [str(db), f"{db}.server.sqlite"]

        # the person's SDK retries (same messageId) and sends a new event: both dropped
        again = {"batch": [*_calls(ALICE, "alice-m", 1), *_calls(ALICE, "alice-late", 2)]}
        assert httpx.post(server.url + "/v1/batch", json=again, auth=(write, "")).status_code == 200
        stats = wait_loaded(server.url, read)
        # dropped by the collector before any write (the loader's check finds none left)
        assert stats["forgotten_calls"] == 5, stats
        assert stats["loader"]["forgotten"] == 0, stats
        needles = [*ALICE.values(), *hashed, "alice-m-", "alice-late-"]
        running = remains(tmp_path, needles)  # checked while the server runs, too
    finally:
        server.stop()
    events = read_events(db)
    assert {e["user_id"] for e in events if e["user_id"]} == {bob["userId"]}
    assert len(events) == 4  # bob's identify and 3 tracks, untouched

    # every file the product wrote: DuckDB file (+ WAL), server SQLite (+ -wal, -shm), the
    # server file, the server's log
    assert not running, f"bytes of the forgotten person remain while serving: {running}"
    files = sorted(f.name for f in tmp_path.rglob("*") if f.is_file())
    assert "k.duckdb.server.sqlite" in files
    assert "k.duckdb" in files
    found = remains(tmp_path, needles)
    assert not found, f"bytes of the forgotten person remain: {found}"
    assert bob["userId"].encode() in db.read_bytes()  # the search itself can find an id
