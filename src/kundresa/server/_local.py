"""The server's side of ADR 0012: the CLI beside a running server.

- :func:`local_server`: the uvicorn server that writes ``<db>.server.json`` (PID, URL, the
  local token; mode 0600) once it listens and removes it when it stops;
- :func:`alternate`: other representations of an analysis' result for the CLI it answers
  for: ``Accept: text/plain`` (exactly) is the CLI's text output, ``X-Kundresa-Out: .csv``
  the bytes of its ``--out`` file;
- :func:`add_sql_route`: ``POST /api/v1/sql``, one read-only SELECT (:func:`select_only`).

>>> select_only("select 1 as one;")
'select 1 as one;'
>>> select_only("delete from events")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
kundresa.InvalidOptionError: query: 'delete from events' is not allowed; only one ...
"""

import json
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kundresa._errors import InvalidOptionError, KundresaError

if TYPE_CHECKING:
    import uvicorn

    from kundresa._workspace import Workspace
    from kundresa.server._app import Runtime
    from kundresa.server._registry import Analysis

__all__ = ["SqlQuery", "add_sql_route", "alternate", "local_server", "select_only"]

#: what ``X-Kundresa-Out`` may be: a file name's suffix (which ones the analysis writes is
#: for its writer to say, as on the CLI)
_SUFFIX = re.compile(r"\.[a-z0-9]{1,16}")


def wants_text(request: Request) -> bool:
    """Whether the request asks for ``text/plain`` and nothing else (a browser's list of
    types never does, so it keeps getting JSON).

    >>> from starlette.requests import Request as R
    >>> wants_text(R({"type": "http", "headers": [(b"accept", b"text/plain")]}))
    True
    """
    return request.headers.get("accept", "").split(";")[0].strip().lower() == "text/plain"


def owner_responses(erased: str, bad: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of an endpoint that erases (the workspace owner only).

    >>> owner_responses("ForgetResult", "Unknown id_type")[403]
    {'description': 'Not the local token'}
    """
    return {
        200: {"description": f"What was erased where ({erased}.to_dict())"},
        400: {"description": bad},
        401: {"description": "No credential"},
        403: {"description": "Not the local token"},
    }


def not_owner(kind: str, command: str) -> Response | None:
    """403 unless the credential is the server's local token (only the workspace's owner
    may erase), else None.

    >>> not_owner("local", "forget") is None
    True
    >>> not_owner("read", "forget").status_code
    403
    """
    if kind == "local":
        return None
    from kundresa.server._app import error_response

    return error_response(
        403,
        "forbidden",
        f"{command}: only the workspace's owner may erase; run `kundresa {command}` on the "
        "server's machine (it uses the local token of <db>.server.json)",
    )


def text_or_json(request: Request, result: Any) -> Response:
    """A result as the request asks: its text with ``Accept: text/plain``, else its JSON."""
    from kundresa.server._app import json_response

    if wants_text(request):
        return Response(str(result), media_type="text/plain; charset=utf-8")
    return json_response(result.to_dict())


def alternate(
    rt: "Runtime", analysis: "Analysis", params: Any, result: Any, request: Request
) -> Response | None:
    """The result as the CLI would print it (``Accept: text/plain``) or as its ``--out``
    file (``X-Kundresa-Out: <suffix>``); None for the default JSON."""
    suffix = request.headers.get("x-kundresa-out")
    if suffix:
        from kundresa._results import WRITE_FORMATS, write_result

        suffix = suffix.strip().lower()
        if not _SUFFIX.fullmatch(suffix):
            raise InvalidOptionError("out", suffix, allowed=WRITE_FORMATS)
        resolved = rt.resolve(analysis, params)
        # the file the CLI writes locally, made by the same code (the declared writer, else
        # write_result: .png is drawn here, by this machine's chromium) and sent as bytes
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / f"result{suffix}")
            try:
                if analysis.export is not None:
                    with rt.lock:
                        analysis.export(rt.ws, result, resolved, path)
                else:
                    write_result(result, path)
            except InvalidOptionError as exc:
                if exc.field not in ("out", "--out"):
                    raise
                # the suffix the CLI sent, not this temporary file's name
                raise InvalidOptionError("out", suffix, allowed=exc.allowed) from None
            body = Path(path).read_bytes()
        return Response(body, media_type="application/octet-stream")
    if wants_text(request):
        text = analysis.text(result, params) if analysis.text else str(result)
        return Response(text, media_type="text/plain; charset=utf-8")
    return None


# -- SQL -----------------------------------------------------------------------------------
class SqlQuery(BaseModel):
    """The body of ``POST /api/v1/sql``."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Field(min_length=1, max_length=100_000, description="One SELECT.")]
    limit: Annotated[int, Field(ge=0, le=100_000, description="Rows returned at most.")] = 50


