"""The web login under attack, against a live ``kundresa serve`` on 127.0.0.1: a concurrent
burst for one user, a restart, a flood of unknown user names beside the collector."""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kundresa.server._state import ServerState, state_path
from tests import _flood
from tests._server import LiveServer, create_key

PASSWORD = "correct horse battery"


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no csrf field"
    return m.group(1)


def _browser(url: str) -> tuple[httpx.Client, str]:
    """A client holding its own login form's CSRF cookie, and the form's token."""
    c = httpx.Client(base_url=url, timeout=120)
    return c, _csrf(c.get("/login").text)


def _post(c: httpx.Client, csrf: str, user: str, password: str) -> httpx.Response:
    return c.post(
        "/login",
        data={"user": user, "password": password, "csrf": csrf, "next": "/info"},
        follow_redirects=False,
    )


def _checked(r: httpx.Response) -> bool:
    """The password was checked: a failed redirect or a session."""
    return r.status_code == 303


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    db = tmp_path / "logins.duckdb"
    st = ServerState(state_path(db))
    st.set_user("bertil", PASSWORD)
    st.close()
    with LiveServer(db) as srv:
        yield srv


def test_a_concurrent_burst_checks_at_most_the_limit(server: LiveServer) -> None:
    browsers = [_browser(server.url) for _ in range(40)]
    answers: list[httpx.Response | None] = [None] * 40
    start = threading.Barrier(40)

    def attempt(i: int) -> None:
        c, csrf = browsers[i]
        start.wait()
        answers[i] = _post(c, csrf, "bertil", PASSWORD if i == 37 else f"guess {i:02d} xxxxxx")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = [a for a in answers if a is not None]
    assert len(got) == 40
    checked = [i for i, a in enumerate(got) if _checked(a)]
    refused = [a for a in got if a.status_code == 429]
    assert len(checked) <= 5, f"{len(checked)} passwords checked: {checked}"
    assert len(checked) + len(refused) == 40, [a.status_code for a in got]
    assert all(int(a.headers["retry-after"]) >= 1 for a in refused)
    correct = got[37]
    wrong_checked = len([i for i in checked if i != 37])
    if "kundresa_session" in correct.cookies:  # only while the limit was not used up
        assert wrong_checked < 5
    else:
        assert correct.status_code == 429
    if wrong_checked == 5:  # the limit is used up: the right password too is refused now
        c, csrf = _browser(server.url)
        late = _post(c, csrf, "bertil", PASSWORD)
        assert late.status_code == 429
        assert "kundresa_session" not in late.cookies
        c.close()
    for c, _ in browsers:
        c.close()


def test_the_throttle_survives_a_restart(server: LiveServer) -> None:
    c, csrf = _browser(server.url)
    for i in range(5):
        r = _post(c, csrf, "bertil", f"guess {i} xxxxxxxx")
        assert r.status_code == 303
        assert "failed=1" in r.headers["location"]
    c.close()
    server.stop()
    server.start()
    c, csrf = _browser(server.url)
    blocked = _post(c, csrf, "bertil", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 200  # about the 5-minute window
    assert "kundresa_session" not in blocked.cookies
    c.close()


def _batch(n: int) -> dict[str, object]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "batch": [
            {
                "type": "track",
                "event": "Viewed",
                "userId": f"u{i % 7}",
                "messageId": str(uuid.uuid4()),
                "timestamp": now,
            }
            for i in range(n)
        ]
    }


def test_a_login_flood_of_unknown_names_leaves_the_collector_fast(server: LiveServer) -> None:
    write = create_key(server.db, "site")

    slowest: list[tuple[float, float]] = []  # (seconds, when after the flood started)
    flood_at = [0.0]

    def batches(seconds: float) -> list[float]:
        took: list[float] = []
        with httpx.Client(base_url=server.url, auth=(write, ""), timeout=60) as c:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                t = time.perf_counter()
                assert c.post("/v1/batch", json=_batch(20)).status_code == 200
                took.append(time.perf_counter() - t)
                slowest.append((took[-1], t - flood_at[0]))
                time.sleep(0.02)
        return took

    quiet = batches(7)  # as long as the flood phase: both see the machine's own stalls
    slowest.clear()
    flood_at[0] = time.perf_counter()
    flooder = _flood.start(server.url, threads=8, seconds=9, rate=4.0)  # ~32 logins/s
    time.sleep(1.0)
    loud = batches(7)
    out, _ = flooder.communicate(timeout=120)
    flood = json.loads(out)["answers"]

    def p99(xs: list[float]) -> float:
        return statistics.quantiles(xs, n=100)[98] if len(xs) > 1 else xs[0]

    print(
        f"collector /v1/batch (20 events): quiet p50 {statistics.median(quiet) * 1e3:.1f} ms "
        f"p99 {p99(quiet) * 1e3:.1f} ms ({len(quiet)} requests); during the flood "
        f"p50 {statistics.median(loud) * 1e3:.1f} ms p99 {p99(loud) * 1e3:.1f} ms "
        f"({len(loud)} requests; slowest "
        + ", ".join(f"{w * 1e3:.0f} ms at {at:.1f} s" for w, at in sorted(slowest)[-3:])
        + f" after the flood started); flood answers {flood}"
    )
    assert set(flood) <= {"303", "429"}, flood
    assert flood.get("303", 0) <= 20  # the per-address limit: the rest checked no password
    assert sum(flood.values()) > 100  # well beyond the limit: the rest refused at once
    # generous, and relative to this machine's quiet tail when other work loads its 2 cores
    # (before the fix: p99 of seconds, the issue measured 15.6 s)
    bound = max(0.5, 3 * p99(quiet))
    assert p99(loud) < bound, f"collector p99 {p99(loud):.3f} s during the login flood"


