"""Crash + forget (issue 14): a person forgotten while their calls sat in the inbox stays
forgotten through SIGKILLs, restarts and SDK resends, and nobody else loses an event.

The real Segment SDK (segment-analytics-python) sends a mixed load (many persons, and person
P with e-mail, phone, userId and two anonymousIds); the server is SIGKILLed while it takes
load; the loader is held back (``--hold-loader``, tests only) so that P's calls and everyone
else's wait in the inbox; ``kundresa forget`` runs through the server (the CLI forwards);
the server is SIGKILLed again and restarted. Afterwards no byte of P remains in any file of
the workspace folder (DuckDB file and WAL, SQLite state and its WAL, the log), and every
other acknowledged event is stored exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests._server import LiveServer, create_key, read_events, remains, wait_loaded

P = {
    "userId": "p-user-crash-4k2v",
    "anonymousId": "p-anon-crash-8h1d",
    "device2": "p-anon2-crash-3z9q",
    "email": "p.crashforget@example.org",
    "phone": "+46701112233",
}


def sdk(url: str, key: str, errors: list[Any]) -> Any:
    from segment.analytics.client import Client

    return Client(
        key,
        host=url,
        gzip=True,
        max_retries=12,
        upload_interval=0.05,
        on_error=lambda e, batch: errors.append((e, len(batch))),
    )


def send(client: Any, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> list[str]:
    """Enqueue calls (method, args, kwargs) on the SDK; their messageIds."""
    ids = []
    for method, args, kwargs in calls:
        ok, msg = getattr(client, method)(*args, **kwargs)
        assert ok
        ids.append(str(msg["messageId"]))
    return ids


def others(first: int, n: int) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """n other persons: a page view, an identify with e-mail, an order."""
    out: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    for i in range(first, first + n):
        anon, user = f"o-anon-{i}", f"o-user-{i}"
        out += [
            ("page", (None, None, "Home", {"path": "/"}), {"anonymous_id": anon}),
            ("identify", (user, {"email": f"o{i}@example.se"}), {"anonymous_id": anon}),
            ("track", (user, "Order Completed", {"revenue": 100 + i}), {}),
        ]
    return out


def p_first_visit() -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    anon = P["anonymousId"]
    traits = {"email": P["email"], "phone": P["phone"]}
    return [
        ("page", (None, None, "Home", {"path": "/"}), {"anonymous_id": anon}),
        ("identify", (P["userId"], traits), {"anonymous_id": anon}),
        ("track", (P["userId"], "Order Completed", {"revenue": 499, "email": P["email"]}), {}),
    ]


def p_second_device() -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """P on a new device: anonymous views, then a login (identify) linking it to P."""
    anon = P["device2"]
    return [
        ("page", (None, None, "Shoes", {"path": "/shoes"}), {"anonymous_id": anon}),
        ("track", (None, "Product Viewed", {"sku": "s-1"}), {"anonymous_id": anon}),
        ("identify", (P["userId"], {"email": P["email"]}), {"anonymous_id": anon}),
        ("track", (P["userId"], "Cart Viewed", {}), {"anonymous_id": anon}),
    ]


def kundresa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kundresa.cli", *args], capture_output=True, text=True, timeout=300
    )


def pending(url: str, read: str) -> int:
    h = {"Authorization": f"Bearer {read}"}
    return int(httpx.get(url + "/api/v1/collector", headers=h, timeout=10).json()["pending_events"])


def p_hashes(url: str, read: str) -> list[str]:
    """P's salted e-mail and phone hashes as stored (needles for the byte search)."""
    query = (
        "select i.identifier from identities i join identities j using (person_id) "
        f"where j.identifier = '{P['userId']}' and i.id_type in ('email', 'phone')"
    )
    h = {"Authorization": f"Bearer {read}"}
    got = httpx.post(url + "/api/v1/sql", json={"query": query}, headers=h, timeout=30).json()
    return [str(r["identifier"]) for r in got["rows"]]


def test_forget_while_in_the_inbox_survives_sigkill_and_loses_nobody_else(tmp_path: Path) -> None:
    db = tmp_path / "cf.duckdb"
    write, read = create_key(db, "site"), create_key(db, "api", "read")
    errors: list[Any] = []
    srv = LiveServer(db, extra=("--stitch-interval", "0.3"))
    held = LiveServer(db, port=srv.port, extra=("--hold-loader",))
    client = sdk(srv.url, write, errors)
    mine: list[str] = []
    theirs: list[str] = []
    try:
        srv.start()
        # 1. a mixed load, P's first visit among it; loaded and stitched
        theirs += send(client, others(0, 40))
        mine += send(client, p_first_visit())
        client.flush()
        wait_loaded(srv.url, read)
        hashed = p_hashes(srv.url, read)
        assert len(hashed) == 2
        # 2. SIGKILL while the SDK sends and the loader loads; restart with the loader held
        theirs += send(client, others(40, 120))
        time.sleep(0.3)
        srv.kill()
        held.start()
        # 3. P's second device and everyone else's calls wait in the inbox
        mine += send(client, p_second_device())
        theirs += send(client, others(160, 40))
        client.flush()
        assert pending(held.url, read) >= len(p_second_device())
        # 4. forget P through the running server (the CLI forwards)
        proc = kundresa("forget", P["email"], "--id-type", "email", "--db", str(db), "--json")
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["person_id"] is not None, report
        assert report["events"] == len(mine), report
        # 5. more load waits in the inbox; SIGKILL; restart; load everything
        theirs += send(client, others(200, 30))
        client.flush()
        held.kill()
        srv.start()
        theirs += send(client, others(230, 10))
        client.flush()
        wait_loaded(srv.url, read, timeout=60)
    finally:
        client.shutdown()
        srv.stop()
        held.stop()
    assert errors == [], "the SDK gave up on a batch"
    events = read_events(db)
    counts = Counter(str(e["event_id"]) for e in events)
    assert [m for m in mine if m in counts] == [], "an event of the forgotten person is back"
    assert [m for m in theirs if m not in counts] == [], "an acknowledged event was lost"
    assert {m: n for m, n in counts.items() if n > 1} == {}, "an event was stored twice"
    assert len(events) == len(theirs)
    assert all(e["person_id"] is not None for e in events)
    needles = [*P.values(), *hashed, *mine]
    files = {f.name for f in tmp_path.iterdir()}
    assert {"cf.duckdb", "cf.duckdb.server.sqlite"} <= files
    assert remains(tmp_path, needles) == {}, "bytes of the forgotten person remain"
    assert b"o-user-7" in db.read_bytes()  # the search itself can find an id


