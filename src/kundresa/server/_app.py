"""The ASGI app: collector (``/v1/*``), REST API (``/api/v1/*``) and web app (pages).

>>> import tempfile, pathlib
>>> app = create_app(ServerConfig(db=str(pathlib.Path(tempfile.mkdtemp()) / "k.duckdb")))
>>> sorted({r.path for r in app.routes if r.path.startswith("/v1/")})[:3]
['/v1/a', '/v1/alias', '/v1/b']
"""

import asyncio
import hmac
import inspect
import json
import logging
import math
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from kundresa._errors import KundresaError, NotFoundError
from kundresa.server._collector import (
    CALLS,
    CORS,
    MAX_CALLS_PER_BATCH,
    CollectorFastPath,
    InboxWriter,
    basic_auth_user,
    handle_call,
)
from kundresa.server._limits import CollectorCounters, KeyBuckets
from kundresa.server._loader import Loader
from kundresa.server._local import alternate
from kundresa.server._registry import ANALYSES, Analysis
from kundresa.server._state import ServerState, state_path

__all__ = ["Runtime", "ServerConfig", "create_app"]

log = logging.getLogger("kundresa.server")

API_VERSION = "1"
_CORS = CORS


@dataclass
class ServerConfig:
    """How ``kundresa serve`` runs.

    ``max_queue`` requests waiting for their commit and ``max_pending_events`` committed
    but not yet loaded events bound the backlog: beyond either the collector answers 429
    with ``Retry-After``. ``duckdb_threads`` bounds DuckDB's threads in the server process
    (loading, stitching, analyses) so that one core stays free to answer requests.
    ``key_rate`` calls a second (bursts of ``key_burst``) per write key bound what one key
    can send: beyond it that key (only) gets 429 with ``Retry-After``.
    ``maps`` are journey-map files (or folders of them) shown and edited on ``/map``.
    ``fault_5xx_after_write`` (tests only) answers 500 to that many
    requests *after* committing them, as a crash between commit and answer would;
    ``fault_5xx_first_attempt`` (tests only) does that to the first attempt of every
    batch (same messageIds), so that every SDK retry is exercised.
    ``hold_loader`` (tests only) leaves committed calls in the inbox: the loader moves them
    only when ``forget`` drains the inbox and when the server stops (a loader far behind).

    >>> ServerConfig(db="shop.duckdb").state
    'shop.duckdb.server.sqlite'
    """

    db: str
    engine: str = "duckdb"
    state: str = ""
    max_queue: int = 2_000
    max_pending_events: int = 2_000_000
    loader_interval: float = 0.5
    stitch_interval: float = 2.0
    fault_5xx_after_write: int = 0
    fault_5xx_first_attempt: bool = False
    hold_loader: bool = False
    secure_cookies: bool | None = None
    retry_after: int = 1
    #: calls a second per write key (a token bucket; 0: unlimited) and its burst in calls
    key_rate: float = 5_000
    key_burst: int = 50_000
    duckdb_threads: int = 1
    maps: tuple[str, ...] = ()
    #: web login throttles (failed checks per user name and per client address within
    #: ``login_window`` seconds, and per server within a minute) and scrypt threads
    login_per_user: int = 5
    login_per_address: int = 20
    login_window: float = 300.0
    login_per_server: int = 30
    login_workers: int = 2
    #: seconds between applications of the retention policy (kundresa retention-policy);
    #: it is also applied when the server starts (0: only then)
    retention_interval: float = 3600.0
    #: the local token of ``<db>.server.json`` (ADR 0012): a read credential for the CLI
    local_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.state:
            self.state = str(state_path(self.db))


