"""The web app: server-rendered pages, login, CSRF, languages; every page has a JSON twin.

Security: passwords with scrypt (:mod:`kundresa.server._state`); the session cookie is
``HttpOnly``, ``SameSite=Strict`` and ``Secure`` whenever the request came over HTTPS (or
``secure_cookies=True``); every form carries a CSRF token (the session's, or for the login
form a double-submit cookie); pages send a Content-Security-Policy that allows scripts only
from this server (Plotly's ``plotly.min.js`` is served from the installed package).

>>> safe_next("/overview?lang=sv")
'/overview?lang=sv'
>>> safe_next("//evil.example/")
'/overview'
"""

import asyncio
import hmac
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from kundresa._errors import KundresaError
from kundresa.server._i18n import LANGUAGES, label, pick_language
from kundresa.server._registry import ANALYSES, Analysis

__all__ = ["SECURITY_HEADERS", "add_web", "safe_next"]

_HERE = Path(__file__).parent
_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SESSION_COOKIE = "kundresa_session"
LOGIN_CSRF_COOKIE = "kundresa_login_csrf"
LANG_COOKIE = "kundresa_lang"


def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/overview"
    return target


def plotly_js() -> Path:
    """Plotly's bundled ``plotly.min.js`` inside the installed ``plotly`` package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _secure(request: Request) -> bool:
    forced = request.app.state.runtime.config.secure_cookies
    if forced is not None:
        return bool(forced)
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto == "https"


def _lang(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in LANGUAGES:
        return str(q)
    c = request.cookies.get(LANG_COOKIE)
    if c in LANGUAGES:
        return str(c)
    return pick_language(request.headers.get("accept-language"))


def _session(request: Request) -> tuple[str, str, str] | None:
    """``(user, csrf, token)`` of the request's session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    got = request.app.state.runtime.state.session(token)
    return (got[0], got[1], token) if got else None


def _render(
    request: Request,
    template: str,
    *,
    page: str,
    title: str,
    twin: str | None,
    status: int = 200,
    session: tuple[str, str, str] | None = None,
    **ctx: Any,
) -> HTMLResponse:
    lang = _lang(request)

    def lang_query(code: str) -> str:
        params = dict(request.query_params)
        params["lang"] = code
        return urlencode(params)

    html = _ENV.get_template(template).render(
        lang=lang,
        L=lambda k: label(k, lang),
        languages=LANGUAGES,
        lang_query=lang_query,
        page=page,
        title=title,
        twin=twin,
        user=session[0] if session else None,
        csrf=ctx.pop("csrf", session[1] if session else ""),
        nav=[{"name": a.name, "title": a.title(lang)} for a in ANALYSES.values() if a.nav],
        **ctx,
    )
    resp = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in LANGUAGES:
        resp.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", secure=_secure(request)
        )
    return resp


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


async def _signed_form(request: Request) -> tuple[tuple[str, str, str], Any] | Response:
    """The session and the posted form of a logged-in user's form post, or the response that
    refuses it: a redirect to the login page without a session, 403 without the session's CSRF
    token. Every state-changing page form goes through this one check."""
    session = _session(request)
    if session is None:
        return _login_redirect(request)
    form = await request.form()
    if not _csrf_ok(form.get("csrf"), session[1]):
        return Response("CSRF token missing or wrong", 403)
    return session, form


def _csrf_ok(sent: Any, expected: str | None) -> bool:
    return (
        isinstance(sent, str)
        and bool(expected)
        and hmac.compare_digest(sent.encode(), str(expected).encode())
    )


def _figure_json(
    result: Any, *, titled: bool = True, draw: Any = None, lang: str = "en"
) -> str | None:
    try:
        fig = result.plot() if draw is None else draw(result, lang)
    except (NotImplementedError, ImportError, AttributeError, TypeError, ValueError):
        return None
    if not titled:  # the page puts its own (translated) heading above the figure
        fig.update_layout(title=None, margin={"t": 30})
    # safe inside <script type="application/json">: no "</" can close the element
    return str(fig.to_json()).replace("</", "<\\/")


