"""Beside a running server: CLI commands on a workspace that ``kundresa serve`` holds (ADR 0012).

DuckDB lets one process open a database file for writing and then no other process may open
it, not even read-only. ``kundresa serve`` holds its workspace for as long as it runs, so:

- the server writes ``<db>.server.json`` beside the workspace once it listens (its PID, URL,
  engine, the maps it loaded and a random *local token*; mode 0600) and removes it when it
  stops cleanly; a file whose PID is dead is stale and removed by the next command;
- the CLI's read commands (every declared analysis, ``sql``) find that file and ask the
  server's REST API instead, authenticated with the local token: ``--json`` prints the
  server's JSON (the result's ``to_dict()``, the same as locally); text is the server's
  rendering (``Accept: text/plain``: the same function the CLI calls locally); ``--out``
  is made by the server with the code the CLI runs locally (``X-Kundresa-Out: .csv``;
  ``.png`` is drawn there, by the machine's chromium) and the CLI writes its bytes;
- commands that write, and every command when another process holds the lock, stop with
  one line naming the PID (and URL) and what to do (:class:`WorkspaceBusyError`, exit 2).

Only the standard library is imported here, so a forwarded command never loads an engine.

>>> import tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"
>>> f = write_server_file(db, url="http://127.0.0.1:8000", token="kl_x", engine="duckdb")
>>> oct(f.stat().st_mode & 0o777), running_server(db).url
('0o600', 'http://127.0.0.1:8000')
>>> remove_server_file(db, "kl_x"); running_server(db) is None
True
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kundresa._errors import KundresaError

if TYPE_CHECKING:
    from kundresa._contract import Analysis, Params

__all__ = [
    "SUFFIX",
    "ServerInfo",
    "WorkspaceBusyError",
    "forward_analysis",
    "forward_forget",
    "forward_retention",
    "forward_sql",
    "lock_holder",
    "new_token",
    "open_checked",
    "refuse_if_served",
    "remove_server_file",
    "running_server",
    "server_file",
    "sql_text",
    "workspace_path",
    "write_server_file",
]

#: the server file's name is the workspace's name and this suffix
SUFFIX = ".server.json"
#: the same as ``kundresa._workspace.DEFAULT_DB`` (not imported: that module loads the engine)
DEFAULT_DB = "kundresa.duckdb"

_LOCK = re.compile(r"Could not set lock on file .*?(?:held in (.*?) )?\(PID (\d+)\)", re.S)


class WorkspaceBusyError(KundresaError):
    """The workspace is held by a running server or another process: one line with the PID
    and what to do (the CLI prints it and exits with status 2).

    >>> print(WorkspaceBusyError("w.duckdb is locked by PID 7"))
    w.duckdb is locked by PID 7
    """


@dataclass(frozen=True)
class ServerInfo:
    """What ``<db>.server.json`` says about the server that holds a workspace.

    >>> ServerInfo(pid=7, url="http://127.0.0.1:8000", token="kl_x").where
    'kundresa serve (PID 7, http://127.0.0.1:8000)'
    """

    pid: int
    url: str
    token: str = field(repr=False)
    engine: str = "duckdb"
    db: str = ""
    maps: Mapping[str, str] = field(default_factory=dict)
    started_at: str = ""

    @property
    def where(self) -> str:
        """The server as a message names it."""
        return f"kundresa serve (PID {self.pid}, {self.url})"


def workspace_path(db: str | os.PathLike[str] | None) -> str:
    """The workspace a command names: ``--db``, else ``$KUNDRESA_DB``, else the default.

    >>> workspace_path("shop.duckdb")
    'shop.duckdb'
    """
    return str(db) if db is not None else os.environ.get("KUNDRESA_DB") or DEFAULT_DB


def server_file(db: str | os.PathLike[str] | None) -> Path:
    """Where the server of workspace ``db`` announces itself: ``<db>.server.json``.

    >>> server_file("shop.duckdb").name
    'shop.duckdb.server.json'
    """
    p = Path(workspace_path(db))
    return p.with_name(p.name + SUFFIX)


def new_token() -> str:
    """A fresh local token (``kl_`` and 43 random URL-safe characters).

    >>> len(new_token())
    46
    """
    return "kl_" + secrets.token_urlsafe(32)


def write_server_file(
    db: str | os.PathLike[str],
    *,
    url: str,
    token: str,
    engine: str,
    maps: Mapping[str, str] | None = None,
) -> Path:
    """Write ``<db>.server.json`` atomically, readable by its owner only (0600); the
    server's PID is this process.

    >>> import tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"
    >>> write_server_file(db, url="http://127.0.0.1:1", token="kl_t", engine="duckdb").name
    'w.duckdb.server.json'
    """
    path = server_file(db)
    data = {
        "pid": os.getpid(),
        "url": url,
        "token": token,
        "engine": engine,
        "db": str(Path(db).resolve()),
        "maps": dict(maps or {}),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    from kundresa._util import write_private

    write_private(path, (json.dumps(data, indent=2) + "\n").encode())
    return path


def remove_server_file(db: str | os.PathLike[str], token: str) -> None:
    """Remove ``<db>.server.json`` if it is still this server's (same token).

    >>> remove_server_file("/nonexistent/w.duckdb", "kl_t")
    """
    path = server_file(db)
    info = _read(path)
    if info is not None and info.token == token:
        path.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _read(path: Path) -> ServerInfo | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServerInfo(
            pid=int(data["pid"]),
            url=str(data["url"]).rstrip("/"),
            token=str(data["token"]),
            engine=str(data.get("engine", "duckdb")),
            db=str(data.get("db", "")),
            maps={str(k): str(v) for k, v in dict(data.get("maps") or {}).items()},
            started_at=str(data.get("started_at", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_server(
    db: str | os.PathLike[str] | None, engine: str | None = None
) -> ServerInfo | None:
    """The server that holds workspace ``db`` (on ``engine``, when given), or None. A stale
    file (its PID is dead) is removed.

    >>> running_server("/nonexistent/w.duckdb") is None
    True
    """
    path = server_file(db)
    info = _read(path)
    if info is None:
        return None
    if not _pid_alive(info.pid):
        path.unlink(missing_ok=True)
        return None
    if engine is not None and info.engine != engine:
        return None
    return info


def lock_holder(exc: BaseException) -> tuple[int, str] | None:
    """``(PID, program)`` of DuckDB's lock error ``exc``, or None for any other error.

    >>> lock_holder(OSError('IO Error: Could not set lock on file "w.duckdb": Conflicting '
    ...     'lock is held in /usr/bin/python3 (PID 42). See also https://duckdb.org'))
    (42, '/usr/bin/python3')
    """
    m = _LOCK.search(str(exc))
    if m is None:
        return None
    return int(m.group(2)), (m.group(1) or "").strip()


def _command() -> str:
    """The running CLI command (``kundresa forget``), from click's context."""
    try:  # typer >= 0.29 carries its own click
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - older typer: click itself
        from click import get_current_context  # type: ignore[no-redef, unused-ignore]
    ctx: Any = get_current_context(silent=True)
    words: list[str] = []
    while ctx is not None and ctx.parent is not None:
        words.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["kundresa", *words]) if words else "this command"


