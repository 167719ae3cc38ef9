"""A real browser: Debian's chromium driven by Playwright loads every page of a live server,
logs in, uses the forms, switches language, and sends events to the collector from another
origin (CORS preflight with Authorization, and analytics.js-style text/plain with writeKey).

Also analytics.js (@segment/analytics-next, a local copy: no CDN) on a test page.
Screenshots go to artifacts/screenshots/ (CI keeps that folder).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from kundresa import Workspace
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import LiveServer, create_key, free_port, wait_loaded

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent.parent / "artifacts" / "screenshots"
PASSWORD = "a long enough password"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    _require_chromium()
    d = tmp_path_factory.mktemp("browser")
    db = d / "b.duckdb"
    synth = synthesize(persons=150, seed=11, out=d / "synth", days=21)
    bad = d / "bad.jsonl"
    bad.write_text('{"type": "track", "event": "E", "anonymousId": "x", "timestamp": "soon"}\n')
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path, bad])
    st = ServerState(state_path(db))
    st.set_user("strateg", PASSWORD)
    st.close()
    write, read = create_key(db, "website"), create_key(db, "dash", "read")
    with LiveServer(db, extra=("--stitch-interval", "0.3")) as srv:
        yield srv, write, read


@pytest.fixture(scope="module")
def browser(live: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Page:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@contextlib.contextmanager
def logged_in(url: str, path: str, user: str = "strateg") -> Iterator[Page]:
    """A headless Chromium page logged in to the server at ``url``, opened on ``path`` (the
    login form comes first); on exit it asserts the page logged no console error."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = b.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
        pg = Page(ctx.new_page())
        pg.page.goto(url + path)
        assert "/login" in pg.page.url
        pg.page.fill("#user", user)
        pg.page.fill("#password", PASSWORD)
        pg.page.click("#login")
        pg.page.wait_for_url(f"**{path}**")
        yield pg
        assert pg.problems == []
        b.close()


def test_every_page_in_a_real_browser(browser: Any, live: Any) -> None:
    srv, _, _ = live
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    p = Page(ctx.new_page())
    page = p.page
    page.goto(srv.url + "/overview")
    assert "/login" in page.url
    p.shot("01-login")
    page.fill("#user", "strateg")
    page.fill("#password", "wrong password")
    page.click("#login")
    assert page.locator(".error").is_visible()
    page.fill("#user", "strateg")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(srv.url + "/overview")
    page.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert page.locator("#figure .main-svg").count() >= 1  # plotly drew the chart
    assert page.locator("h1").inner_text() == "Overview"
    p.shot("02-overview")
    for name in ("info", "events", "quarantine"):
        page.click(f"nav a[href='/{name}']")
        page.wait_for_url(f"{srv.url}/{name}")
        assert page.locator("#json-twin").count() == 1
        if name == "info":
            page.wait_for_selector("body[data-figure=ready]", timeout=30_000)
        p.shot(f"03-{name}")
    # a form: filter the quarantine by reason
    page.fill("input[name=reason]", "unparseable_timestamp")
    page.click("#run")
    page.wait_for_url("**reason=unparseable_timestamp**")
    assert page.locator("table.wide td", has_text="unparseable_timestamp").count() == 1
    p.shot("04-quarantine-filtered")
    # the JSON twin opens and is the same data
    twin = page.locator("#json-twin").get_attribute("href")
    resp = page.context.request.get(srv.url + twin)
    assert resp.status == 200, (twin, resp.status, resp.text())
    data = json.loads(resp.text())
    assert data["by_reason"] == {"unparseable_timestamp": 1}, (twin, data)
    # keys: create a write key through the form (CSRF token included by the page)
    page.click("nav a[href='/keys']")
    page.fill("#key-name", "shop-app")
    page.select_option("#key-kind", "write")
    page.click("#create")
    new_key = page.locator("#new-key").inner_text()
    assert new_key.startswith("kw_")
    p.shot("05-keys")
    # languages: Swedish and Norwegian labels
    page.click("a[hreflang=sv]")
    page.wait_for_selector("text=Översikt")
    page.goto(srv.url + "/overview")
    page.wait_for_selector("body[data-figure=ready]", timeout=30_000)
    assert page.locator("h1").inner_text() == "Översikt"
    p.shot("06-overview-sv")
    page.click("a[hreflang=nb]")
    page.wait_for_selector("h1:text('Oversikt')")
    p.shot("07-overview-nb")
    page.click("#logout")
    page.wait_for_url("**/login")
    assert p.problems == []
    ctx.close()


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", tmp_path
    httpd.shutdown()
    httpd.server_close()


