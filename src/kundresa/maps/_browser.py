"""PNG and PDF through the system's headless chromium, driven by Playwright.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (Debian's
``apt-get install chromium``) or ``$KUNDRESA_CHROMIUM``, offline, with the flags below.
One PNG/PDF costs a browser start (about a second) unless an open browser is passed in:
:func:`chromium` opens one to share between many renders.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kundresa._errors import EngineUnavailableError

__all__ = ["chromium", "chromium_path", "svg_to"]

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)  # fmt: skip


def chromium_path() -> str:
    """The chromium executable, or a clear error saying how to install it."""
    for cand in (os.environ.get("KUNDRESA_CHROMIUM"), "/usr/bin/chromium",
                 shutil.which("chromium"), shutil.which("chromium-browser")):  # fmt: skip
        if cand and Path(cand).exists():
            return cand
    raise EngineUnavailableError(
        "chromium",
        "no chromium found for PNG/PDF",
        fix="apt-get install chromium (or render .html/.svg)",
    )


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise EngineUnavailableError(
            "chromium", "playwright is not installed", fix="pip install 'kundresa[map]'"
        ) from exc
    return sync_playwright


@contextmanager
def chromium() -> Iterator[Any]:
    """One headless chromium (a Playwright ``Browser``) to share between many PNG/PDF renders:
    ``with chromium() as b: render_map(jm, "a.png", browser=b); render_map(jm, "a.pdf",
    browser=b)``. Raises :class:`~kundresa.EngineUnavailableError` without chromium."""
    exe = chromium_path()
    with _playwright()() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=list(FLAGS))
        try:
            yield browser
        finally:
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


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