def _query(request: Request, analysis: Analysis) -> dict[str, Any]:
    """The page's parameters from the query string: empty values left out (the defaults
    apply), repeated values as a list for list parameters (``?steps=A&steps=B``)."""
    from typing import get_args, get_origin

    fields = analysis.params.model_fields if analysis.params is not None else {}
    query: dict[str, Any] = {}
    for k, v in request.query_params.multi_items():
        if k == "lang" or not v.strip():
            continue
        f = fields.get(k)
        ann = f.annotation if f is not None else None
        if ann is not None and list in (get_origin(ann), *(get_origin(a) for a in get_args(ann))):
            query.setdefault(k, []).append(v)
        else:
            query[k] = v
    return query


def _form_field(
    analysis: Analysis,
    name: str,
    f: Any,
    query: dict[str, Any],
    lang: str,
    maps: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One input of a derived form: its translated label (the name when none), its value
    (lists as the chosen values), its choices (a select; checkboxes for a list; a journey
    map one of the server's ``maps``, or none when optional)."""
    from kundresa.server._i18n_analyses import PARAM_PREFIX

    default = "" if f.default is None else f.default
    value = query.get(name, default)
    multiple = isinstance(default, list) or isinstance(query.get(name), list)
    key = PARAM_PREFIX + name
    shown = label(key, lang)
    chosen = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return {
        "name": name,
        "label": name if shown == key else shown,
        "value": ", ".join(chosen) if multiple else value,
        "chosen": chosen,
        "help": f.description or "",
        "choices": [(c, _choice_label(name, c, lang)) for c in analysis.choices.get(name, ())]
        or _map_choices(analysis, name, maps, lang),
        "multiple": multiple,
    }


def _map_choices(
    analysis: Analysis, name: str, maps: tuple[str, ...], lang: str
) -> list[tuple[str, str]]:
    if name not in analysis.map_params or not maps:
        return []
    optional = [] if name in analysis.maps_required else [("", label("none", lang))]
    return optional + [(m, m) for m in maps]


def _choice_label(name: str, value: str, lang: str) -> str:
    """The text of one choice of a form (attribution models by their names)."""
    key = f"model.{value}" if name == "model" else f"choice.{value}"
    shown = label(key, lang)
    return value if shown == key else shown


def _page_route(analysis: Analysis) -> Any:
    async def page(request: Request) -> Response:
        session = _session(request)
        if session is None:
            return _login_redirect(request)
        lang = _lang(request)
        rt = request.app.state.runtime
        query = _query(request, analysis)
        options: dict[str, Any] = {}
        if analysis.form is not None:
            import anyio.to_thread

            options = await anyio.to_thread.run_sync(rt.form, analysis)
            if not query and options.get("example"):
                query = dict(options["example"])
        twin = f"/api/v1/{analysis.name}" + (f"?{urlencode(query, doseq=True)}" if query else "")
        fields: list[dict[str, Any]] = []
        error = None
        params = None
        if analysis.params is not None:
            for name, f in analysis.params.model_fields.items():
                fields.append(_form_field(analysis, name, f, query, lang, rt.maps.names()))
            try:
                params = analysis.params.model_validate(
                    {k: v for k, v in query.items() if k in analysis.params.model_fields}
                )
            except ValidationError as exc:
                given = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
                error = analysis.explain(given) if analysis.explain else None
                if error is None:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first["loc"])
                    error = f"{where}: {first['msg']}"
        body = figure = text = None
        if error is None:
            try:
                import anyio.to_thread

                result = await anyio.to_thread.run_sync(rt.run, analysis, params)
            except KundresaError as exc:
                error = str(exc)
            else:
                if analysis.render is not None:
                    body = analysis.render(result, lang)
                    figure = _figure_json(
                        result,
                        titled="<!--figure-->" not in body,
                        draw=analysis.figure,
                        lang=lang,
                    )
                    text = None
                else:
                    figure = _figure_json(result)
                    body, text = "", str(result)
                fig_div = '<div id="figure"></div>'
                if figure and "<!--figure-->" in body:
                    body = body.replace("<!--figure-->", fig_div)
                elif figure:
                    body = fig_div + body
        return _render(
            request,
            analysis.template,
            page=analysis.name,
            options=options,
            values=query,
            title=analysis.title(lang),
            twin=twin,
            session=session,
            fields=fields,
            error=error,
            body=body or "",
            figure=figure,
            text=text,
            status=400 if error else 200,
        )

    page.__name__ = f"page_{analysis.name.replace('-', '_')}"
    return page


def add_web(app: FastAPI) -> None:
    """Add the pages, login/logout, the keys page and the static assets to ``app``."""

    @app.get("/", include_in_schema=False)
    def root(request: Request) -> Response:
        # the living journey map first, when the server shows one
        start = "/map" if request.app.state.runtime.maps.names() else "/overview"
        return RedirectResponse(start, status_code=303)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_asset() -> Response:
        return FileResponse(
            plotly_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(_HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    @app.get("/static/{name}", include_in_schema=False)
    def static_asset(name: str) -> Response:
        files = {"kundresa.js": "text/javascript", "kundresa.css": "text/css"}
        if name not in files:
            return Response("not found", status_code=404)
        return FileResponse(_HERE / "static" / name, media_type=files[name])

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, failed: int = 0, next: str = "/overview") -> Response:
        csrf = secrets.token_urlsafe(24)
        resp = _render(
            request,
            "login.html",
            page="login",
            title=label("login", _lang(request)),
            twin=None,
            csrf=csrf,
            next=safe_next(next),
            failed=bool(failed),
        )
        resp.set_cookie(
            LOGIN_CSRF_COOKIE,
            csrf,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            max_age=3600,
        )
        return resp

    @app.post("/login", include_in_schema=False)
    async def login_submit(request: Request) -> Response:
        form = await request.form()
        target = safe_next(str(form.get("next") or ""))
        if not _csrf_ok(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return Response("CSRF token missing or wrong; reload the login page", 403)
        rt = request.app.state.runtime
        user = str(form.get("user") or "")
        address = request.client.host if request.client else ""
        # reserved, throttled and hashed in the login pool, never on the event loop
        wait = rt.logins.refused(user, address)
        pending = None if wait else rt.logins.submit(user, str(form.get("password") or ""), address)
        outcome = await asyncio.wrap_future(pending) if pending is not None else None
        if outcome is None or outcome.status == "throttled":
            return Response(  # no password check at all
                label("too_many_attempts", _lang(request)),
                status_code=429,
                headers={"Retry-After": str(outcome.retry_after if outcome else wait or 1)},
            )
        got = outcome.session
        if got is None:
            return RedirectResponse(
                "/login?" + urlencode({"failed": 1, "next": target}), status_code=303
            )
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie(
            SESSION_COOKIE,
            got[0],
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            max_age=12 * 3600,
        )
        resp.delete_cookie(LOGIN_CSRF_COOKIE)
        return resp

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        session = _session(request)
        form = await request.form()
        if session is not None:
            if not _csrf_ok(form.get("csrf"), session[1]):
                return Response("CSRF token missing or wrong", 403)
            request.app.state.runtime.state.logout(session[2])
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    def keys_page(
        request: Request, session: tuple[str, str, str], new_token: str | None = None
    ) -> Response:
        rt = request.app.state.runtime
        stats = {
            "pending_events": rt.state.pending_events(),
            "loader": rt.loader.stats.to_dict(),
        }
        return _render(
            request,
            "keys.html",
            page="keys",
            title=label("keys", _lang(request)),
            twin="/api/v1/keys",
            session=session,
            keys=rt.state.list_keys(),
            new_token=new_token,
            base_url=str(request.base_url).rstrip("/"),
            stats=json.dumps(stats, indent=2),
        )

    @app.get("/keys", include_in_schema=False)
    def keys_get(request: Request) -> Response:
        session = _session(request)
        if session is None:
            return _login_redirect(request)
        return keys_page(request, session)

    @app.post("/keys", include_in_schema=False)
    async def keys_create(request: Request) -> Response:
        signed = await _signed_form(request)
        if isinstance(signed, Response):
            return signed
        session, form = signed
        try:
            _, token = request.app.state.runtime.state.create_key(
                str(form.get("name") or ""), str(form.get("kind") or "write")
            )
        except KundresaError as exc:
            return Response(str(exc), 400)
        return keys_page(request, session, new_token=token)

    @app.post("/keys/revoke", include_in_schema=False)
    async def keys_revoke(request: Request) -> Response:
        signed = await _signed_form(request)
        if isinstance(signed, Response):
            return signed
        _, form = signed
        try:
            request.app.state.runtime.state.revoke_key(str(form.get("id") or ""))
        except KundresaError as exc:
            return Response(str(exc), 404)
        return RedirectResponse("/keys", status_code=303)

    for analysis in ANALYSES.values():
        if analysis.web_path is not None:  # a page of its own (the measured map: /map)
            continue
        app.add_api_route(
            f"/{analysis.name}",
            _page_route(analysis),
            methods=["GET"],
            include_in_schema=False,
        )