class Runtime:
    """What a running app holds: workspace (behind one lock), state, writer, loader."""

    def __init__(self, config: ServerConfig) -> None:
        from kundresa._workspace import Workspace
        from kundresa.server._journey import MapStore, find_maps

        self.config = config
        self.maps = MapStore(find_maps(config.maps))
        self.lock = threading.RLock()
        self.ws = Workspace.open(config.db, engine=config.engine)
        if self.ws.store.supports("thread_setting") and config.duckdb_threads > 0:
            self.ws.store.set_threads(config.duckdb_threads)
        self.state = ServerState(config.state)
        from kundresa.server._tombstones import Tombstones, stored_tombstones

        rules = self.ws.identifier_rules()
        self.tombstones = Tombstones(self.ws.salt, rules, stored_tombstones(self.ws.store))
        self.writer = InboxWriter(
            ServerState(config.state, autocheckpoint=False), max_queue=config.max_queue
        )
        self.loader = Loader(
            self.ws,
            ServerState(config.state),
            self.lock,
            interval=config.loader_interval,
            stitch_interval=config.stitch_interval,
            threads=max(config.duckdb_threads, 1),
            hold=config.hold_loader,
            tombstones=self.tombstones,
        )
        self.writer.on_commit.append(self.loader.wake)
        self.loader.writer = self.writer
        self.buckets = KeyBuckets(config.key_rate, config.key_burst)
        self.counters = CollectorCounters()
        self.faults = config.fault_5xx_after_write
        self.faulted: set[int] = set()
        from kundresa._pii import Scrubber

        #: the workspace's personal-data rules, applied by the collector before its inbox
        self.pii = Scrubber(self.ws.pii_rules, self.ws.salt)
        from kundresa.server._logins import LoginGuard

        self.logins = LoginGuard(
            ServerState(config.state, synchronous="NORMAL"),
            per_user=config.login_per_user,
            per_address=config.login_per_address,
            window=config.login_window,
            per_server=config.login_per_server,
            workers=config.login_workers,
            queue=2 * config.login_workers,
        )
        self._pending = 0
        self._pending_checked = 0.0
        from kundresa.server._retention import RetentionTimer

        self.retention = RetentionTimer(self, config.retention_interval)

    def start(self) -> None:
        """Start the loader."""
        self.loader.start()
        self.logins.warm()
        self.retention.start()  # applies the retention policy now, then every interval

    def stop(self) -> None:
        """Commit what is queued, load it, stitch, close."""
        self.logins.close()
        self.retention.stop()
        self.writer.close()
        self.loader.stop()
        with self.lock:
            self.ws.close()

    def overloaded(self) -> bool:
        """Too many requests waiting for a commit, or too many events waiting to load."""
        if self.writer.backlog() >= self.config.max_queue:
            return True
        import time

        now = time.monotonic()
        if now - self._pending_checked > 0.5:
            self._pending = self.state.pending_events()
            self._pending_checked = now
        return self._pending >= self.config.max_pending_events

    def data_version(self) -> tuple[int, int]:
        """Changes whenever the loader stores events or stitches (measurements are cached
        until then)."""
        stats = self.loader.stats
        return (stats.accepted, stats.stitches)

    def forget(self, identifier: str, id_type: str) -> Any:
        """Forget a person while serving: load what the collector acknowledged, erase them
        from the store with tombstones (now also checked by the collector), and erase the
        loaded inbox from the state file (:func:`kundresa.server._forget.forget_everywhere`)."""
        from kundresa.server._forget import forget_everywhere

        with self.lock:
            result = forget_everywhere(self.ws, self.loader, identifier, id_type)
        self.loader.wake()
        return result

    def form(self, analysis: Analysis) -> dict[str, Any]:
        """The choices of an analysis' builder form (serialised with the loader)."""
        if analysis.form is None:
            return {}
        with self.lock:
            return analysis.form(self.ws)

    def run(self, analysis: Analysis, params: Any) -> Any:
        """Run an analysis on the workspace (serialised with the loader). A journey-map
        parameter names a map the server loaded (the first when not given)."""
        params = self.resolve(analysis, params)
        with self.lock:
            return analysis.run(self.ws, params)

    def resolve(self, analysis: Analysis, params: Any) -> Any:
        """``params`` with each journey-map name replaced by the map's file."""
        if analysis.map_params and params is not None:
            update = {}
            for name in analysis.map_params:
                value = getattr(params, name, None)
                if value is not None or name in analysis.maps_required:
                    update[name] = str(self.maps.path(value)[1])
            params = params.model_copy(update=update)
        return params


