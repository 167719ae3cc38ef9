"""PNG and PDF through the system's headless chromium, driven by Playwright.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (Debian's
``apt-get install chromium``) or ``$KUNDRESA_CHROMIUM``, offline, with the flags below.
One PNG/PDF costs a browser start (about a second) unless an open browser is passed in or
one is already open: inside ``with chromium():`` every render of the same thread (a map's
PNG, a result's ``to_png``, ``--out x.png``) reuses that browser.

Two renderers: :func:`svg_to` (a journey map's poster) and :func:`html_to_png` (a result's
table and chart, the page ``--out x.html`` writes).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from kundresa._errors import EngineUnavailableError

__all__ = ["chromium", "chromium_path", "html_to_png", "require_chromium", "svg_to"]

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)  # fmt: skip


def chromium_path() -> str:
    """The chromium executable: ``$KUNDRESA_CHROMIUM`` when set (it must exist), else
    Debian's; or a clear error saying how to install it."""
    named = os.environ.get("KUNDRESA_CHROMIUM")
    if named and not Path(named).exists():
        raise EngineUnavailableError(
            "chromium",
            f"KUNDRESA_CHROMIUM={named} does not exist",
            fix="apt-get install chromium, or point KUNDRESA_CHROMIUM at a chromium executable",
        )
    for cand in (named, "/usr/bin/chromium",
                 shutil.which("chromium"), shutil.which("chromium-browser")):  # fmt: skip
        if cand and Path(cand).exists():
            return cand
    raise EngineUnavailableError(
        "chromium",
        "no chromium found for PNG/PDF",
        fix="apt-get install chromium (or set KUNDRESA_CHROMIUM; or write .html instead)",
    )


def require_chromium() -> None:
    """Raise the one-line :class:`~kundresa._errors.EngineUnavailableError` a PNG/PDF render
    would raise, before any work is done (``--out x.png`` checks first, then computes);
    without chromium and Playwright both, one line names both installs."""
    import importlib.util

    try:
        chromium_path()
    except EngineUnavailableError:
        if importlib.util.find_spec("playwright") is None:
            raise EngineUnavailableError(
                "chromium",
                "neither chromium nor playwright is installed (they draw PNG/PDF)",
                fix="apt-get install chromium and pip install 'kundresa[map]' "
                "(or write .html instead)",
            ) from None
        raise
    if importlib.util.find_spec("playwright") is None:
        _playwright()


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise EngineUnavailableError(
            "chromium",
            "playwright is not installed (it drives chromium for PNG/PDF)",
            fix="pip install 'kundresa[map]' (or write .html instead)",
        ) from exc
    return sync_playwright


#: the browser of the innermost open :func:`chromium` (per thread: Playwright's sync API is
#: bound to the thread that started it)
_OPEN: ContextVar[Any] = ContextVar("kundresa_chromium", default=None)


@contextmanager
def chromium() -> Iterator[Any]:
    """One headless chromium (a Playwright ``Browser``) to share between many PNG/PDF renders:
    ``with chromium() as b: render_map(jm, "a.png", browser=b); render_map(jm, "a.pdf",
    browser=b)``; renders inside the block that are not given ``browser`` use it too, and a
    nested ``chromium()`` yields the open one. Raises
    :class:`~kundresa._errors.EngineUnavailableError` without chromium or Playwright."""
    current = _OPEN.get()
    if current is not None and current.is_connected():
        yield current
        return
    exe = chromium_path()
    with _playwright()() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=list(FLAGS))
        token = _OPEN.set(browser)
        try:
            yield browser
        finally:
            _OPEN.reset(token)
            for key in [k for k in _WARM if k[0] == id(browser)]:
                del _WARM[key]
            browser.close()


