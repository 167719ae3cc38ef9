"""REST API and web app, in process: read access, the library's result objects as JSON,
the committed OpenAPI document, login/CSRF/cookies, labels, JSON twins, the keys page and
the registration point for analyses.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from kundresa import Workspace
from kundresa._overview import overview
from kundresa._results import Result
from kundresa.server._app import ServerConfig, create_app
from kundresa.server._registry import ANALYSES, Analysis, register_analysis
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import create_key

OPENAPI = Path(__file__).parent.parent / "docs" / "openapi.json"
PASSWORD = "correct horse battery"
PAGES = ["overview", "info", "events", "quarantine", "keys"]


class Web:
    def __init__(self, client: TestClient, read: str, write: str) -> None:
        self.client = client
        self.read = read
        self.write = write

    @property
    def rt(self) -> Any:
        return self.client.app.state.runtime  # type: ignore[attr-defined]

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.read}"}


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no csrf field"
    return m.group(1)


def login(client: TestClient, user: str = "anna", password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"user": user, "password": password, "csrf": csrf_of(page.text), "next": "/info"},
        follow_redirects=False,
    )


def make_client(app: Any) -> TestClient:
    # https so that the Secure session cookie is kept and sent back, as a browser would
    return TestClient(app, base_url="https://testserver")


@contextmanager
def another_client(web: Web) -> Iterator[TestClient]:
    """A second browser on the running app (no second lifespan: the runtime is shared)."""
    c = make_client(web.client.app)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    d = tmp_path_factory.mktemp("web")
    db = d / "web.duckdb"
    synth = synthesize(persons=120, seed=3, out=d / "synth", days=14)
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path])
    bad = d / "bad.jsonl"
    bad.write_text('{"type": "track", "userId": "u1"}\nnot json\n')
    with Workspace.open(db) as ws:
        ws.ingest([bad])
    st = ServerState(state_path(db))
    st.set_user("anna", PASSWORD, "sv")
    st.close()
    read, write = create_key(db, "dash", "read"), create_key(db, "site")
    app = create_app(ServerConfig(db=str(db), loader_interval=0.05, stitch_interval=0.1))
    with make_client(app) as client:
        yield Web(client, read, write)


def test_api_needs_a_read_key_or_a_session(web: Web) -> None:
    anon = web.client.get("/api/v1/info")
    assert anon.status_code == 401
    assert anon.json()["error"] == "unauthorized"
    assert anon.headers["www-authenticate"].startswith("Bearer")
    assert web.client.get("/api/v1/info", headers=web.bearer()).status_code == 200
    assert web.client.get("/api/v1/info", auth=(web.read, "")).status_code == 200
    assert web.client.get("/api/v1/info", auth=(web.write, "")).status_code == 401
    with another_client(web) as c:
        assert login(c).status_code == 303
        assert c.get("/api/v1/info").status_code == 200


def test_endpoints_return_the_library_result_objects(web: Web) -> None:
    with web.rt.lock:
        info = web.rt.ws.info().to_dict()
        over = overview(web.rt.ws).to_dict()
        quarantine = web.rt.ws.quarantine(limit=1).to_dict()
    assert web.client.get("/api/v1/info", headers=web.bearer()).json() == info
    assert web.client.get("/api/v1/overview", headers=web.bearer()).json() == over
    got = web.client.get("/api/v1/quarantine?limit=1", headers=web.bearer()).json()
    assert got == quarantine
    assert info["events"] > 100
    assert quarantine["by_reason"] == {"invalid_json": 1, "missing_event_name": 1}
    # overview: per-day counts add up to the touchpoint events
    assert sum(sum(v) for v in over["by_channel"].values()) == info["touchpoint_events"]
    # conversion trend, against plain SQL
    with web.rt.lock:
        sql = web.rt.ws.sql(
            "SELECT CAST(ts AS DATE)::VARCHAR AS day, count(DISTINCT person_id) AS p, "
            "count(DISTINCT CASE WHEN event = 'Order Completed' THEN person_id END) AS c "
            "FROM events WHERE type IN ('track', 'page', 'screen') GROUP BY 1 ORDER BY 1"
        ).to_pylist()
    assert over["dates"] == [r["day"] for r in sql]
    assert over["conversion_rate"] == pytest.approx([r["c"] / r["p"] for r in sql])
    assert max(over["conversion_rate"]) > 0


def test_bad_parameters_are_4xx_with_the_reason(web: Web) -> None:
    r = web.client.get("/api/v1/quarantine?limit=0", headers=web.bearer())
    assert r.status_code == 422
    r = web.client.get("/api/v1/quarantine?reason=missing_evnt_name", headers=web.bearer())
    assert r.status_code == 404
    assert "missing_event_name" in r.json()["detail"]
    # found by the fuzzer: a NUL byte must be refused before it reaches a SQL literal
    r = web.client.get("/api/v1/overview?conversion=%27%29%00x", headers=web.bearer())
    assert r.status_code == 422
    r = web.client.get("/api/v1/overview?conversion=It%27s%22%29", headers=web.bearer())
    assert r.status_code == 200
    assert r.json()["conversion"] == "It's\")"
    assert web.client.get("/api/v1/events?user_id=a%00", headers=web.bearer()).status_code == 422


def test_openapi_document_is_committed_and_current(web: Web) -> None:
    spec = web.client.get("/api/openapi.json").json()
    text = json.dumps(spec, indent=2, sort_keys=True) + "\n"
    if os.environ.get("KUNDRESA_UPDATE_OPENAPI") == "1":
        OPENAPI.write_text(text)
    assert OPENAPI.exists(), "run KUNDRESA_UPDATE_OPENAPI=1 pytest tests/test_server_web.py"
    assert OPENAPI.read_text() == text, (
        "docs/openapi.json is stale: KUNDRESA_UPDATE_OPENAPI=1 pytest tests/test_server_web.py"
    )
    assert "/v1/batch" in spec["paths"]
    assert "/api/v1/overview" in spec["paths"]


def test_login_is_csrf_protected_and_sets_a_strict_httponly_secure_cookie(web: Web) -> None:
    with another_client(web) as c:
        c.get("/login")
        forged = c.post(
            "/login",
            data={"user": "anna", "password": PASSWORD, "csrf": "forged"},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        wrong = login(c, password="wrong password")
        assert wrong.status_code == 303
        assert "failed=1" in wrong.headers["location"]
        assert "kundresa_session" not in c.cookies
        ok = login(c)
        assert ok.status_code == 303
        assert ok.headers["location"] == "/info"
        cookie = next(
            h for h in ok.headers.get_list("set-cookie") if h.startswith("kundresa_session=")
        )
        flags = {p.strip().lower() for p in cookie.split(";")}
        assert {"httponly", "secure", "samesite=strict"} <= flags
        # logout needs the session's CSRF token too
        page = c.get("/info")
        assert c.post("/logout", data={"csrf": "x"}, follow_redirects=False).status_code == 403
        out = c.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
        assert out.status_code == 303
        assert c.get("/info", follow_redirects=False).status_code == 303


def test_pages_need_a_login(web: Web) -> None:
    with another_client(web) as c:
        for page in PAGES:
            r = c.get(f"/{page}", follow_redirects=False)
            assert r.status_code == 303
            assert r.headers["location"].startswith("/login?next=%2F" + page)


@pytest.fixture(scope="module")
def session(web: Web) -> Iterator[TestClient]:
    with another_client(web) as c:
        assert login(c).status_code == 303
        yield c


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_its_json_twin(session: TestClient, page: str) -> None:
    r = session.get(f"/{page}?lang=en")
    assert r.status_code == 200
    m = re.search(r'<link rel="alternate" type="application/json" href="([^"]+)">', r.text)
    assert m, f"/{page} has no JSON twin"
    twin = session.get(m.group(1).replace("&amp;", "&"))
    assert twin.status_code == 200
    assert twin.headers["content-type"].startswith("application/json")
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert r.headers["x-frame-options"] == "DENY"


def test_page_shows_the_numbers_of_its_twin(session: TestClient) -> None:
    page = session.get("/overview?lang=en").text
    info = session.get("/api/v1/info").json()
    m = re.search(r'data-kpi="events"><div class="kpi">([0-9,]+)<', page)
    assert m
    assert int(m.group(1).replace(",", "")) == info["events"]
    assert 'id="figure-data"' in page
    assert '<script src="/static/plotly.min.js">' in page
    assert "cdn" not in page.lower()


@pytest.mark.parametrize(
    ("lang", "header", "title"),
    [
        ("sv", None, "Översikt"),
        ("nb", None, "Oversikt"),
        ("en", None, "Overview"),
        (None, "nb-NO,nb;q=0.9", "Oversikt"),
        (None, "sv-SE", "Översikt"),
        (None, "de-DE", "Overview"),
    ],
)
def test_labels_in_swedish_norwegian_and_english(
    web: Web, lang: str | None, header: str | None, title: str
) -> None:
    with another_client(web) as c:
        login(c)
        c.cookies.delete("kundresa_lang")
        headers = {"Accept-Language": header} if header else {}
        r = c.get("/overview" + (f"?lang={lang}" if lang else ""), headers=headers)
        assert f"<h1>{title}</h1>" in r.text
        if lang:  # the choice sticks
            assert f"<h1>{title}</h1>" in c.get("/overview").text


def test_keys_page_creates_and_revokes_keys_with_csrf(web: Web, session: TestClient) -> None:
    page = session.get("/keys")
    assert page.status_code == 200
    no_csrf = session.post("/keys", data={"name": "shop", "kind": "write"})
    assert no_csrf.status_code == 403
    made = session.post("/keys", data={"name": "shop", "kind": "write", "csrf": csrf_of(page.text)})
    assert made.status_code == 200
    token = re.search(r'<code id="new-key">([^<]+)</code>', made.text)
    assert token
    key = next(k for k in web.rt.state.list_keys() if k.name == "shop")
    event = {"type": "track", "event": "E", "anonymousId": "k", "messageId": "key-page-1"}
    assert web.client.post("/v1/t", json=event, auth=(token.group(1), "")).status_code == 200
    gone = session.post(
        "/keys/revoke", data={"id": key.id, "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert gone.status_code == 303
    assert web.client.post("/v1/t", json=event, auth=(token.group(1), "")).status_code == 401
    listed = session.get("/api/v1/keys").json()["keys"]
    assert [k["active"] for k in listed if k["name"] == "shop"] == [False]
    assert all(token.group(1) not in json.dumps(k) for k in listed)


def test_plotly_is_served_from_the_installed_package(web: Web) -> None:
    r = web.client.get("/static/plotly.min.js")
    assert r.status_code == 200
    assert len(r.content) > 1_000_000
    assert b"plotly" in r.content[:2000].lower()


class _Params(BaseModel):
    n: int = 2


def test_one_registration_adds_an_endpoint_and_a_page(web: Web, tmp_path: Path) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Doubled(Result):
        n: int
        doubled: int

    register_analysis(
        Analysis(
            name="double",
            titles={"en": "Double", "sv": "Dubbla", "nb": "Doble"},
            params=_Params,
            run=lambda ws, p: Doubled(n=p.n, doubled=2 * p.n),
        )
    )
    try:
        db = tmp_path / "reg.duckdb"
        read = create_key(db, "r", "read")
        st = ServerState(state_path(db))
        st.set_user("anna", PASSWORD)
        st.close()
        with make_client(create_app(ServerConfig(db=str(db)))) as c:
            r = c.get("/api/v1/double?n=21", headers={"Authorization": f"Bearer {read}"})
            assert r.json() == {"n": 21, "doubled": 42}
            assert "/api/v1/double" in c.get("/api/openapi.json").json()["paths"]
            login(c)
            page = c.get("/double?n=21&lang=sv")
            assert "<h1>Dubbla</h1>" in page.text
            assert "doubled=42" in page.text  # str(result) on the default page
            assert 'href="/api/v1/double?n=21"' in page.text
            bad = c.get("/double?n=x")
            assert bad.status_code == 400
            assert "n:" in bad.text
    finally:
        ANALYSES.pop("double")


def test_login_guessing_is_throttled(web: Web) -> None:
    st = web.rt.state
    st.set_user("bertil", PASSWORD)
    with another_client(web) as c:
        for _ in range(5):
            r = login(c, user="bertil", password="guess " + "x" * 8)
            assert r.status_code == 303
        # the sixth try is refused before any password check, even the right one
        blocked = login(c, user="bertil")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        # other users are not affected
        assert login(c).status_code == 303