def clean_json(value: Any) -> Any:
    """NaN and infinities -> None (JSON has no such numbers).

    >>> clean_json({"a": [float("nan"), 1.5]})
    {'a': [None, 1.5]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response that never fails on NaN."""
    body = json.dumps(clean_json(data), ensure_ascii=False, default=str)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(status: int, reason: str, detail: str, **extra: Any) -> Response:
    """The API's error shape: ``{"error": reason, "detail": message}``."""
    return json_response({"error": reason, "detail": detail, **extra}, status)


def _declared_refusal(analysis: Analysis | None, request: Request) -> str | None:
    """The declared validation's message for the request's query string, if it refuses it."""
    if analysis is None or analysis.explain is None:
        return None
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    return analysis.explain(query)


def validation_message(request: Request, exc: RequestValidationError) -> str:
    """One line for a request the query model refused: the declared validation's message
    for an analysis (the CLI's and Python's), else the first error's field and reason.

    >>> from starlette.requests import Request as R
    >>> req = R({"type": "http", "path": "/api/v1/x", "query_string": b"", "headers": []})
    >>> err = RequestValidationError([{"loc": ("query", "top"), "msg": "too big", "input": "9"}])
    >>> validation_message(req, err)
    "top: '9' is not allowed; too big"
    """
    path = request.url.path
    if path.startswith("/api/v1/"):
        message = _declared_refusal(ANALYSES.get(path[len("/api/v1/") :]), request)
        if message:
            return message
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path")]
    field = ".".join(loc) or "request"
    value = first.get("input")
    shown = value if isinstance(value, str | int | float | bool) or value is None else "..."
    if isinstance(shown, str) and len(shown) > 40:
        shown = shown[:40]
    msg = " ".join(str(first.get("msg", "invalid")).split())
    return f"{field}: {shown!r} is not allowed; {msg[:200]}"


#: the error body of every 4xx of the API (OpenAPI ``components.schemas.ApiError``)
API_ERROR = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "A short reason, e.g. invalid_request"},
        "detail": {"type": "string", "description": "One line: the field, the value, the fix"},
    },
}


def _openapi_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with FastAPI's 422 body replaced by the API's error shape
    (what :func:`validation_message` answers), and every documented 4xx of an API route
    given that shape."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components["ApiError"] = API_ERROR
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}
    for path, methods in schema.get("paths", {}).items():
        for op in methods.values():
            responses = op.get("responses", {})
            for code, response in responses.items():
                if code == "422" or (code.startswith("4") and path.startswith("/api/")):
                    response.update(ref)
                    if code == "422":
                        response["description"] = "Invalid parameters (field, allowed range)"
    return schema


# -- collector -----------------------------------------------------------------------------
def _collector_route(call: str) -> Callable[..., Any]:
    # POST /v1/* is answered by CollectorFastPath before routing; this route documents it
    # in OpenAPI and serves an app mounted without the middleware (same handler)
    async def collect(request: Request) -> Response:
        status, body, extra = await handle_call(
            request.app.state.runtime,
            call,
            request.headers.get("content-encoding"),
            request.headers.get("authorization"),
            request.stream(),
        )
        return Response(body, status, {**_CORS, **extra}, media_type="application/json")

    collect.__name__ = f"collect_{call}"
    return collect


async def _preflight(request: Request) -> Response:
    headers = dict(_CORS)
    origin = request.headers.get("origin")
    if origin:
        headers["Vary"] = "Origin"
    return Response(status_code=200, headers=headers)


