"""Crash test: a load generator sends batches while the server is SIGKILLed and restarted;
afterwards every acknowledged messageId is in the store exactly once.

Bounded: 3 kills, loopback only. The generator behaves like an SDK: a batch that got no
200 (connection reset, refused, 5xx) is sent again, same messageIds, once the server is
back; so some batches reach the store twice (stored, then killed before the answer) and
must be deduplicated.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from tests._server import LiveServer, create_key, read_events, wait_loaded

KILLS = 3
BATCH = 50


class Generator(threading.Thread):
    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.key = key
        self.acked: list[str] = []
        self.attempts = 0
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        client = httpx.Client(auth=(self.key, ""), timeout=5)
        pending: list[dict[str, object]] | None = None
        n = 0
        while not self.stop.is_set():
            if pending is None:
                n += 1
                pending = [
                    {
                        "type": "track",
                        "event": "Crash Test",
                        "messageId": str(uuid.uuid4()),
                        "anonymousId": f"gen-{n % 7}",
                        "timestamp": "2026-01-05T10:00:00Z",
                        "properties": {"batch": n},
                    }
                    for _ in range(BATCH)
                ]
            self.attempts += 1
            try:
                r = client.post(self.url + "/v1/batch", json={"batch": pending})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                self.acked.extend(str(e["messageId"]) for e in pending)
                pending = None
            else:
                self.failures += 1
                time.sleep(0.05)
        client.close()


def test_sigkill_loses_no_acknowledged_event_and_stores_none_twice(tmp_path: Path) -> None:
    db = tmp_path / "crash.duckdb"
    key, read = create_key(db, "gen"), create_key(db, "api", "read")
    srv = LiveServer(db, extra=("--stitch-interval", "0.3"))
    gen = Generator(srv.url, key)
    try:
        srv.start()
        gen.start()
        for i in range(KILLS):
            # let it take load for a while (loads and stitches happen meanwhile), then kill -9
            t_end = time.monotonic() + 1.5 + 0.4 * i
            while time.monotonic() < t_end:
                time.sleep(0.05)
            srv.kill()
            time.sleep(0.2)
            srv.start()
        time.sleep(1.0)
        gen.stop.set()
        gen.join(timeout=30)
        wait_loaded(srv.url, read, timeout=60)
    finally:
        gen.stop.set()
        srv.stop()
    assert not gen.is_alive()
    assert srv.proc is not None
    # the last stop was graceful (uvicorn re-raises SIGTERM after its shutdown)
    assert srv.proc.returncode in (0, -15)
    assert len(gen.acked) >= 10 * BATCH, "the generator should have got through"
    assert gen.failures >= KILLS, "every kill should have failed at least one request"
    rows = read_events(db)
    counts = Counter(r["event_id"] for r in rows)
    missing = [m for m in gen.acked if m not in counts]
    assert missing == []
    twice = {m: n for m, n in counts.items() if n > 1}
    assert twice == {}
    # and they are stitched (the loader catches up after each restart)
    assert all(r["person_id"] is not None for r in rows)