def p_batch() -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """P's visit with fixed messageIds: what an SDK with a persisted queue sends again."""
    calls = [*p_first_visit(), *p_second_device()]
    return [(m, a, {**kw, "message_id": f"p-msg-{i}-7d1x"}) for i, (m, a, kw) in enumerate(calls)]


def test_a_resend_after_forget_and_sigkill_is_written_nowhere(tmp_path: Path) -> None:
    """The SDK sends P's batch again (same messageIds) while the server is down after a
    SIGKILL; once it is back, the collector acknowledges the resend but writes none of it:
    not to the inbox (file and WAL), not to the store, and the restart does not revive it."""
    db = tmp_path / "rs.duckdb"
    write, read = create_key(db, "site"), create_key(db, "api", "read")
    errors: list[Any] = []
    srv = LiveServer(db, extra=("--stitch-interval", "0.3"))
    held = LiveServer(db, port=srv.port, extra=("--hold-loader",))
    client = sdk(srv.url, write, errors)
    theirs: list[str] = []
    try:
        srv.start()
        theirs += send(client, others(0, 20))
        mine = send(client, p_batch())
        client.flush()
        wait_loaded(srv.url, read)
        hashed = p_hashes(srv.url, read)
        assert len(hashed) == 2
        proc = kundresa("forget", P["userId"], "--db", str(db), "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["events"] == len(mine)
        srv.kill()
        # the resend, and others' calls, wait in the SDK while the server is down
        assert send(client, p_batch()) == mine
        theirs += send(client, others(20, 10))
        time.sleep(0.3)
        held.start()
        client.flush()
        needles = [*P.values(), *hashed, *mine]
        assert remains(tmp_path, needles) == {}, "the resend was written (held loader)"
        h = {"Authorization": f"Bearer {read}"}
        stats = httpx.get(held.url + "/api/v1/collector", headers=h, timeout=10).json()
        assert stats["forgotten_calls"] == len(mine), stats
        assert stats["pending_events"] == 3 * 10, stats  # only the others' calls wait
        held.kill()
        assert remains(tmp_path, needles) == {}, "the resend was written (after SIGKILL)"
        srv.start()
        wait_loaded(srv.url, read)
    finally:
        client.shutdown()
        srv.stop()
        held.stop()
    assert errors == []
    events = read_events(db)
    counts = Counter(str(e["event_id"]) for e in events)
    assert sorted(counts) == sorted(theirs)
    assert set(counts.values()) == {1}
    assert remains(tmp_path, needles) == {}


def test_forget_while_the_server_is_down_covers_its_inbox(tmp_path: Path) -> None:
    """SIGKILLed with P's calls (a new device) acknowledged but not loaded; ``kundresa
    forget`` runs while no server does: it loads that inbox first, so the restart brings
    none of P back, and the SQLite state holds no byte of them even before the restart."""
    db = tmp_path / "dn.duckdb"
    write, read = create_key(db, "site"), create_key(db, "api", "read")
    errors: list[Any] = []
    srv = LiveServer(db, extra=("--stitch-interval", "0.3"))
    held = LiveServer(db, port=srv.port, extra=("--hold-loader",))
    client = sdk(srv.url, write, errors)
    theirs: list[str] = []
    try:
        srv.start()
        theirs += send(client, others(0, 20))
        mine = send(client, p_first_visit())
        client.flush()
        wait_loaded(srv.url, read)
        hashed = p_hashes(srv.url, read)
        srv.kill()
        held.start()
        mine += send(client, p_second_device())
        theirs += send(client, others(20, 20))
        client.flush()
        assert pending(held.url, read) == len(p_second_device()) + 3 * 20
        held.kill()
        proc = kundresa("forget", P["phone"], "--id-type", "phone", "--db", str(db), "--json")
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["events"] == len(mine), report
        assert report["inbox"] >= 1, report
        assert report["rewritten"] == [str(db), f"{db}.server.sqlite"], report
        needles = [*P.values(), *hashed, *mine]
        assert remains(tmp_path, needles) == {}, "bytes of the forgotten person remain"
        srv.start()
        wait_loaded(srv.url, read)
    finally:
        client.shutdown()
        srv.stop()
        held.stop()
    assert errors == []
    counts = Counter(str(e["event_id"]) for e in read_events(db))
    assert sorted(counts) == sorted(theirs)
    assert set(counts.values()) == {1}
    assert remains(tmp_path, needles) == {}