def _print(browser: Any, svg: str, out: Path, fmt: str) -> None:
    m = re.search(r'width="(\d+)" height="(\d+)"', svg)
    width, height = (int(m.group(1)), int(m.group(2))) if m else (1800, 1200)
    page_html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0}'
        "svg{display:block}</style></head><body>" + svg + "</body></html>"
    )
    page = browser.new_page(viewport={"width": width, "height": min(height, 16000)})
    try:
        page.set_content(page_html, wait_until="load")
        if fmt == "png":
            page.screenshot(path=str(out), full_page=True)
        else:
            page.pdf(path=str(out), width=f"{width}px", height=f"{height + 2}px",
                     print_background=True, page_ranges="1")  # fmt: skip
    finally:
        page.close()


def svg_to(svg: str, out: Path, fmt: str, browser: Any = None) -> None:
    """Rasterise (PNG) or print (PDF) one SVG poster at its own size, in ``browser`` if given
    (an open Playwright chromium, see :func:`chromium`), else in a chromium started for it."""
    if browser is not None:
        _print(browser, svg, out, fmt)
        return
    with chromium() as b:
        _print(b, svg, out, fmt)


#: true once every Plotly chart of the page has drawn (its SVG exists and each trace of
#: the figure has a drawn layer); a page without charts is ready at once
_CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).every(
  (d) => d._fullLayout && Array.isArray(d._fullData) && d.querySelector('svg.main-svg')
         && !d._transitioning)"""

#: the body of a page replaced by ``html``; its scripts run in order (scripts set through
#: innerHTML do not run), after the charts of the previous body are released
_SET_BODY = """(html) => {
  if (window.Plotly) document.querySelectorAll('.js-plotly-plot').forEach((d) => Plotly.purge(d));
  document.body.innerHTML = html;
  for (const old of Array.from(document.body.querySelectorAll('script'))) {
    const s = document.createElement('script');
    s.textContent = old.textContent;
    old.replaceWith(s);
  }
  window.scrollTo(0, 0);
}"""

#: the open pages that have run their scripts already, by (browser, width, scripts): a
#: second PNG in the same browser skips loading plotly.js again (seconds on a busy machine)
_WARM: dict[tuple[int, int, int], Any] = {}


def _warm_page(browser: Any, width: int, scripts: tuple[str, ...]) -> Any:
    key = (id(browser), width, hash(scripts))
    page = _WARM.get(key)
    if page is not None and not page.is_closed() and browser.is_connected():
        return page
    page = browser.new_page(viewport={"width": width, "height": 800})
    # no network: the page is self-contained (plotly.js from the installed package);
    # anything else it asks for is refused, never fetched
    page.route("http*://**", lambda route: route.abort())
    page.set_content("<!doctype html><html><head><meta charset='utf-8'></head><body></body>"
                     "</html>", wait_until="load")  # fmt: skip
    for source in scripts:
        page.add_script_tag(content=source)
    for stale in [k for k in _WARM if k[0] == id(browser) and _WARM[k].is_closed()]:
        del _WARM[stale]
    _WARM[key] = page
    return page


def _shoot(browser: Any, html: str, out: Path, width: int, scripts: tuple[str, ...]) -> None:
    page = _warm_page(browser, width, scripts)
    try:
        page.evaluate(_SET_BODY, html)
        page.wait_for_function(_CHARTS_DRAWN, timeout=30_000)
        # two frames more: Plotly's last layout pass and the fonts
        page.evaluate("() => document.fonts.ready.then(() => new Promise((ok) =>"
                      " requestAnimationFrame(() => requestAnimationFrame(ok))))")  # fmt: skip
        page.screenshot(path=str(out), full_page=True)
    except BaseException:
        page.close()  # a page left half-drawn is not reused
        raise


def html_to_png(
    html: str,
    out: Path,
    browser: Any = None,
    *,
    width: int = 1200,
    scripts: tuple[str, ...] = (),
) -> None:
    """Screenshot the HTML ``html`` (``width`` px wide, as tall as its content) once its
    Plotly charts have drawn, in ``browser`` if given, else in the open :func:`chromium` or
    one started for it. ``scripts`` (JavaScript sources, e.g. plotly.js) run first, once
    per browser: the page that ran them is kept and its body replaced for the next PNG."""
    if browser is not None:
        _shoot(browser, html, out, width, scripts)
        return
    with chromium() as b:
        _shoot(b, html, out, width, scripts)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