_ADVICE = {
    "ingest": "stop the server first, or send the events to its collector ({url}/v1/batch "
    "with a write key: kundresa keys create --name NAME)",
    "stitch": "the server stitches what it loads every few seconds; to stitch with other "
    "settings stop the server first",
    "forget": "the server at {url} did not answer; stop it (kill -TERM {pid}), run the "
    "command, then serve again",
    "serve": "it is already served at {url}",
}


def _busy(db: str, info: ServerInfo | None, holder: tuple[int, str] | None) -> WorkspaceBusyError:
    command = _command()
    word = command.split()[1] if command.startswith("kundresa ") else ""
    if info is not None:
        advice = _ADVICE.get(word, "stop the server (kill -TERM {pid}) and run it again")
        return WorkspaceBusyError(
            f"{command} cannot open {db}: {info.where} holds it; "
            + advice.format(pid=info.pid, url=info.url)
        )
    pid, program = holder or (0, "")
    who = f"PID {pid}" + (f", {program}" if program else "")
    return WorkspaceBusyError(
        f"{command} cannot open {db}: another process ({who}) holds its lock; "
        f"close that process (or wait for it to finish) and run it again"
    )


def refuse_if_served(db: str | os.PathLike[str] | None, engine: str = "duckdb") -> None:
    """Raise :class:`WorkspaceBusyError` when a server holds ``db`` (a cheap check before a
    long write command such as ``synth`` or ``demo`` starts its work).

    >>> refuse_if_served("/nonexistent/w.duckdb")
    """
    info = running_server(db, engine)
    if info is not None and info.pid != os.getpid():
        raise _busy(workspace_path(db), info, None)


