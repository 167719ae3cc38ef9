"""The main job's journey map: the synthetic shop, measured and rendered (HTML + PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kundresa._errors import EngineUnavailableError

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["demo_map"]


def demo_map(ws: Workspace, out: Path, lang: str = "sv") -> list[str]:
    """Write ``journey-map.yaml``, measured ``.html`` and ``.png`` into ``out``; return lines."""
    from kundresa.maps import measure_map, new_map, render_map, save_map

    jm = new_map("shop", lang=lang)
    save_map(jm, out / "journey-map.yaml")
    meas = measure_map(jm, ws)
    lines = [str(meas), ""]
    html = render_map(jm, out / "journey-map.html", meas)
    lines.append(f"journey map: {out / 'journey-map.yaml'}")
    lines.append(f"  measured, rendered: {html.resolve()}")
    try:
        png = render_map(jm, out / "journey-map.png", meas)
        lines.append(f"  poster (PNG):       {png.resolve()}")
    except EngineUnavailableError as exc:
        lines.append(f"  no PNG: {exc}")
    return lines