def select_only(query: str) -> str:
    """The one statement of ``query`` if DuckDB's parser types it SELECT, else one
    :class:`~kundresa.InvalidOptionError` (several statements, another type, or a
    syntax error).

    >>> select_only("select 1; select 2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kundresa.InvalidOptionError: query: 'select 1; select 2' is not allowed; send ...
    """
    import duckdb

    shown = query if len(query) <= 80 else query[:77] + "..."
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise InvalidOptionError("query", shown, fix=str(exc).splitlines()[0]) from None
    if len(statements) != 1:
        raise InvalidOptionError(
            "query", shown, fix=f"send exactly one SELECT statement (got {len(statements)})"
        )
    st = statements[0]
    if st.type != duckdb.StatementType.SELECT:
        raise InvalidOptionError(
            "query",
            shown,
            fix=f"only one SELECT statement is answered by a running server (this is "
            f"{st.type.name}); stop the server to change the workspace",
        )
    return str(st.query).strip()


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def no_files(ws: "Workspace", statement: str) -> None:
    """Refuse table functions and anything but the workspace's tables (a read key reads the
    workspace, not the server's files: ``read_csv('/etc/passwd')``, ``FROM 'x.csv'``)."""
    raw = ws.store.fetch_sql("SELECT json_serialize_sql(?) AS j", [statement])
    tree = json.loads(raw.column("j")[0].as_py())
    if tree.get("error"):
        raise InvalidOptionError("query", statement[:80], fix=str(tree.get("error_message")))
    nodes = list(_walk(tree))
    ctes = {
        str(item.get("key", "")).lower()
        for n in nodes
        if isinstance(n.get("cte_map"), dict)
        for item in n["cte_map"].get("map", [])
    }
    tables = {t.lower() for t in ws.store.names()} | ctes
    for n in nodes:
        if n.get("type") == "TABLE_FUNCTION":
            name = (n.get("function") or {}).get("function_name", "?")
            raise InvalidOptionError(
                "query", statement[:80], fix=f"table functions ({name}) need the local token"
            )
        if n.get("type") == "BASE_TABLE":
            schema = str(n.get("schema_name") or "").lower()
            name = str(n.get("table_name") or "")
            if schema in ("information_schema", "pg_catalog"):
                continue
            if name.lower() not in tables or n.get("catalog_name"):
                raise InvalidOptionError(
                    "query", statement[:80], fix=f"no table {name!r}; tables: {sorted(tables)}"
                )


def run_select(ws: "Workspace", statement: str) -> Any:
    """Run one SELECT in a read-only transaction (DuckDB refuses any write in it)."""
    ws.sql("BEGIN TRANSACTION READ ONLY")
    try:
        return ws.sql(statement)
    finally:
        ws.sql("ROLLBACK")


