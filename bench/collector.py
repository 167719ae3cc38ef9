"""Sustained HTTP ingest into ``kundresa serve``: batches of 100 Segment calls.

    .venv/bin/python bench/collector.py [--seconds 15] [--clients 8] [--rate 10000]

1. Throughput: ``--clients`` keep-alive connections send pre-built batches (unique
   messageIds) as fast as the server acknowledges them; a 200 means fsynced in the inbox.
   Reports durable events/s, and how long the loader then needs to have every event in the
   event store, validated and stitched (end-to-end events/s).
2. Latency at a fixed rate (default 10,000 events/s = 100 requests/s, open loop: latency is
   measured from each request's scheduled time, so a stall is not hidden): p50/p99/max.
3. Where the time goes: CPU milliseconds per batch of each server thread (event loop =
   request path, inbox writer, loader; from /proc/<pid>/task/<tid>/stat) and of the load
   generator itself (this process), the cost of one group commit (fsync) and of parsing +
   normalising one batch, measured in this process.

Peers, side by side, same requests, same client, same uvicorn (uvloop + httptools):
- bare: parses the JSON and answers 200, stores nothing (the framework's ceiling);
- fsync: parses, appends the body to a file and fsyncs it before answering 200, one fsync
  per request, no database (the ceiling of durable-per-request on this disk).

The load generator shares the 2 cores with the server (and, on a shared machine, with
everyone else): every phase prints the load average, and the CPU split shows the server's
share. Figures are a lower bound.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests._server import LiveServer, create_key, free_port

BARE_APP = """
import asyncio, os
try:
    from orjson import loads
except ImportError:
    from json import loads
FSYNC = os.environ.get("PEER_FSYNC")
fd = os.open(FSYNC, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if FSYNC else None

def store(body):
    os.write(fd, body)
    os.fsync(fd)

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        msg = await receive()
        body += msg.get("body", b"")
        more = msg.get("more_body", False)
    if body:
        loads(body)
        if fd is not None:
            await asyncio.get_running_loop().run_in_executor(None, store, body)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"success": true}'})
