"""Helpers for the server tests: a live ``kundresa serve`` on 127.0.0.1 in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_key(db: Path, name: str, kind: str = "write") -> str:
    from kundresa.server._state import ServerState, state_path

    st = ServerState(state_path(db))
    _, token = st.create_key(name, kind)
    st.close()
    return token


@dataclass
class LiveServer:
    """``kundresa serve`` as a child process (SIGKILL-able), bound to loopback only."""

    db: Path
    port: int = field(default_factory=free_port)
    extra: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> LiveServer:
        self.log = self.db.with_suffix(f".{self.port}.log")
        env = {**os.environ, "KUNDRESA_DB": str(self.db)}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "kundresa.cli", "serve", "--db", str(self.db)),
                    *("--host", "127.0.0.1", "--port", str(self.port), *self.extra),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        """SIGKILL: no graceful anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM: graceful (commit, load, stitch), then wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_loaded(url: str, read_key: str, timeout: float = 30) -> dict[str, Any]:
    """Wait until nothing is pending and the loader has stitched what it loaded."""
    h = {"Authorization": f"Bearer {read_key}"}
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = httpx.get(url + "/api/v1/collector", headers=h, timeout=10).json()
        idle = last["pending_events"] == 0 and last["queued_requests"] == 0
        if idle and not last["stitch_pending"]:
            return last
        time.sleep(0.2)
    raise AssertionError(f"not loaded in {timeout}s: {last}")


def read_events(db: Path) -> list[dict[str, Any]]:
    """All events of a (stopped) server's workspace."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute(
            "SELECT event_id, person_id, anonymous_id, user_id, type, event, channel, ts, "
            "properties, source FROM events ORDER BY ts, event_id"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def remains(folder: Path, needles: list[str]) -> dict[str, list[str]]:
    """File name -> the needles its raw bytes contain (every file below ``folder``): the
    privacy tests' check that nothing of a person is left in any file the product wrote."""
    found = {}
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            data = f.read_bytes()
            hits = [n for n in needles if n.encode() in data]
            if hits:
                found[f.name] = hits
    return found
