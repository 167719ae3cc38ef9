"""A login flood of unknown user names, in a process of its own (so that its threads do not
share a GIL with whoever measures the collector):

    python -m tests._flood URL THREADS SECONDS [RATE_PER_THREAD] [PATH]

prints ``{"answers": {status: count}, "sent": n, "cpu_s": seconds}`` as JSON (``cpu_s``: this
process's own CPU time). Each thread keeps one login
form (its CSRF cookie and token) and posts a new random user name each time, as fast as it
is answered or at ``RATE_PER_THREAD`` logins/s. With a ``PATH`` other than ``/login`` it
sends ``GET PATH`` instead, the same way (a control: the same traffic, no login). With
``PATH`` ``/v1/batch`` it is the collector's amplification attack instead: each request is a
batch of ``$FLOOD_CALLS`` (default 150,000: a 450 KB body) empty calls ``{}``, sent with the
write key in ``$FLOOD_KEY``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx


def flood(
    url: str, threads: int, seconds: float, rate: float = 0.0, path: str = "/login"
) -> dict[str, Any]:
    """Run the flood here (blocking); the answers by status."""
    answers: Counter[int] = Counter()
    lock = threading.Lock()
    end = time.monotonic() + seconds
    amplify = path == "/v1/batch"
    body = b'{"batch":[' + b",".join([b"{}"] * int(os.environ.get("FLOOD_CALLS", "150000"))) + b"]}"
    key = os.environ.get("FLOOD_KEY", "")

    def one() -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            m = None if amplify else re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
            assert amplify or m, "no csrf field"
            next_at = time.monotonic()
            while time.monotonic() < end:
                try:
                    r = (
                        c.post(path, content=body, auth=(key, ""))
                        if amplify
                        else c.get(path)
                        if path != "/login"
                        else c.post(
                            "/login",
                            data={
                                "user": f"nobody-{uuid.uuid4().hex[:12]}",
                                "password": "some password x",
                                "csrf": m.group(1) if m else "",
                            },
                            follow_redirects=False,
                        )
                    )
                    status = r.status_code
                except httpx.HTTPError:
                    status = -1
                with lock:
                    answers[status] += 1
                if rate > 0:
                    next_at += 1.0 / rate
                    time.sleep(max(0.0, next_at - time.monotonic()))

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {
        "answers": {str(k): v for k, v in sorted(answers.items())},
        "sent": answers.total(),
        "cpu_s": round(time.process_time(), 2),
    }


def start(
    url: str, threads: int, seconds: float, rate: float = 0.0, path: str = "/login"
) -> subprocess.Popen[str]:
    """Run the flood in a child process; read its JSON from ``stdout`` when it ends."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests._flood", url, str(threads), str(seconds), str(rate), path],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    rate = float(args[3]) if len(args) > 3 else 0.0
    print(json.dumps(flood(args[0], int(args[1]), float(args[2]), rate, *args[4:5])))
