"""The web login's guard: throttles stored in the server state and a small pool for scrypt.

Every password check is first *reserved* in the server state (SQLite, one ``BEGIN
IMMEDIATE`` transaction, so concurrent requests and several processes cannot overshoot, and a
restart does not forget): per user name, per client address and for the whole server, each
within its window. A refused reservation is answered 429 with ``Retry-After`` and checks no
password. A successful login gives back its own reservation and forgives the user name's
earlier failures. The reservation runs in a small thread pool, the scrypt check in a pool of
``workers`` processes at the lowest CPU priority (never on the event loop that answers the
collector, and never in the server's own process: a starved low-priority thread there would
hold the process's memory-map lock, which scrypt's 32 MB allocation and release take, while
the collector's threads wait for it); when ``queue`` attempts are already in flight a
further one is answered 429 at once instead of waiting. An unknown user name costs the same
single scrypt (against a dummy hash) as a known one, inside the same bound.

>>> import tempfile, pathlib
>>> from kundresa.server._state import ServerState
>>> st = ServerState(pathlib.Path(tempfile.mkdtemp()) / "s.sqlite")
>>> guard = LoginGuard(st, per_user=2, workers=1)
>>> [guard.check("bo", "wrong password", "127.0.0.1").status for _ in range(3)]
['failed', 'failed', 'throttled']
>>> guard.close()
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context

from kundresa.server._state import (
    _DUMMY,
    _DUMMY_LOCK,
    ServerState,
    _dummy_hash,
    hash_password,
    verify_password,
)

__all__ = ["LoginGuard", "LoginOutcome"]


@dataclass(frozen=True)
class LoginOutcome:
    """What one login attempt came to: ``ok`` (with the session), ``failed`` (password
    checked, wrong) or ``throttled`` (no password checked; retry after ``retry_after``
    seconds). An attempt beyond the pool's bound gets no outcome (:meth:`LoginGuard.submit`
    returns None).

    >>> LoginOutcome("throttled", retry_after=1).session is None
    True
    """

    status: str
    session: tuple[str, str] | None = None
    retry_after: int = 0


def _lower_priority() -> None:
    """Give this (scrypt worker) process the lowest CPU priority, so that scrypt yields
    the cores to the collector."""
    # not allowed: the bound still holds
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, 0, 19)


def _scrypt_pool(workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: the server has threads (a forked child could inherit a held lock)
    return ProcessPoolExecutor(
        max(workers, 1), mp_context=get_context("spawn"), initializer=_lower_priority
    )


class LoginGuard:
    """Throttled, bounded password checks for the web login (see the module docstring)."""

    def __init__(
        self,
        state: ServerState,
        *,
        per_user: int = 5,
        per_address: int = 20,
        window: float = 300.0,
        per_server: int = 30,
        server_window: float = 60.0,
        workers: int = 2,
        queue: int = 4,
    ) -> None:
        self.state = state
        self.per_user, self.per_address, self.window = per_user, per_address, window
        self.per_server, self.server_window = per_server, server_window
        self.queue = max(queue, workers, 1)
        # two pools: the reservations and sessions (short SQLite transactions) at normal
        # priority, never holding the database's write lock while starved; scrypt alone in
        # processes at the lowest priority (started on the first check, or by warm())
        self._pool = ThreadPoolExecutor(self.queue, thread_name_prefix="kundresa-login")
        self._workers = max(workers, 1)
        self._hash = _scrypt_pool(self._workers)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._salt = ""
        #: scope -> until when (time.monotonic) it is known to be full: refused in memory,
        #: without a transaction, while a flood goes on
        self._full: dict[str, float] = {}

    def warm(self) -> None:
        """Make the dummy hash (and read the address salt) in the pool, ahead of the first
        unknown user name."""
        self._pool.submit(self._prepare)

    def _prepare(self) -> None:
        self._scope_salt()
        with _DUMMY_LOCK:  # made in a worker process (also starts it)
            if not _DUMMY:
                _DUMMY.append(self._hash.submit(hash_password, secrets.token_hex(16)).result())

    def _verify(self, password: str, stored: str) -> bool:
        """One scrypt check in the worker processes (a broken pool, e.g. a worker killed
        by the OOM killer, is replaced once)."""
        for attempt in (1, 2):
            try:
                return self._hash.submit(verify_password, password, stored).result()
            except BrokenProcessPool:
                if attempt == 2:
                    raise
                with self._lock:
                    self._hash = _scrypt_pool(self._workers)
        raise AssertionError("unreachable")

    def _scope_salt(self) -> str:
        # user names and addresses are stored only as salted hashes (fixed size, no raw IP)
        if not self._salt:
            self._salt = self.state.setting("login_salt", secrets.token_hex(16))
        return self._salt

    def _scope(self, kind: str, value: str) -> str:
        digest = hashlib.sha256(f"{self._scope_salt()}:{kind}:{value}".encode()).hexdigest()
        return f"{kind}:{digest[:32]}"

    def refused(self, user: str, address: str) -> int:
        """Seconds to wait when the user name, the address or the server is known to be
        throttled (0 when not known: then the pool reserves in the state). Cheap: call it on
        the event loop."""
        if not self._salt:
            return 0
        now = time.monotonic()
        scopes = (self._scope("user", user), self._scope("addr", address), "server")
        until = max(self._full.get(s, 0.0) for s in scopes)
        return int(until - now) + 1 if until > now else 0

    def submit(self, user: str, password: str, address: str) -> Future[LoginOutcome] | None:
        """Start a check in the pool, or None when ``queue`` checks are already in flight."""
        with self._lock:
            if self._in_flight >= self.queue:
                return None
            self._in_flight += 1
        try:
            fut = self._pool.submit(self.check, user, password, address)
        except RuntimeError:  # the pool is shut down: the server is stopping
            self._leave()
            return None
        fut.add_done_callback(lambda _: self._leave())
        return fut

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def check(self, user: str, password: str, address: str) -> LoginOutcome:
        """Reserve, then check the password (blocking: call it in the pool)."""
        attempt = secrets.token_hex(8)
        user_scope = self._scope("user", user)
        wait, full = self.state.reserve_login(
            [
                (user_scope, self.per_user, self.window),
                (self._scope("addr", address), self.per_address, self.window),
                ("server", self.per_server, self.server_window),
            ],
            attempt,
        )
        if wait:
            with self._lock:
                if len(self._full) > 10_000:
                    self._full.clear()
                self._full[full] = time.monotonic() + min(wait, 1.0)
            return LoginOutcome("throttled", retry_after=int(wait) + 1)
        stored = self.state.password_hash(user)
        # one scrypt either way (against a dummy hash for an unknown user), in the bound
        right = self._verify(password, stored or _dummy_hash())
        if not right or stored is None:
            return LoginOutcome("failed")
        self.state.forgive_login(attempt, user_scope)
        return LoginOutcome("ok", session=self.state.open_session(user))

    def close(self) -> None:
        """Stop the pools (attempts in flight finish)."""
        self._pool.shutdown(wait=True)
        self._hash.shutdown(wait=True)