_COLLECTOR_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A Segment call, or {batch: [calls]} for /v1/batch",
                }
            },
            "text/plain": {"schema": {"type": "string"}},
        },
    },
    "responses": {
        "200": {"description": "Stored durably (exactly 200, as Segment)"},
        "400": {"description": "Not JSON, or over 32 KB per event / 500 KB per batch"},
        "401": {"description": "Unknown or revoked write key"},
        "429": {"description": "Overloaded; see Retry-After"},
    },
}


# -- REST API ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reader:
    """Who reads: a user (session) or a read key."""

    kind: str
    name: str


def current_reader(request: Request) -> Reader | None:
    """The session user or read key of a request, or None."""
    rt: Runtime = request.app.state.runtime
    cookie = request.cookies.get("kundresa_session")
    if cookie:
        got = rt.state.session(cookie)
        if got:
            return Reader("user", got[0])
    auth = request.headers.get("authorization") or ""
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else basic_auth_user(auth)
    if token:
        local = rt.config.local_token
        if local and hmac.compare_digest(token.encode(), local.encode()):
            return Reader("local", "cli")  # the token of <db>.server.json (ADR 0012)
        key = rt.state.check_key(token, "read")
        if key:
            return Reader("key", key.name)
    return None


class AuthRequiredError(Exception):
    """No session and no read key."""


def require_reader(request: Request) -> Reader:
    """Dependency: a logged-in user or a read key (``Authorization: Bearer kr_...``)."""
    reader = current_reader(request)
    if reader is None:
        raise AuthRequiredError()
    return reader


def _api_route(analysis: Analysis) -> Callable[..., Any]:
    def endpoint(request: Request, reader: Reader, params: Any = None) -> Response:
        rt: Runtime = request.app.state.runtime
        refused = _declared_refusal(analysis, request)
        if refused:  # the model's types passed, the declared ranges did not
            return error_response(422, "invalid_request", refused)
        try:
            result = rt.run(analysis, params)
            other = alternate(rt, analysis, params, result, request)  # text, --out (ADR 0012)
        except NotFoundError as exc:
            return error_response(404, "not_found", str(exc))
        except KundresaError as exc:
            return error_response(400, "invalid_request", str(exc))
        return other or json_response(result.to_dict())

    sig = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter(
            "reader",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[Reader, Depends(require_reader)],
        ),
    ]
    if analysis.params is not None:
        sig.append(
            inspect.Parameter(
                "params",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=Annotated[analysis.params, Query()],
            )
        )
    endpoint.__signature__ = inspect.Signature(sig)  # type: ignore[attr-defined]
    endpoint.__name__ = f"api_{analysis.name.replace('-', '_')}"
    return endpoint