def _starting(where: str, pid: int, wait: float = 15.0) -> ServerInfo | None:
    """The server file of a ``kundresa serve`` (or ``demo``) that holds the lock and is still
    starting (it writes the file once it listens), waiting up to ``wait`` seconds; None at
    once when the holder is another program."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:  # not Linux, or gone
        return None
    if not (b"kundresa" in b" ".join(argv) and {b"serve", b"demo"} & set(argv)):
        return None
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        info = running_server(where)
        if info is not None:
            return info
        time.sleep(0.2)
    return None


def open_checked(db: str | os.PathLike[str] | None, engine: str) -> Any:
    """Open the workspace; a held lock becomes one :class:`WorkspaceBusyError` line naming
    the server (PID, URL) or the process that holds it. A server file left behind by a
    server that no longer holds the workspace is removed.

    >>> import tempfile, pathlib
    >>> with open_checked(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb", "duckdb") as ws:
    ...     ws.info().events
    0
    """
    from kundresa._workspace import Workspace

    where = workspace_path(db)
    try:
        ws = Workspace.open(where, engine=engine)
    except Exception as exc:
        holder = lock_holder(exc)
        if holder is None:
            raise
        info = running_server(where)
        if info is None:
            info = _starting(where, holder[0])
            if info is not None:  # a read command would now answer through it
                raise WorkspaceBusyError(
                    f"{_command()} cannot open {where}: {info.where} was starting and holds "
                    "it; run the command again (reads then answer through the server)"
                ) from None
        raise _busy(where, info, holder) from None
    info = _read(server_file(where))
    if info is not None and info.pid != os.getpid():  # opened: that server holds nothing
        server_file(where).unlink(missing_ok=True)
    return ws


# -- forwarding ----------------------------------------------------------------------------
class _UnreachableError(Exception):
    """The server named in the file does not answer (starting, stopping, or stale)."""


def _request(
    info: ServerInfo,
    path: str,
    *,
    query: Sequence[tuple[str, str]] = (),
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    url = info.url + path + ("?" + urllib.parse.urlencode(list(query)) if query else "")
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    req.add_header("Authorization", f"Bearer {info.token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        # never through an HTTP proxy of the environment: the server is on this machine
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=24 * 3600) as resp:
            out: bytes = resp.read()
            return out
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode("utf-8", "replace")
        try:
            detail = str(json.loads(raw).get("detail") or raw)
        except (ValueError, AttributeError):
            detail = raw.strip() or exc.reason
        if isinstance(detail, str) and exc.code in (400, 404, 422):
            raise KundresaError(detail.splitlines()[0] if detail else str(exc.code)) from None
        raise KundresaError(
            f"{info.where} answered {exc.code} to {path}: {detail.splitlines()[0][:300]} "
            "(see the server's log)"
        ) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        raise _UnreachableError(str(exc)) from None


def _echo(text: str) -> None:
    import typer

    typer.echo(text)


def _note(info: ServerInfo, as_json: bool) -> None:
    if not as_json and sys.stderr.isatty():
        sys.stderr.write(f"(answered by {info.where})\n")


def _map_name(info: ServerInfo, value: str) -> str:
    target = Path(value).resolve()
    for name, path in info.maps.items():
        if Path(path).resolve() == target:
            return name
    served = ", ".join(f"{n} ({p})" for n, p in info.maps.items()) or "none"
    raise WorkspaceBusyError(
        f"{info.where} holds the workspace and did not load the map {value} (it serves: "
        f"{served}); pass one of those, restart it with --map {value}, or stop it"
    )


def _query(info: ServerInfo, a: Analysis, params: Params, given: Mapping[str, Any]) -> list[Any]:
    query: list[tuple[str, str]] = []
    for name in given:
        p = a.param(name)
        value = params[name]
        if value is None or value == ():
            continue
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if p.kind == "map":
                v = _map_name(info, str(v))
            query.append((name, ("true" if v else "false") if isinstance(v, bool) else str(v)))
    return query


def forward_analysis(
    a: Analysis,
    db: str | None,
    engine: str,
    params: Params,
    given: Mapping[str, Any],
    as_json: bool,
    out: str | None,
) -> bool:
    """Answer analysis ``a`` through the server that holds ``db``, if one does: print what
    the command prints locally and write ``out``. False when no server holds ``db`` (or it
    does not answer): the caller opens the workspace itself.

    >>> from kundresa._contract import get
    >>> a = get("info")
    >>> forward_analysis(a, "/nonexistent/w.duckdb", "duckdb", a.validate({}), {}, True, None)
    False
    """
    info = running_server(db, engine)
    if info is None or info.pid == os.getpid():
        return False
    query = _query(info, a, params, given)
    path = f"/api/v1/{a.name}"
    try:
        if out is not None:
            _write_out(info, path, query, out, as_json)
        accept = "application/json" if as_json else "text/plain"
        body = _request(info, path, query=query, headers={"Accept": accept})
    except _UnreachableError:
        return False
    _note(info, as_json)
    if as_json:
        _echo(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    else:
        _echo(body.decode("utf-8"))
    return True


def _write_out(
    info: ServerInfo, path: str, query: Sequence[tuple[str, str]], out: str, as_json: bool
) -> None:
    suffix = Path(out).suffix.lower()
    if suffix == ".json":
        data = json.loads(_request(info, path, query=query, headers={"Accept": "application/json"}))
        content = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    else:
        content = _request(info, path, query=query, headers={"X-Kundresa-Out": suffix or "."})
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    from kundresa._exports import record_export

    record_export(info.db or None, out)  # forget erases it if it holds a person
    if not as_json:
        sys.stderr.write(f"wrote {out}\n")


def _post(db: str | None, engine: str, path: str, body: Any, as_json: bool) -> bytes | None:
    """POST ``body`` to ``path`` of the server that holds ``db`` (JSON, or the server's text
    with ``as_json=False``); None when no server holds it or it does not answer."""
    info = running_server(db, engine)
    if info is None or info.pid == os.getpid():
        return None
    accept = "application/json" if as_json else "text/plain"
    try:
        out = _request(info, path, body=body, headers={"Accept": accept})
    except _UnreachableError:
        return None
    _note(info, as_json)
    return out


def forward_sql(db: str | None, engine: str, query: str, limit: int, as_json: bool) -> bool:
    """Run ``kundresa sql`` through the server that holds ``db`` (``POST /api/v1/sql``:
    one read-only SELECT); False when no server holds it.

    >>> forward_sql("/nonexistent/w.duckdb", "duckdb", "select 1", 50, True)
    False
    """
    body = _post(db, engine, "/api/v1/sql", {"query": query, "limit": limit}, as_json)
    if body is None:
        return False
    if as_json:
        _echo(json.dumps(json.loads(body)["rows"], indent=2, default=str))
    else:
        _echo(body.decode("utf-8"))
    return True


def forward_forget(
    db: str | None, engine: str, identifier: str, id_type: str, as_json: bool
) -> bool:
    """Run ``kundresa forget`` through the server that holds ``db`` (``POST /api/v1/forget``
    with the local token: the server drains its inbox, erases, and keeps tombstones); False
    when no server holds it.

    >>> forward_forget("/nonexistent/w.duckdb", "duckdb", "u-1", "user_id", True)
    False
    """
    request = {"identifier": identifier, "id_type": id_type}
    body = _post(db, engine, "/api/v1/forget", request, as_json)
    if body is None:
        return False
    _echo(json.dumps(json.loads(body), indent=2) if as_json else body.decode("utf-8"))
    return True


def forward_retention(
    db: str | None, engine: str, body: Mapping[str, Any] | None, as_json: bool
) -> bool:
    """Run ``kundresa retention-policy`` through the server that holds ``db``: show the
    policy (``GET /api/v1/retention-policy``, ``body`` None) or set and apply it (``POST``, the
    local token: the server lets its loader catch up, erases, and vacuums its SQLite state);
    False when no server holds it.

    >>> forward_retention("/nonexistent/w.duckdb", "duckdb", None, True)
    False
    """
    if body is not None:
        out = _post(db, engine, "/api/v1/retention-policy", dict(body), as_json)
    else:
        info = running_server(db, engine)
        if info is None or info.pid == os.getpid():
            return False
        accept = "application/json" if as_json else "text/plain"
        try:
            out = _request(info, "/api/v1/retention-policy", headers={"Accept": accept})
        except _UnreachableError:
            return False
        _note(info, as_json)
    if out is None:
        return False
    if as_json:  # what the command prints locally: the policy, or the report
        data = json.loads(out)
        _echo(json.dumps(data["policy"] if body is None else data, indent=2))
    else:
        _echo(out.decode("utf-8"))
    return True


def sql_text(table: Any, limit: int) -> str:
    """``kundresa sql``'s text output of an Arrow table: its first ``limit`` rows and a
    line counting the rest (the CLI and the server's ``text/plain`` both use this).

    >>> import pyarrow as pa
    >>> print(sql_text(pa.table({"n": [1, 2, 3]}), 2))
     n
     1
     2
    ... 1 more rows (use --limit)
    """
    text = str(table.slice(0, limit).to_pandas().to_string(index=False))
    if table.num_rows > limit:
        text += f"\n... {table.num_rows - limit:,} more rows (use --limit)"
    return text
