"""Checks of rendered posters: a PNG or PDF that opens, has the poster's size, and is not blank,
cut off or missing its colour emoji (shared by the map tests)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent.parent / "artifacts" / "screenshots"
COLOR_EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


def require_chromium() -> None:
    """Skip without Debian's chromium, except on CI (where it must be installed)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium missing: apt-get install chromium")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")


def svg_size(svg: str) -> tuple[int, int]:
    m = re.search(r'width="(\d+)" height="(\d+)"', svg)
    assert m, "the poster SVG declares no size"
    return int(m.group(1)), int(m.group(2))


def check_png(path: Path, size: tuple[int, int], *, emoji: bool = True) -> None:
    """A valid PNG of exactly the poster's size whose content reaches its right and bottom
    edges (nothing cut, nothing blank), with a real spread of colours and, where Noto Color
    Emoji is installed, coloured emoji faces (monochrome outlines are the regression)."""
    from PIL import Image, ImageChops

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert len(data) > 30_000, (path, len(data))
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    assert rgb.size == size, (path, rgb.size, size)
    w, h = rgb.size
    small = rgb.resize((w // 4, h // 4))
    gray = small.convert("L").histogram()
    inked = sum(gray[:235]) / (small.width * small.height)
    assert inked > 0.04, (path, f"only {inked:.1%} of the poster is not white")
    colours = rgb.getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 200, (path, "too few colours: blank or flat")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    assert box is not None
    assert box[2] >= w - 60, (path, "content stops short of the right edge", box)
    assert box[3] >= h - 60, (path, "content stops short of the bottom", box)
    if emoji and COLOR_EMOJI_FONT.exists():
        px = np.asarray(small, dtype=np.int32)
        r, g, b = px[..., 0], px[..., 1], px[..., 2]
        # the faces of Noto Color Emoji; nothing else on the poster is this yellow
        yellow = int(((r > 230) & (g > 160) & (g < 225) & (b < 120)).sum())
        assert yellow >= 5, (path, "no colour emoji (monochrome font fallback?)")


def check_pdf(path: Path, size: tuple[int, int]) -> None:
    """One page of the poster's size in points (CSS px * 0.75), fonts embedded."""
    data = path.read_bytes()
    assert data[:5] == b"%PDF-", path
    assert data.rstrip().endswith(b"%%EOF"), path
    assert len(data) > 20_000, (path, len(data))
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 1, (path, "not one page")
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box, path
    width, height = float(box.group(1)), float(box.group(2))
    assert abs(width - size[0] * 0.75) <= 1, (path, width)
    assert abs(height - (size[1] + 2) * 0.75) <= 1.5, (path, height)
    assert b"/FontFile" in data, (path, "fonts not embedded")