def create_app(config: ServerConfig) -> FastAPI:
    """The app for ``config``; the workspace opens when the app starts (lifespan)."""
    from kundresa import __version__

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = Runtime(config)
        app.state.runtime = rt
        rt.start()
        try:
            yield
        finally:
            await asyncio.get_running_loop().run_in_executor(None, rt.stop)

    app = FastAPI(
        title="kundresa",
        version=__version__,
        description=(
            "Collector (Segment HTTP Tracking API), REST API and web app of kundresa. "
            "Read endpoints need a read key (`Authorization: Bearer kr_...`) or a web session."
        ),
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads from a CDN: /api/docs is our own page (below)
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(422, "invalid_request", validation_message(request, exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # the API's error shape on /api/ (a body FastAPI cannot parse: 400); pages keep theirs
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        reason = "invalid_request" if exc.status_code in (400, 422) else "http_error"
        if exc.status_code == 404:
            reason = "not_found"
        elif exc.status_code == 405:
            reason = "method_not_allowed"
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        response = error_response(exc.status_code, reason, " ".join(detail.split()))
        response.headers.update(exc.headers or {})
        return response

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi_errors(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(AuthRequiredError)
    async def _needs_auth(request: Request, exc: AuthRequiredError) -> Response:
        return json_response(
            {
                "error": "unauthorized",
                "detail": "send a read key (Authorization: Bearer kr_...; create one with "
                "kundresa keys create --kind read --name NAME) or log in",
            },
            401,
            {"WWW-Authenticate": 'Bearer realm="kundresa"'},
        )

    for call in CALLS:
        app.add_api_route(
            f"/v1/{call}",
            _collector_route(call),
            methods=["POST"],
            tags=["collector"],
            summary=f"Segment {CALLS[call]} call" + (" (short path)" if len(call) == 1 else ""),
            openapi_extra=_COLLECTOR_BODY,
            response_class=Response,
        )
        app.add_api_route(f"/v1/{call}", _preflight, methods=["OPTIONS"], include_in_schema=False)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        # public, as /api/openapi.json: the API's shape, no data (docs/server.md)
        from kundresa.server._apidocs import render_api_docs
        from kundresa.server._web import SECURITY_HEADERS

        html = render_api_docs(app.openapi())
        return Response(html, media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

    @app.get("/healthz", tags=["meta"], summary="Liveness")
    def healthz() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/api/v1/collector", tags=["meta"], summary="Collector and loader counters")
    def collector_stats(
        request: Request, reader: Annotated[Reader, Depends(require_reader)]
    ) -> Response:
        rt: Runtime = request.app.state.runtime
        pending = rt.state.pending_events()  # read before the flag: see Loader.load_once
        return json_response(
            {
                "pending_events": pending,
                "queued_requests": rt.writer.backlog(),
                "stitch_pending": rt.loader.dirty,
                "inbox_commits": rt.writer.commit_stats(),
                "loader": rt.loader.stats.to_dict(),
                "forgotten_calls": rt.tombstones.dropped,
                "refused": rt.counters.to_dict(),
                "limits": {
                    "max_calls_per_batch": MAX_CALLS_PER_BATCH,
                    "key_rate": rt.buckets.rate,
                    "key_burst": rt.buckets.burst,
                },
            }
        )

    @app.get("/api/v1/keys", tags=["meta"], summary="API keys (never the secrets)")
    def list_keys(request: Request, reader: Annotated[Reader, Depends(require_reader)]) -> Response:
        rt: Runtime = request.app.state.runtime
        return json_response({"keys": [k.to_dict() for k in rt.state.list_keys()]})

    @app.get("/api/v1/analyses", tags=["meta"], summary="The analyses this server serves")
    def list_analyses(
        request: Request, reader: Annotated[Reader, Depends(require_reader)]
    ) -> Response:
        return json_response(
            {
                "analyses": [
                    {
                        "name": a.name,
                        "titles": dict(a.titles),
                        "description": a.description,
                        "api": f"/api/v1/{a.name}",
                        "page": a.web_path or f"/{a.name}",
                        "params": a.params.model_json_schema() if a.params else None,
                    }
                    for a in ANALYSES.values()
                ]
            }
        )

    for analysis in ANALYSES.values():
        app.add_api_route(
            f"/api/v1/{analysis.name}",
            _api_route(analysis),
            methods=["GET"],
            tags=["analyses"],
            summary=analysis.titles.get("en", analysis.name),
            description=analysis.description,
            response_class=Response,
            responses={
                200: {
                    "description": "The result object's to_dict(); with `Accept: text/plain`"
                    " the CLI's text rendering",
                    "content": {"application/json": {}, "text/plain": {}},
                },
                400: {"description": "Invalid parameters (field, allowed values, fix)"},
                401: {"description": "No read key or session"},
                404: {"description": "Something named does not exist (closest names)"},
            },
        )

    from kundresa.server._local import add_forget_route, add_sql_route
    from kundresa.server._web import add_web
    from kundresa.server._web_map import add_map_routes

    add_sql_route(app)
    add_forget_route(app)
    from kundresa.server._retention import add_retention_routes

    add_retention_routes(app)
    add_map_routes(app)
    add_web(app)
    app.add_middleware(CollectorFastPath)
    return app
