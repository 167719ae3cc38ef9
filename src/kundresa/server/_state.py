"""The server's own state in one SQLite file beside the workspace: API keys, web users,
login sessions and the collector's durable inbox.

SQLite (WAL, ``synchronous=FULL``) rather than the workspace itself because it is safe to
open from several processes at once: ``kundresa keys create`` works while ``kundresa serve``
runs and holds the DuckDB file. The inbox is the collector's append-only log: a request is
acknowledged only after its row is committed (fsynced), and the loader moves rows into the
event store (see :mod:`kundresa.server._loader`).

>>> import tempfile, pathlib
>>> st = ServerState(pathlib.Path(tempfile.mkdtemp()) / "server.sqlite")
>>> key, token = st.create_key("website", "write")
>>> st.check_key(token, "write").name
'website'
>>> st.check_key(token, "read") is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kundresa._errors import InvalidOptionError, NotFoundError

__all__ = [
    "KEY_KINDS",
    "ApiKey",
    "ServerState",
    "hash_password",
    "login_path",
    "state_path",
    "verify_password",
    "write_login",
]

KEY_KINDS = ("write", "read")
_PREFIX = {"write": "kw_", "read": "kr_"}
# scrypt (RFC 7914), stdlib: memory-hard; n=2**15, r=8 needs 32 MiB and ~0.1 s per hash.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
SESSION_SECONDS = 12 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, pw_hash TEXT NOT NULL, lang TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS inbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, source TEXT NOT NULL,
  n INTEGER NOT NULL, events TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS loader_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS login_attempts (
  scope TEXT NOT NULL, attempt TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_attempts_scope ON login_attempts (scope, at);
"""


def state_path(db: str | Path) -> Path:
    """Where the server state of workspace ``db`` lives: ``<db>.server.sqlite``.

    >>> state_path("shop.duckdb").name
    'shop.duckdb.server.sqlite'
    """
    p = Path(db)
    return p.with_name(p.name + ".server.sqlite")


def login_path(db: str | Path) -> Path:
    """Where a generated web login of workspace ``db`` is written: ``<db>.login`` (0600).

    >>> login_path("shop.duckdb").name
    'shop.duckdb.login'
    """
    p = Path(db)
    return p.with_name(p.name + ".login")


def write_login(db: str | Path, user: str, password: str) -> Path:
    """Write a generated login to :func:`login_path` (``user: ...`` and ``password: ...``
    lines), readable by its owner only, atomically; returns the file.

    >>> import tempfile, pathlib, stat
    >>> f = write_login(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb", "admin", "s3cret-pw")
    >>> oct(stat.S_IMODE(f.stat().st_mode)), f.read_text().splitlines()
    ('0o600', ['user: admin', 'password: s3cret-pw'])
    """
    from kundresa._util import write_private

    path = login_path(db)
    write_private(path, f"user: {user}\npassword: {password}\n".encode())
    return path


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """Hash ``password`` with scrypt and a random salt (self-describing string).

    >>> verify_password("hunter2", hash_password("hunter2"))
    True
    """
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=2**26
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(dk).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison).

    >>> verify_password("wrong", hash_password("right"))
    False
    """
    try:
        algo, n, r, p, salt, dk = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=2**26,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(dk))


_DUMMY: list[str] = []
_DUMMY_LOCK = threading.Lock()


def _dummy_hash() -> str:
    """A hash of a random password, made once per process: what an unknown user's password
    is checked against (one scrypt, as for a known user)."""
    with _DUMMY_LOCK:
        if not _DUMMY:
            _DUMMY.append(hash_password(secrets.token_hex(16)))
        return _DUMMY[0]


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed (never the secret itself: only its first characters).

    >>> ApiKey("k1", "site", "write", "kw_AbCd", "2026-01-05T10:00:00Z", None).active
    True
    """

    id: str
    name: str
    kind: str
    prefix: str
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "active": self.active}