"""


def batch_body(n: int = 100) -> bytes:
    now = "2026-01-05T10:00:00.000Z"
    calls = [
        {
            "type": "track",
            "event": "Viewed Product",
            "messageId": str(uuid.uuid4()),
            "anonymousId": f"bench-{i % 500}",
            "timestamp": now,
            "properties": {"sku": f"SKU-{i}", "price": 199.0, "category": "shoes"},
            "context": {"library": {"name": "analytics.js", "version": "2.0"}},
        }
        for i in range(n)
    ]
    return json.dumps({"batch": calls, "sentAt": now}).encode()


class Sender:
    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, body: bytes) -> int:
        for _ in range(3):
            try:
                self.conn.request(
                    "POST",
                    "/v1/batch",
                    body,
                    {"Authorization": self.auth, "Content-Type": "application/json"},
                )
                r = self.conn.getresponse()
                r.read()
                return r.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return 0


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """CPU seconds (user + system) of a process, or of one of its threads."""
    where = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    fields = Path(where).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_avg() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def start_peer(tmp: Path, fsync: bool) -> tuple[subprocess.Popen[bytes], int]:
    bare = tmp / "bare_app.py"
    bare.write_text(BARE_APP)
    port = free_port()
    env = {**os.environ, "PEER_FSYNC": str(tmp / "peer.log") if fsync else ""}
    peer = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port), "--log-level",
         "warning", "--no-access-log"],
        cwd=tmp, env=env,
    )  # fmt: skip
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            break
        except OSError:
            time.sleep(0.1)
    return peer, port


def throughput(port: int, key: str, bodies: list[bytes], clients: int, seconds: float) -> dict:
    acked = [0] * clients
    statuses: dict[int, int] = {}
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker(w: int) -> None:
        s = Sender(port, key)
        i = w
        while time.monotonic() < stop and i < len(bodies):
            st = s.send(bodies[i])
            with lock:
                statuses[st] = statuses.get(st, 0) + 1
            if st == 200:
                acked[w] += 1
            i += clients

    t0 = time.monotonic()
    c0 = time.process_time()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    return {
        "requests": sum(acked),
        "events": 100 * sum(acked),
        "wall": wall,
        "statuses": statuses,
        "client_cpu": time.process_time() - c0,
    }


def latency(port: int, key: str, bodies: list[bytes], rate: int, seconds: float) -> dict:
    per_second = rate / 100
    n = int(per_second * seconds)
    interval = 1 / per_second
    lat: list[float] = []
    lock = threading.Lock()
    t0 = time.monotonic() + 0.2
    nxt = iter(range(n))

    def worker() -> None:
        s = Sender(port, key)
        while True:
            with lock:
                i = next(nxt, None)
            if i is None:
                return
            due = t0 + i * interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            st = s.send(bodies[i])
            done = time.monotonic()
            if st == 200:
                with lock:
                    lat.append(done - due)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    q = statistics.quantiles(lat, n=100) if len(lat) > 2 else [float("nan")] * 99
    return {
        "requests": n,
        "ok": len(lat),
        "p50_ms": 1000 * q[49],
        "p99_ms": 1000 * q[98],
        "max_ms": 1000 * lat[-1] if lat else float("nan"),
    }


def micro(tmp: Path) -> dict:
    from kundresa._pii import PiiRules, Scrubber
    from kundresa.server._collector import (
        MAX_BATCH_BYTES,
        normalise_call,
        parse_body,
        received_now,
        split_calls,
    )
    from kundresa.server._state import ServerState

    body = batch_body()
    pii = Scrubber(PiiRules(), "bench")  # as the server: the workspace's personal-data rules
    t0 = time.perf_counter()
    for _ in range(200):
        items = split_calls(parse_body(body, None, limit=MAX_BATCH_BYTES), "batch")
        r = received_now()
        lines = [normalise_call(i, r, pii) for i in items]
    parse_ms = (time.perf_counter() - t0) / 200 * 1000
    st = ServerState(tmp / "micro.sqlite")
    row = (received_now(), "bench", 100, "\n".join(lines))
    t0 = time.perf_counter()
    for _ in range(100):
        st.append_inbox([row])
    commit_ms = (time.perf_counter() - t0) / 100 * 1000
    return {"parse_normalise_ms_per_batch": parse_ms, "group_commit_ms": commit_ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--rate", type=int, default=10_000, help="events/s for the latency run")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kundresa-bench-"))
    db = tmp / "bench.duckdb"
    key = create_key(db, "bench")
    read = create_key(db, "bench-read", "read")
    need = int(args.seconds * 1500) + int(args.rate / 100 * 10) + 100
    print(f"building {need:,} batches of 100 calls ...", flush=True)
    bodies = [batch_body() for _ in range(need)]
    print(f"one batch: {len(bodies[0]):,} bytes of JSON; {os.cpu_count()} cores; {load_avg()}")
    stats_url = "/api/v1/collector"
    auth = {"Authorization": f"Bearer {read}"}

    # one key sends everything here: no per-key rate limit (it bounds one key's share)
    extra = ("--max-pending-events", "100000000", "--key-rate", "0")
    srv = LiveServer(db, extra=extra).start()
    try:
        assert srv.proc is not None
        pid = srv.proc.pid
        st = httpx.get(srv.url + stats_url, headers=auth).json()
        tids = {
            "event loop (requests)": pid,
            "inbox writer (fsync)": int(st["inbox_commits"]["thread_id"]),
            "loader (validate, store; nice 10)": int(st["loader"]["thread_id"]),
        }
        cpu0 = cpu_seconds(pid)
        t0 = {k: cpu_seconds(pid, t) for k, t in tids.items()}
        tp = throughput(srv.port, key, bodies, args.clients, args.seconds)
        cpu1 = cpu_seconds(pid)
        t1 = {k: cpu_seconds(pid, t) for k, t in tids.items()}
        n = max(tp["requests"], 1)
        durable = tp["events"] / tp["wall"]
        print(
            f"durable ingest: {durable:,.0f} events/s ({tp['requests']:,} batches in "
            f"{tp['wall']:.1f} s, {args.clients} keep-alive clients, statuses "
            f"{tp['statuses']}); {load_avg()}"
        )
        server_ms = 1000 * (cpu1 - cpu0) / n
        client_ms = 1000 * tp["client_cpu"] / n
        split = ", ".join(f"{k} {1000 * (t1[k] - t0[k]) / n:.2f}" for k in tids)
        print(
            f"  CPU ms per batch: server {server_ms:.2f} ({split}); load generator "
            f"{client_ms:.2f}; server share {server_ms / (server_ms + client_ms):.0%}; "
            f"CPU used {(cpu1 - cpu0 + tp['client_cpu']) / tp['wall']:.2f} of "
            f"{os.cpu_count()} cores"
        )
        t_load = time.monotonic()
        from tests._server import wait_loaded

        wait_loaded(srv.url, read, timeout=600)
        drain = time.monotonic() - t_load
        e2e = tp["events"] / (tp["wall"] + drain)
        print(
            f"in the event store (validated, stitched) {drain:.1f} s after the last ack: "
            f"end-to-end {e2e:,.0f} events/s"
        )
        lat = latency(srv.port, key, bodies[tp["requests"] + 10 :], args.rate, 10)
        commits = httpx.get(srv.url + stats_url, headers=auth).json()["inbox_commits"]
        print(
            f"at {args.rate:,} events/s for 10 s: p50 {lat['p50_ms']:.1f} ms, p99 "
            f"{lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms ({lat['ok']}/{lat['requests']} "
            f"ok); {load_avg()}"
        )
        print(
            f"  group commits (fsync), last {commits['commits']:.0f}: p50 {commits['p50_ms']} "
            f"ms, p99 {commits['p99_ms']} ms, max {commits['max_ms']} ms, "
            f"{commits['requests_per_commit']} requests per commit"
        )
    finally:
        srv.stop()

    for fsync in (False, True):
        name = "fsync per request" if fsync else "bare, stores nothing"
        peer, port = start_peer(tmp, fsync)
        try:
            ptp = throughput(port, key, bodies, args.clients, min(args.seconds, 8))
            peer_rate = ptp["events"] / ptp["wall"]
            plat = latency(port, key, bodies, args.rate, 10) if fsync else None
        finally:
            peer.terminate()
            peer.wait()
        line = (
            f"peer uvicorn ({name}): {peer_rate:,.0f} events/s; kundresa durable / peer = "
            f"{durable / peer_rate:.2f}"
        )
        if plat is not None:
            line += (
                f"; at {args.rate:,} events/s p50 {plat['p50_ms']:.1f} ms, p99 "
                f"{plat['p99_ms']:.1f} ms (kundresa / peer p99 = "
                f"{lat['p99_ms'] / plat['p99_ms']:.2f})"
            )
        print(line + f"; {load_avg()}")
    m = micro(tmp)
    print(
        f"in-process: parse + normalise {m['parse_normalise_ms_per_batch']:.2f} ms per batch; "
        f"one fsynced group commit {m['group_commit_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