def add_sql_route(app: FastAPI) -> None:
    """``POST /api/v1/sql``: one SELECT, read-only, for a read key, a web session or the
    local token (only the local token may read files through table functions)."""
    from kundresa._beside import sql_text
    from kundresa._results import jsonable
    from kundresa.server._app import Reader, error_response, json_response, require_reader

    @app.post(
        "/api/v1/sql",
        tags=["meta"],
        summary="Read-only SQL: one SELECT statement",
        description="DuckDB's parser must type the query as one SELECT; it runs in a "
        "read-only transaction. JSON: columns, rows (at most `limit`), row_count; with "
        "`Accept: text/plain` the text `kundresa sql` prints.",
        response_class=Response,
        responses={
            200: {"description": "columns, rows, row_count, truncated"},
            400: {"description": "Not one SELECT statement, or the engine's error"},
            401: {"description": "No read key, session or local token"},
        },
    )
    def sql(
        request: Request, body: SqlQuery, reader: Annotated[Reader, Depends(require_reader)]
    ) -> Response:
        rt: Runtime = request.app.state.runtime
        try:
            statement = select_only(body.query)
            with rt.lock:
                if reader.kind != "local":
                    no_files(rt.ws, statement)
                try:
                    table = run_select(rt.ws, statement)
                except KundresaError:
                    raise
                except Exception as exc:  # the engine's own message is the useful part
                    raise InvalidOptionError(
                        "query", statement[:80], fix=str(exc).splitlines()[0]
                    ) from None
        except KundresaError as exc:
            return error_response(400, "invalid_request", str(exc))
        if wants_text(request):
            return Response(sql_text(table, body.limit), media_type="text/plain; charset=utf-8")
        return json_response(
            {
                "columns": table.column_names,
                "rows": jsonable(table.slice(0, body.limit).to_pylist()),
                "row_count": table.num_rows,
                "truncated": table.num_rows > body.limit,
            }
        )


class ForgetRequest(BaseModel):
    """The body of ``POST /api/v1/forget``."""

    identifier: str = Field(min_length=1, max_length=1000, description="One of the identifiers")
    id_type: str = Field(
        default="user_id", max_length=64, description="user_id, anonymous_id, email, ..."
    )


def add_forget_route(app: FastAPI) -> None:
    """``POST /api/v1/forget``: erase one person while the server runs (only with the local
    token of ``<db>.server.json``, i.e. ``kundresa forget`` on this machine)."""
    from kundresa.server._app import Reader, error_response, require_reader

    @app.post(
        "/api/v1/forget",
        tags=["meta"],
        summary="Forget one person (right to erasure); the workspace owner only",
        description="Loads what the collector acknowledged, deletes the person's events, "
        "identities, links and quarantined rows, keeps salted-hash tombstones so later "
        "arrivals of their identifiers are dropped, rewrites the DuckDB file and erases the "
        "server's inbox. Only the local token (`kundresa forget` on the server's machine).",
        response_class=Response,
        responses=owner_responses("ForgetResult", "Unknown id_type"),
    )
    def forget(
        request: Request,
        body: ForgetRequest,
        reader: Annotated[Reader, Depends(require_reader)],
    ) -> Response:
        rt: Runtime = request.app.state.runtime
        if (denied := not_owner(reader.kind, "forget")) is not None:
            return denied
        try:
            result = rt.forget(body.identifier, body.id_type)
        except KundresaError as exc:
            return error_response(400, "invalid_request", str(exc))
        return text_or_json(request, result)


# -- the server file -----------------------------------------------------------------------
def _connect_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def local_server(
    config: "uvicorn.Config",
    *,
    db: str,
    engine: str,
    token: str,
    maps: Callable[[], Mapping[str, str]],
) -> "uvicorn.Server":
    """A uvicorn server that announces itself in ``<db>.server.json`` while it listens."""
    import uvicorn

    from kundresa._beside import remove_server_file, write_server_file

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit and token:
                port = self.servers[0].sockets[0].getsockname()[1]
                url = f"http://{_connect_host(self.config.host)}:{port}"
                write_server_file(db, url=url, token=token, engine=engine, maps=maps())

        async def shutdown(self, sockets: Any = None) -> None:
            try:
                await super().shutdown(sockets)
            finally:
                if token:
                    remove_server_file(db, token)

    return _Server(config)