class ServerState:
    """Keys, users, sessions and the inbox in one SQLite file (thread-safe: one connection
    per thread)."""

    def __init__(
        self, path: str | Path, *, synchronous: str = "FULL", autocheckpoint: bool = True
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # created owner-only: SQLite gives its -wal and -shm files the database file's mode.
        # Only when missing: closing any descriptor of an open database would drop the POSIX
        # locks of this process's SQLite connections to it.
        if not self.path.exists():
            with suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._synchronous = synchronous
        #: False for the inbox writer: its commits then never run a WAL checkpoint (the
        #: loader does, off the request path: see :meth:`checkpoint`)
        self._autocheckpoint = autocheckpoint
        self._local = threading.local()
        self._key_cache: dict[str, tuple[float, ApiKey | None]] = {}
        con = self.con()
        con.executescript(_SCHEMA)

    def con(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; WAL; fsync on every commit)."""
        c: sqlite3.Connection | None = getattr(self._local, "con", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute(f"PRAGMA synchronous={self._synchronous}")
            c.execute("PRAGMA busy_timeout=30000")
            # deleted rows (loaded inbox payloads, forgotten persons) are overwritten with
            # zeros, not left in free pages (privacy: forget must erase every byte)
            c.execute("PRAGMA secure_delete=ON")
            if not self._autocheckpoint:
                c.execute("PRAGMA wal_autocheckpoint=0")
            self._local.con = c
        return c

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` .. ``COMMIT`` (rolled back on error)."""
        c = self.con()
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        c = getattr(self._local, "con", None)
        if c is not None:
            c.close()
            self._local.con = None

    # -- keys ------------------------------------------------------------------------------
    def create_key(self, name: str, kind: str = "write") -> tuple[ApiKey, str]:
        """Create a key; returns it and the secret token (shown once, stored only hashed)."""
        if kind not in KEY_KINDS:
            raise InvalidOptionError("kind", kind, allowed=KEY_KINDS)
        if not name.strip():
            raise InvalidOptionError("name", name, fix="give the key a name, e.g. --name website")
        token = _PREFIX[kind] + secrets.token_urlsafe(24)
        key = ApiKey(secrets.token_hex(6), name.strip(), kind, token[:7], _now(), None)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
                [key.id, key.name, kind, _sha256(token), key.prefix, key.created_at],
            )
        return key, token

    def list_keys(self) -> list[ApiKey]:
        """All keys, newest first (revoked ones too)."""
        rows = self.con().execute(
            "SELECT id, name, kind, prefix, created_at, revoked_at FROM api_keys "
            "ORDER BY created_at DESC, name"
        )
        return [ApiKey(*r) for r in rows.fetchall()]

    def revoke_key(self, ident: str) -> list[ApiKey]:
        """Revoke the active keys whose id or name is ``ident``; returns them."""
        hits = [k for k in self.list_keys() if k.active and ident in (k.id, k.name)]
        if not hits:
            raise NotFoundError(
                "key", ident, candidates=[k.name for k in self.list_keys() if k.active]
            )
        with self.transaction() as c:
            c.executemany(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ?", [(_now(), k.id) for k in hits]
            )
        self._key_cache.clear()
        return hits

    def check_key(self, token: str, kind: str, *, ttl: float = 2.0) -> ApiKey | None:
        """The active key of ``kind`` for ``token``, or None. Cached ``ttl`` seconds, so a
        revocation takes effect within ``ttl`` in a running server."""
        h = _sha256(token)
        now = time.monotonic()
        hit = self._key_cache.get(h)
        if hit is None or now - hit[0] > ttl:
            row = (
                self.con()
                .execute(
                    "SELECT id, name, kind, prefix, created_at, revoked_at FROM api_keys "
                    "WHERE hash = ? AND revoked_at IS NULL",
                    [h],
                )
                .fetchone()
            )
            hit = (now, ApiKey(*row) if row else None)
            if len(self._key_cache) > 10_000:
                self._key_cache.clear()
            self._key_cache[h] = hit
        key = hit[1]
        return key if key is not None and key.kind == kind else None

    # -- users and sessions ----------------------------------------------------------------
    def set_user(self, name: str, password: str, lang: str | None = None) -> None:
        """Create or update a web user (password hashed with scrypt)."""
        if not name.strip() or len(password) < 8:
            raise InvalidOptionError(
                "password", "***", fix="give a user name and a password of 8 characters or more"
            )
        with self.transaction() as c:
            c.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "pw_hash = excluded.pw_hash, lang = coalesce(excluded.lang, users.lang)",
                [name.strip(), hash_password(password), lang, _now()],
            )

    def users(self) -> list[str]:
        """User names."""
        return [r[0] for r in self.con().execute("SELECT name FROM users ORDER BY name")]

    def delete_user(self, name: str) -> None:
        """Delete a user and its sessions."""
        if name not in self.users():
            raise NotFoundError("user", name, candidates=self.users())
        with self.transaction() as c:
            c.execute("DELETE FROM users WHERE name = ?", [name])
            c.execute("DELETE FROM sessions WHERE user = ?", [name])

    def login(self, name: str, password: str) -> tuple[str, str] | None:
        """Check the password; on success open a session: ``(session token, csrf token)``."""
        stored = self.password_hash(name)
        # one scrypt either way (against a dummy hash when the user is unknown), so timing
        # does not reveal user names
        if not verify_password(password, stored or _dummy_hash()) or stored is None:
            return None
        return self.open_session(name)

    def password_hash(self, name: str) -> str | None:
        """The stored scrypt hash of user ``name`` (None when there is no such user)."""
        row = self.con().execute("SELECT pw_hash FROM users WHERE name = ?", [name]).fetchone()
        return str(row[0]) if row else None

    def open_session(self, name: str) -> tuple[str, str]:
        """Open a session for user ``name``: ``(session token, csrf token)``."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.transaction() as c:
            c.execute("DELETE FROM sessions WHERE expires_at < ?", [time.time()])
            c.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)",
                [_sha256(token), name, csrf, time.time() + SESSION_SECONDS],
            )
        return token, csrf

    def reserve_login(
        self, limits: Sequence[tuple[str, int, float]], attempt: str
    ) -> tuple[float, str]:
        """Reserve one password check against every ``(scope, limit, window seconds)``,
        atomically (``BEGIN IMMEDIATE``: concurrent reservations, even from several processes,
        are serialised): ``(0.0, "")`` when reserved (recorded under ``attempt`` for every
        scope), else the seconds until the fullest scope frees a place and that scope
        (nothing recorded). The attempts are stored, so a restart does not reset them.

        >>> import tempfile, pathlib
        >>> st = ServerState(pathlib.Path(tempfile.mkdtemp()) / "s.sqlite")
        >>> [st.reserve_login([("user:bo", 2, 60.0)], str(i))[1] for i in range(3)]
        ['', '', 'user:bo']
        """
        now = time.time()
        with self.transaction() as c:
            c.execute(
                "DELETE FROM login_attempts WHERE at < ?", [now - max(w for _, _, w in limits)]
            )
            wait, full = 0.0, ""
            for scope, limit, window in limits:
                got = c.execute(
                    "SELECT at FROM login_attempts WHERE scope = ? AND at > ? "
                    "ORDER BY at DESC LIMIT 1 OFFSET ?",
                    [scope, now - window, max(limit - 1, 0)],
                ).fetchone()
                if got is not None or limit <= 0:
                    free = max((float(got[0]) if got else now) + window - now, 0.001)
                    if free > wait:
                        wait, full = free, scope
            if wait:
                return wait, full
            c.executemany(
                "INSERT INTO login_attempts VALUES (?, ?, ?)",
                [(scope, attempt, now) for scope, _, _ in limits],
            )
        return 0.0, ""

    def setting(self, key: str, default: str) -> str:
        """The stored value of ``key``, storing ``default`` first when there is none."""
        with self.transaction() as c:
            c.execute("INSERT OR IGNORE INTO loader_state VALUES (?, ?)", [key, default])
            row = c.execute("SELECT value FROM loader_state WHERE key = ?", [key]).fetchone()
        return str(row[0])

    def forgive_login(self, attempt: str, scope: str) -> None:
        """A reserved attempt succeeded: drop it, and every earlier attempt of ``scope``."""
        with self.transaction() as c:
            c.execute("DELETE FROM login_attempts WHERE attempt = ? OR scope = ?", [attempt, scope])

    def session(self, token: str) -> tuple[str, str] | None:
        """``(user, csrf token)`` of a live session, or None."""
        row = (
            self.con()
            .execute(
                "SELECT user, csrf FROM sessions WHERE token_hash = ? AND expires_at > ?",
                [_sha256(token), time.time()],
            )
            .fetchone()
        )
        return (str(row[0]), str(row[1])) if row else None

    def logout(self, token: str) -> None:
        """End a session."""
        with self.transaction() as c:
            c.execute("DELETE FROM sessions WHERE token_hash = ?", [_sha256(token)])

    # -- inbox -----------------------------------------------------------------------------
    def append_inbox(
        self, items: Sequence[tuple[str, str, int, str]], *, loaded: int | None = None
    ) -> None:
        """Commit ``(received_at, source, n_events, events as JSON lines)`` rows durably;
        with ``loaded``, in the same transaction, what :meth:`mark_loaded` does.

        >>> import tempfile, pathlib
        >>> st = ServerState(pathlib.Path(tempfile.mkdtemp()) / "s.sqlite")
        >>> st.append_inbox([("2026-01-05T10:00:00Z", "collector:site", 1, "{}")])
        >>> st.append_inbox([], loaded=1)
        >>> st.loaded_seq(), st.pending_events()
        (1, 0)
        """
        with self.transaction() as c:
            if items:
                c.executemany(
                    "INSERT INTO inbox (received_at, source, n, events) VALUES (?, ?, ?, ?)",
                    items,
                )
            if loaded is not None:
                self._mark_loaded(c, loaded)

    def loaded_seq(self) -> int:
        """The last inbox row the loader has moved into the event store."""
        row = self.con().execute("SELECT value FROM loader_state WHERE key = 'loaded_seq'")
        got = row.fetchone()
        return int(got[0]) if got else 0

    def inbox_after(self, seq: int, max_events: int) -> list[tuple[int, str, str]]:
        """Inbox rows after ``seq`` (``seq, source, events``), about ``max_events`` events."""
        out: list[tuple[int, str, str]] = []
        total = 0
        cur = self.con().execute(
            "SELECT seq, source, n, events FROM inbox WHERE seq > ? ORDER BY seq", [seq]
        )
        for s, source, n, events in cur:
            out.append((int(s), str(source), str(events)))
            total += int(n)
            if total >= max_events:
                break
        cur.close()
        return out

    def pending_events(self) -> int:
        """Events committed to the inbox but not yet loaded."""
        row = (
            self.con()
            .execute("SELECT coalesce(sum(n), 0) FROM inbox WHERE seq > ?", [self.loaded_seq()])
            .fetchone()
        )
        return int(row[0]) if row else 0

    def erase_deleted(self) -> None:
        """Rewrite the state file without free pages and empty its WAL (after ``forget``:
        no deleted inbox payload may remain in the SQLite file or its ``-wal``)."""
        c = self.con()
        c.execute("VACUUM")
        self.truncate_wal()

    def checkpoint(self) -> None:
        """Copy the WAL's committed pages into the file without waiting for or blocking
        any writer (``PASSIVE``): the inbox writer runs none itself, so that no request
        waits for one.

        >>> import tempfile, pathlib
        >>> ServerState(pathlib.Path(tempfile.mkdtemp()) / "s.sqlite").checkpoint()
        """
        self.con().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def truncate_wal(self) -> None:
        """Checkpoint the WAL into the (secure-delete) file and truncate it to zero bytes:
        the WAL keeps every page image written, deleted inbox payloads included."""
        self.con().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def mark_loaded(self, seq: int) -> None:
        """Record that rows up to ``seq`` are in the event store, and drop them."""
        with self.transaction() as c:
            self._mark_loaded(c, seq)

    @staticmethod
    def _mark_loaded(c: sqlite3.Connection, seq: int) -> None:
        c.execute(
            "INSERT INTO loader_state VALUES ('loaded_seq', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [str(seq)],
        )
        c.execute("DELETE FROM inbox WHERE seq <= ?", [seq])
