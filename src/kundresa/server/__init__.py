"""kundresa's server: a Segment-compatible collector, a REST API and a web app in one process.

``kundresa serve`` (or :func:`serve`) opens the workspace, answers the Segment HTTP Tracking
API on ``/v1/*`` (so Segment's and RudderStack's SDKs work unchanged), moves collected events
into the event store within seconds (stitched), and serves the analyses as JSON
(``/api/v1/*``, OpenAPI at ``/api/openapi.json``) and as pages. See ``docs/server.md``.

Importing this package is cheap; FastAPI and uvicorn load when a server starts.

>>> import tempfile, pathlib, urllib.request, json
>>> srv = serve(pathlib.Path(tempfile.mkdtemp()) / "k.duckdb", port=0, block=False, echo=None)
>>> json.load(urllib.request.urlopen(srv.url + "/healthz"))
{'ok': True}
>>> srv.stop()
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunningServer", "serve"]


@dataclass
class RunningServer:
    """A server started with ``serve(..., block=False)``: its URL and a way to stop it.

    >>> RunningServer("http://127.0.0.1:8000").url
    'http://127.0.0.1:8000'
    """

    url: str
    _server: Any = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop gracefully: queued events are committed, loaded and stitched first."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=120)


def serve(
    db: str | os.PathLike[str] | None = None,
    *,
    engine: str = "duckdb",
    host: str = "127.0.0.1",
    port: int = 8000,
    block: bool = True,
    create_login: bool = True,
    reset_login: str | None = None,
    echo: Callable[[str], None] | None = print,
    **options: Any,
) -> RunningServer:
    """Serve the workspace ``db``: collector, REST API and web app on ``host:port``.

    On first start (no web user yet) a user ``admin`` with a random password is created; the
    password is written to ``<db>.login`` (mode 0600) and ``echo`` says where, never the
    password itself unless stdout is a terminal (so it does not end up in logs);
    ``reset_login="admin"`` sets a new random password for that user on every start (what
    ``kundresa demo`` does).
    ``block=False`` runs the server in a thread and returns at once (``port=0`` picks a free
    port); otherwise it runs until interrupted.
    ``options`` go to :class:`kundresa.server._app.ServerConfig` (e.g. ``maps=["map.yaml"]``:
    journey-map files or folders shown and edited on ``/map``).
    While it listens the server announces itself in ``<db>.server.json`` (PID, URL, a local
    token; mode 0600), so that the CLI's read commands ask it (ADR 0012). Serving adds 077 to
    the process's umask: the workspace's WAL and the server state are their owner's only.
    """
    import uvicorn

    from kundresa._beside import new_token, open_checked, refuse_if_served, workspace_path
    from kundresa.server._app import ServerConfig, create_app
    from kundresa.server._local import local_server
    from kundresa.server._state import ServerState, write_login

    os.umask(os.umask(0o077) | 0o077)  # the server's files are their owner's only
    where = workspace_path(db)
    refuse_if_served(where, engine)
    from kundresa._store import engine_supports

    if engine_supports(engine, "single_file"):  # a lock held elsewhere: one line, no traceback
        open_checked(where, engine).close()
    options.setdefault("local_token", new_token())
    if "maps" in options:
        from kundresa.server._journey import find_maps

        maps = find_maps(tuple(options["maps"] or ()))  # a missing file fails here, clearly
        options["maps"] = tuple(str(m) for m in maps)
    config = ServerConfig(db=where, engine=engine, **options)
    login = None
    if create_login:
        state = ServerState(config.state)
        if reset_login or not state.users():
            import secrets  # here: hashlib/OpenSSL would slow every `kundresa` start

            user = reset_login or "admin"
            password = secrets.token_urlsafe(12)
            state.set_user(user, password)
            login = (user, password, write_login(where, user, password))
        state.close()
    app = create_app(config)
    server = local_server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False),
        db=where,
        engine=engine,
        token=config.local_token,
        maps=lambda: {n: str(p) for n, p in app.state.runtime.maps.paths.items()},
    )

    def announce(url: str) -> None:
        if echo is None:
            return
        echo(f"kundresa is serving {where} at {url}")
        if config.maps:
            echo(f"  journey map  {url}/map  ({', '.join(config.maps)})")
        echo(f"  web app      {url}/overview")
        echo(f"  collector    {url}/v1/batch  (Segment HTTP API; kundresa keys create --name site)")
        echo(f"  REST API     {url}/api/v1/info  (OpenAPI: {url}/api/openapi.json)")
        if login:
            import sys

            shown = f" / {login[1]}" if sys.stdout.isatty() else ""
            echo(
                f"  login        {login[0]}{shown}  (password in {login[2]}, readable by you only)"
            )

    if block:
        announce(f"http://{host}:{port}")
        server.run()
        return RunningServer(f"http://{host}:{port}")
    thread = threading.Thread(target=server.run, name="kundresa-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start (is the port in use?)")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://{host}:{bound}"
    announce(url)
    return RunningServer(url, server, thread)