def test_the_generated_login_is_in_an_owner_only_file_and_every_file_is_owner_only(
    tmp_path: Path,
) -> None:
    import stat
    import subprocess
    import sys

    from kundresa.synth import synthesize
    from tests._server import wait_loaded

    synth = synthesize(persons=30, seed=5, out=tmp_path / "synth", days=14)
    ws = tmp_path / "ws"
    ws.mkdir()
    db = ws / "shop.duckdb"
    ingest = subprocess.run(
        [sys.executable, "-m", "kundresa.cli", "ingest", str(synth.events_path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stderr
    srv = LiveServer(db)
    srv.start()
    try:
        log = srv.log
        assert log is not None
        login_file = ws / "shop.duckdb.login"
        user, password = (ln.split(": ", 1)[1] for ln in login_file.read_text().splitlines())
        assert user == "admin"
        said = log.read_text()
        assert "shop.duckdb.login" in said  # where the password is
        assert password not in said  # the log never holds it
        c, csrf = _browser(srv.url)
        assert "kundresa_session" in _post(c, csrf, user, password).cookies
        c.close()
        write, read = create_key(db, "site"), create_key(db, "dash", "read")
        with httpx.Client(base_url=srv.url, auth=(write, ""), timeout=60) as w:
            assert w.post("/v1/batch", json=_batch(30)).status_code == 200
        wait_loaded(srv.url, read)

        def modes() -> dict[str, str]:
            return {
                f.name: oct(stat.S_IMODE(f.stat().st_mode))
                for f in ws.iterdir()
                if f != log and f.is_file()
            }

        running = modes()
        # the workspace, its WAL, the server state and its -wal/-shm, the announcement, the login
        for name in ("shop.duckdb", "shop.duckdb.server.sqlite", "shop.duckdb.server.json"):
            assert name in running, running
        assert "shop.duckdb.server.sqlite-wal" in running, running
        assert all(m == "0o600" for m in running.values()), running
    finally:
        srv.stop()
    stopped = modes()
    assert all(m == "0o600" for m in stopped.values()), stopped


def test_an_unknown_user_name_costs_the_same_one_scrypt(tmp_path: Path) -> None:
    """No user enumeration by timing: a wrong password for a known user and any password
    for an unknown one take one scrypt each (the unknown against a dummy hash)."""
    st = ServerState(tmp_path / "s.sqlite")
    st.set_user("bertil", PASSWORD)
    st.login("nobody", "warm the dummy hash")
    known: list[float] = []
    unknown: list[float] = []
    for i in range(6):  # interleaved, so both see the same load on the machine
        for name, into in (("bertil", known), (f"nobody-{i}", unknown)):
            t = time.perf_counter()
            assert st.login(name, "wrong password x") is None
            into.append(time.perf_counter() - t)
    ratio = min(unknown) / min(known)
    print(f"login: known user {min(known) * 1e3:.0f} ms, unknown {min(unknown) * 1e3:.0f} ms")
    assert 0.6 < ratio < 1.5, f"unknown / known user login time {ratio:.2f}"
    st.close()


def test_scrypt_runs_in_a_low_priority_process_of_its_own(tmp_path: Path) -> None:
    """scrypt allocates and frees 32 MB per check; in a starved low-priority thread of the
    server it held the process's memory-map lock while the collector's threads waited (the
    login flood's p99 of 684 ms beside 39 ms without checks, bench/abuse.py, session 15).
    The check now runs in worker processes at nice 19: none in the server's process."""
    import os

    from kundresa.server._logins import LoginGuard

    st = ServerState(tmp_path / "s.sqlite")
    st.set_user("anna", PASSWORD)
    guard = LoginGuard(st, workers=1)
    try:
        assert guard.check("anna", PASSWORD, "127.0.0.1").status == "ok"
        assert guard.check("anna", "wrong", "127.0.0.1").status == "failed"
        workers = list(guard._hash._processes.values())  # type: ignore[attr-defined]
        assert workers
        assert all(p.pid != os.getpid() for p in workers)
        assert all(os.getpriority(os.PRIO_PROCESS, p.pid) == 19 for p in workers)
        # a worker that dies (the OOM killer) is replaced; the check still answers
        workers[0].kill()
        workers[0].join()
        assert guard.check("anna", PASSWORD, "127.0.0.2").status == "ok"
    finally:
        guard.close()
        st.close()
