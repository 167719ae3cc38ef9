"""The collector beside abuse of the web login: a flood of unknown user names.

    .venv/bin/python bench/abuse.py [--seconds 10] [--rate 5000] [--flood-threads 16]
                                    [--flood-rate 3] [--per-address 20]

One live ``kundresa serve`` (a child process, 127.0.0.1). The collector is driven open loop
at ``--rate`` events/s (batches of 100 Segment calls; latency measured from each request's
scheduled time, so a stall is not hidden), first alone for ``--seconds``, then as long beside
the same traffic of ``GET /healthz`` (a control: what the flood's client costs this machine),
then as long while ``--flood-threads`` threads in another process post ``/login`` with
random unknown user names at ``--flood-rate`` logins/s each (the issue's scenario: 16
threads at ~3 logins/s), then as long while an attacker with a write key of its own posts
empty calls ``{}`` (the issue's amplification: a 450 KB body of 150,000 calls once a second,
``--amp-rate``), then as long while it sends the largest batches allowed (2,500 calls,
``--amp2-rate`` requests/s, default 60: 150,000 calls a second), so that only its key's
token bucket bounds it. The victims' key must see no 429.
``--per-address`` sets the server's per-address login limit: the default (20 per 5 minutes)
refuses the flood from 127.0.0.1 at once; a large value (e.g. 100000) lets it through to the
per-server limit and the bounded scrypt pool, the case of a flood from many addresses.

Prints, per phase: acknowledged events/s, p50/p99/max latency, the server's CPU seconds,
the flood's answers by status, the load average; then the ratios flood / alone. Targets
(issue 14): >= 90 % of the throughput and p99 <= 100 ms during the flood.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests import _flood
from tests._server import LiveServer, create_key

from collector import Sender, batch_body, cpu_seconds, load_avg
from kundresa.server._state import ServerState, state_path


def drive(port: int, key: str, rate: float, seconds: float, senders: int = 4) -> dict[str, Any]:
    """Open-loop batches of 100 at ``rate`` events/s: throughput and latencies."""
    per_s = rate / 100
    total = int(per_s * seconds)
    bodies = [batch_body(100) for _ in range(total)]
    lat: list[float] = []
    worst: list[tuple[float, float]] = []
    ok = [0]
    statuses: Counter[int] = Counter()
    nxt = [0]
    lock = threading.Lock()
    t0 = time.perf_counter() + 0.2

    def run() -> None:
        s = Sender(port, key)
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= total:
                return
            due = t0 + k / per_s
            time.sleep(max(0.0, due - time.perf_counter()))
            status = s.send(bodies[k])
            done = time.perf_counter()
            with lock:
                lat.append(done - due)
                worst.append((done - due, due - t0))
                ok[0] += status == 200
                statuses[status] += 1

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=100)
    return {
        "events_per_s": ok[0] * 100 / wall,
        "acked": ok[0],
        "requests": total,
        "statuses": dict(sorted(statuses.items())),
        "p50_ms": statistics.median(lat) * 1e3,
        "p99_ms": q[98] * 1e3,
        "max_ms": max(lat) * 1e3,
        "worst": [f"{w * 1e3:.0f} ms at {at:.1f} s" for w, at in sorted(worst)[-3:]],
    }


class Served(LiveServer):
    """``kundresa.server.serve`` in a child process with a per-address login limit."""

    def __init__(self, db: Path, per_address: int) -> None:
        super().__init__(db)
        self.per_address = per_address

    def start(self, timeout: float = 60) -> LiveServer:
        code = (
            "import sys; from kundresa.server import serve; "
            "serve(sys.argv[1], port=int(sys.argv[2]), echo=None, "
            "login_per_address=int(sys.argv[3]))"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(self.db), str(self.port), str(self.per_address)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")


def phase(
    srv: LiveServer,
    key: str,
    args: argparse.Namespace,
    flood: str,
    *,
    threads: int = 0,
    rate: float = 0.0,
) -> dict[str, Any]:
    assert srv.proc is not None
    flooder = None
    if flood:
        flooder = _flood.start(
            srv.url,
            threads or args.flood_threads,
            args.seconds + 2.0,
            rate=rate or args.flood_rate,
            path=flood,
        )
        time.sleep(1.0)  # the flood is under way
    cpu0 = cpu_seconds(srv.proc.pid)
    got = drive(srv.port, key, args.rate, args.seconds)
    got["server_cpu_s"] = cpu_seconds(srv.proc.pid) - cpu0
    got["load"] = load_avg()
    if flooder is not None:
        out, _ = flooder.communicate(timeout=300)
        got["flood"] = json.loads(out)
    return got


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name:>6}: {r['events_per_s']:8.0f} events/s ({r['acked']}/{r['requests']} batches "
        f"acked)  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  max {r['max_ms']:7.1f} ms"
        f"  server CPU {r['server_cpu_s']:.1f} s  {r['load']}"
    )
    print(f"        the victims' answers by status: {r['statuses']}")
    print(f"        slowest: {', '.join(r['worst'])}")
    if "flood" in r:
        f = r["flood"]
        print(
            f"        flood: {f['sent']} requests, answers by status {f['answers']}, "
            f"the flood process's CPU {f['cpu_s']} s"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=5000.0, help="collector events/s")
    ap.add_argument("--flood-threads", type=int, default=16)
    ap.add_argument("--flood-rate", type=float, default=3.0, help="logins/s per thread")
    ap.add_argument("--per-address", type=int, default=20, help="server's per-address limit")
    ap.add_argument(
        "--phases",
        default="alone,health,flood,amp,amp2",
        help="which phases to run, in this order (alone and health are the baselines)",
    )
    ap.add_argument("--amp-rate", type=float, default=1.0, help="150,000-call bodies per s")
    ap.add_argument("--amp2-rate", type=float, default=60.0, help="2,500-call bodies per s")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "abuse.duckdb"
        st = ServerState(state_path(db))
        st.set_user("anna", "correct horse battery")
        st.close()
        key = create_key(db, "bench")
        os.environ["FLOOD_KEY"] = create_key(db, "attacker")
        read_key = create_key(db, "dash", "read")
        with Served(db, per_address=args.per_address) as srv:
            print(
                f"collector at {args.rate:.0f} events/s for {args.seconds:.0f} s, alone and "
                f"beside {args.flood_threads} x {args.flood_rate:g} logins/s of unknown "
                f"names (per-address limit {args.per_address}); {os.cpu_count()} cores"
            )
            plans = {
                "alone": {"flood": ""},
                "health": {"flood": "/healthz"},
                "flood": {"flood": "/login"},
                "amp": {
                    "flood": "/v1/batch",
                    "threads": 1,
                    "rate": args.amp_rate,
                    "calls": 150_000,
                },
                "amp2": {
                    "flood": "/v1/batch",
                    "threads": 4,
                    "rate": args.amp2_rate / 4,
                    "calls": 2_500,
                },
            }
            got: dict[str, dict[str, Any]] = {}
            for name in args.phases.split(","):
                plan = dict(plans[name])
                os.environ["FLOOD_CALLS"] = str(plan.pop("calls", 150_000))
                got[name] = phase(srv, key, args, **plan)  # type: ignore[arg-type]
                show(name, got[name])
                stats = httpx.get(srv.url + "/api/v1/collector", auth=(read_key, "")).json()
                print(f"        inbox commits (recent): {stats['inbox_commits']}")
            refused = httpx.get(srv.url + "/api/v1/collector", auth=(read_key, "")).json()
            print(f"        the collector's refusals: {refused.get('refused')}")
        for name, r in got.items():
            for base_name in ("alone", "health"):
                base = got.get(base_name)
                if base is None or name in ("alone", "health"):
                    continue
                print(
                    f" {name} / {base_name}: throughput "
                    f"{r['events_per_s'] / base['events_per_s']:.1%}"
                    f"  p50 {r['p50_ms'] / base['p50_ms']:.2f}x"
                    f"  p99 {r['p99_ms'] / base['p99_ms']:.2f}x"
                )
        print(
            " targets (issue 14): throughput >= 90 % of alone, p99 <= 100 ms during the "
            "login flood and the amplification; the victims' key gets no 429"
        )


if __name__ == "__main__":
    main()