SITE = """<!doctype html><meta charset="utf-8"><title>shop</title>
<p id="out">sending</p>
<script>
const cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
async function send() {
  const results = [];
  // like a SDK with an Authorization header: needs a CORS preflight
  let r = await fetch(cfg.collector + "/v1/t", {method: "POST",
    headers: {"Authorization": "Basic " + cfg.basic, "Content-Type": "application/json"},
    body: JSON.stringify({event: "Viewed Product", anonymousId: cfg.anon, messageId: cfg.ids[0],
                          context: {library: {name: "analytics.js"}}})});
  results.push(r.status);
  // like analytics.js: text/plain (no preflight), writeKey in the body
  r = await fetch(cfg.collector + "/v1/p", {method: "POST", headers: {"Content-Type": "text/plain"},
    body: JSON.stringify({writeKey: cfg.key, name: "Home", anonymousId: cfg.anon,
                          messageId: cfg.ids[1], context: {library: {name: "analytics.js"}}})});
  results.push(r.status);
  document.getElementById("out").textContent = "done " + results.join(",");
}
send().catch(e => document.getElementById("out").textContent = "failed " + e);
</script>"""


def test_a_web_page_on_another_origin_sends_events_to_the_collector(
    browser: Any, live: Any, other_origin: tuple[str, Path]
) -> None:
    srv, write, read = live
    origin, root = other_origin
    (root / "shop.html").write_text(SITE)
    (root / "favicon.ico").write_bytes(b"")
    run = uuid.uuid4().hex[:8]
    ids = [f"browser-{run}-1", f"browser-{run}-2"]
    cfg = {
        "collector": srv.url,
        "key": write,
        "basic": base64.b64encode(f"{write}:".encode()).decode(),
        "anon": f"browser-{run}",
        "ids": ids,
    }
    ctx = browser.new_context()
    p = Page(ctx.new_page())
    p.page.goto(f"{origin}/shop.html#" + quote(json.dumps(cfg)))
    p.page.wait_for_selector("text=/done|failed/", timeout=20_000)
    assert p.page.locator("#out").inner_text() == "done 200,200"
    p.shot("08-other-origin-site")
    ctx.close()
    wait_loaded(srv.url, read)
    rows = httpx.get(
        srv.url + "/api/v1/events",
        params={"anonymous_id": f"browser-{run}"},
        headers={"Authorization": f"Bearer {read}"},
    ).json()["rows"]
    assert sorted((r["event_id"], r["channel"]) for r in rows) == [(i, "web") for i in ids]
    assert p.problems == []


ANALYTICS_JS = Path(__file__).parent / "server_node" / "node_modules" / "@segment"
ANALYTICS_JS = ANALYTICS_JS / "analytics-next" / "dist" / "umd"

AJS_SITE = """<!doctype html><meta charset="utf-8"><title>shop (analytics.js)</title>
<p id="out">loading</p>
<script src="/analytics.js"></script>
<script>
const cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const analytics = AnalyticsNext.AnalyticsBrowser.load({
  writeKey: cfg.key,
  cdnURL: location.origin,  // bundles from this local copy: no CDN
  cdnSettings: {integrations: {"Segment.io": {apiKey: cfg.key, apiHost: cfg.apiHost,
                                              protocol: "http"}}},
});
(async () => {
  await analytics.page("Shop", "Home");
  await analytics.track("Viewed Product", {sku: "A1", price: 199});
  await analytics.identify(cfg.user, {email: cfg.user + "@example.se"});
  const [a] = await analytics;
  document.getElementById("out").textContent = "sent " + a.user().anonymousId();
})().catch(e => document.getElementById("out").textContent = "failed " + e);
</script>"""


def test_analytics_js_served_locally_sends_events_to_the_collector(
    browser: Any, live: Any, other_origin: tuple[str, Path]
) -> None:
    if not (ANALYTICS_JS / "index.js").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("@segment/analytics-next missing: npm ci --prefix tests/server_node")
        pytest.skip("@segment/analytics-next not installed (npm ci --prefix tests/server_node)")
    srv, write, read = live
    origin, root = other_origin
    (root / "favicon.ico").write_bytes(b"")
    bundles = root / "analytics-next" / "bundles"
    bundles.mkdir(parents=True)
    for f in ANALYTICS_JS.glob("*.js"):
        (bundles / f.name).write_bytes(f.read_bytes())
    (root / "analytics.js").write_bytes((ANALYTICS_JS / "index.js").read_bytes())
    (root / "shop.html").write_text(AJS_SITE)
    user = f"ajs-{uuid.uuid4().hex[:8]}"
    cfg = {"key": write, "apiHost": f"127.0.0.1:{srv.port}/v1", "user": user}
    ctx = browser.new_context()
    p = Page(ctx.new_page())
    p.page.goto(f"{origin}/shop.html#" + quote(json.dumps(cfg)))
    p.page.wait_for_selector("text=/sent|failed/", timeout=30_000)
    out = p.page.locator("#out").inner_text()
    assert out.startswith("sent "), out
    anon = out.split(" ", 1)[1]
    p.shot("09-analytics-js-site")
    ctx.close()
    wait_loaded(srv.url, read)
    rows = httpx.get(
        srv.url + "/api/v1/events",
        params={"anonymous_id": anon},
        headers={"Authorization": f"Bearer {read}"},
    ).json()["rows"]
    assert sorted((r["type"], r["event"], r["channel"]) for r in rows) == [
        ("identify", "Identify", "web"),
        ("page", "Page Viewed", "web"),
        ("track", "Viewed Product", "web"),
    ]
    assert len({r["person_id"] for r in rows}) == 1
    assert {r["user_id"] for r in rows} == {None, user}
    assert p.problems == []
