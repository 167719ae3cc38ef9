"""Rendering a journey map: a wall poster as SVG (stage columns, lanes as rows, one section
per persona, the emotion curve, measured numbers beside the qualitative content, pain points
and drop-off marked), a self-contained HTML page (persona switch, no network) and PNG/PDF
through a headless chromium.

>>> from kundresa.maps import new_map
>>> svg = render_svg(new_map("awareness-to-conversion", lang="sv"))
>>> svg.startswith("<svg") and "Medvetenhet" in svg
True
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from kundresa._errors import InvalidOptionError
from kundresa._util import humanize_seconds
from kundresa.maps._i18n import label
from kundresa.maps._measure import ALL, MapMeasurement, StageMeasure
from kundresa.maps._model import JourneyMap, Persona

__all__ = ["FORMATS", "render_html", "render_map", "render_svg"]

FORMATS = (".html", ".svg", ".png", ".pdf")
PALETTE = ("#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#0c8599", "#f08c00")
INK, MUTED, LINE = "#1b2a41", "#5c677d", "#d0d7e2"
PAIN, PAIN_BG, OPP, OPP_BG, MEAS_BG = "#c92a2a", "#fff0f0", "#2b8a3e", "#ebfbee", "#eef4ff"
FONT = "Inter, 'Segoe UI', 'DejaVu Sans', 'Noto Sans', Arial, sans-serif"
# Emoji get a colour-emoji font of their own: DejaVu Sans (first in FONT on Debian) has
# monochrome outlines of some faces (U+1F600...) and would win over the colour font.
EMOJI_FONT = "'Noto Color Emoji', 'Apple Color Emoji', 'Segoe UI Emoji', sans-serif"
W, LEFT, PAD = 1800, 190, 30


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _runs(text: str) -> str:
    """Escaped text with every emoji run in a ``tspan`` set in a colour-emoji font."""
    out, cur, emo = [], "", False
    for ch in text:
        e = _is_emoji(ch)
        if cur and e != emo:
            out.append((cur, emo))
            cur = ""
        cur, emo = cur + ch, e
    if cur:
        out.append((cur, emo))
    return "".join(
        f'<tspan font-family="{_e(EMOJI_FONT)}">{_e(t)}</tspan>' if em else _e(t) for t, em in out
    )


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return 0x1F000 <= cp <= 0x1FAFF or cp in (0xFE0F, 0x200D) or 0x1F3FB <= cp <= 0x1F3FF


def _wrap(text: str, width_px: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap by an estimated advance (DejaVu Sans: ~0.55 em a character, bold
    ~0.63 em; measured on the rendered posters) so that no line runs into the next column."""
    per_line = max(6, int(width_px / (size * (0.63 if bold else 0.56))))
    words, lines, cur = str(text).split(), [], ""
    for w in words:
        while len(w) > per_line:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(w[:per_line])
            w = w[per_line:]
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= per_line:
            cur += " " + w
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines or [""]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _dur(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "–"
    hours = seconds / 3600
    if hours >= 48:
        return f"{hours / 24:.1f} {label('days', lang)}"
    if hours < 2:
        return humanize_seconds(seconds)
    return f"{hours:.1f} {label('hours', lang)}"


class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, s: str) -> None:
        self.parts.append(s)

    def text(self, x: float, y: float, s: str, size: float = 13, fill: str = INK,
             weight: str = "normal", anchor: str = "start", cls: str = "") -> None:  # fmt: skip
        c = f' class="{cls}"' if cls else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
                 f'font-weight="{weight}" text-anchor="{anchor}"{c}>{_runs(s)}</text>')  # fmt: skip

    def lines(self, x: float, y: float, items: list[str], size: float = 13,
              fill: str = INK, weight: str = "normal") -> float:  # fmt: skip
        for s in items:
            self.text(x, y, s, size, fill, weight)
            y += size * 1.35
        return y

    def rect(self, x: float, y: float, w: float, h: float, fill: str, stroke: str = "none",
             rx: float = 6, cls: str = "") -> None:  # fmt: skip
        c = f' class="{cls}"' if cls else ""
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx}" '
                 f'fill="{fill}" stroke="{stroke}"{c}/>')  # fmt: skip


def _measure_lines(
    sm: StageMeasure | None, lang: str, width: float, names: dict[str, str]
) -> list[tuple[str, str, str]]:
    """(text, colour, weight) lines of a cell's measured numbers."""
    if sm is None:
        return [(label("not_measured", lang), MUTED, "normal")]
    out = [(f"{sm.persons:,} {label('persons', lang)}", INK, "bold")]
    if sm.progression is not None:
        out.append((f"→ {_pct(sm.progression)} {label('progress', lang)}", INK, "normal"))
        out.append(
            (f"✖ {_pct(sm.drop_off)} {label('dropoff', lang)} ({sm.dropped:,})", PAIN, "bold")
        )
        if sm.went_instead:
            top = ", ".join(f"{_where(k, names, lang)} {v:,}" for k, v in sm.went_instead[:2])
            out.append((f"  {label('went_instead', lang)}: {top}", MUTED, "normal"))
    out.append((f"◎ {_pct(sm.conversion_rate)} {label('conversion', lang)}", OPP, "normal"))
    if sm.median_seconds is not None:
        out.append(
            (f"⏱ {_dur(sm.median_seconds, lang)} (p90 {_dur(sm.p90_seconds, lang)})", INK, "normal")
        )
    if sm.channels:
        top = ", ".join(f"{k} {v:,}" for k, v in sm.channels[:3])
        out.append((f"{label('channels', lang)}: {top}", MUTED, "normal"))
    if sm.csat is not None or sm.nps is not None:
        cs = "–" if sm.csat is None else f"{sm.csat:.2f}"
        ns = "–" if sm.nps is None else f"{sm.nps:+.0f}"
        out.append((f"CSAT {cs} · NPS {ns} (n={sm.survey_answers:,})", INK, "normal"))
    wrapped: list[tuple[str, str, str]] = []
    for text, col, wt in out:
        wrapped += [(t, col, wt) for t in _wrap(text, width, 12.5, wt == "bold")]
    return wrapped


def _where(key: str, names: dict[str, str], lang: str) -> str:
    if key == "(left)":
        return label("left", lang)
    if key.endswith(" earlier)"):
        return f"{names.get(key[1:-9], key)} ({label('earlier', lang)})"
    return names.get(key, key)


def _emotion_chart(svg: _Svg, jm: JourneyMap, y0: float, xs: list[float],
                   compare: JourneyMap | None, only: str | None) -> float:  # fmt: skip
    lang, h = jm.language, 210
    series: list[tuple[JourneyMap, bool]] = [(jm, False)]
    if compare is not None:
        series = [(compare, False), (jm, True)]
    # legend entries flow left to right and onto more rows when they do not fit
    legend: list[tuple[float, float, str, str, bool]] = []  # x, y, colour, text, dashed
    lx, ly = PAD + 200.0, y0 + 20.0
    for m, dashed in series:
        for pi, p in enumerate(m.personas):
            if only and p.id != only:
                continue
            tag = f" ({label('to_be' if dashed else 'as_is', lang)})" if compare is not None else ""
            text = p.name + tag
            if len(text) > 40:
                text = text[:39] + "…"
            width = 32 + len(text) * 12.5 * 0.56 + 28
            if lx + width > W - PAD - 10 and lx > PAD + 200:
                lx, ly = PAD + 200.0, ly + 20
            legend.append((lx, ly, PALETTE[pi % len(PALETTE)], text, dashed))
            lx += width
    extra = ly - (y0 + 20)
    n = len(xs)
    colw = (W - LEFT - PAD) / max(n, 1)
    names = [_wrap(s.name, colw - 12, 12.5)[:2] for s in jm.stages[:n]]
    two = any(len(x) > 1 for x in names)
    svg.rect(PAD, y0, W - 2 * PAD, h + 50 + extra + (20 if two else 0), "#fbfcfe", LINE,
             cls="emotion-chart")  # fmt: skip
    svg.text(PAD + 14, y0 + 24, label("emotion_curve", lang), 16, weight="bold")
    top, bottom = y0 + 40 + extra, y0 + 40 + extra + h - 20

    def yof(score: float) -> float:
        return bottom - (score + 2) / 4 * (bottom - top)

    for sc, emo in ((-2, "😫"), (-1, "😟"), (0, "😐"), (1, "🙂"), (2, "😍")):
        y = yof(sc)
        dash = "" if sc == 0 else ' stroke-dasharray="3 4"'
        svg.add(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - PAD - 10}" y2="{y:.1f}" stroke="{LINE}"{dash}/>'
        )
        svg.text(LEFT - 12, y + 5, f"{sc:+d} {emo}" if sc else f"0 {emo}", 12, MUTED, anchor="end")
    legend_order: list[str] = []
    for m, dashed in series:
        for pi, p in enumerate(m.personas):
            if only and p.id != only:
                continue
            color = PALETTE[pi % len(PALETTE)]
            # lines a few pixels apart, so that personas with the same score stay visible
            nudge = (len(legend_order) - (len(legend) - 1) / 2) * 3.0
            legend_order.append(p.id)
            pts = []
            for si, stage in enumerate(m.stages[: len(xs)]):
                feel = stage.cell(p.id).emotion
                if feel is not None:
                    pts.append((xs[si], yof(feel.score) + nudge))
            if not pts:
                continue
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            dash = ' stroke-dasharray="8 6"' if dashed else ""
            opacity = "1" if (dashed or compare is None) else "0.55"
            svg.add(f'<polyline class="emotion-line" data-persona="{_e(p.id)}" points="{path}" fill="none" '
                    f'stroke="{color}" stroke-width="3.5" stroke-opacity="{opacity}"{dash}/>')  # fmt: skip
            for x, y in pts:
                svg.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{color}"/>')
    for lx, ly, color, text, dashed in legend:
        dash = ' stroke-dasharray="8 6"' if dashed else ""
        svg.add(f'<line x1="{lx:.1f}" y1="{ly:.1f}" x2="{lx + 26:.1f}" y2="{ly:.1f}" stroke="{color}" '
                f'stroke-width="3.5"{dash}/>')  # fmt: skip
        svg.text(lx + 32, ly + 5, text, 12.5)
    # stage names under the curve's x positions
    for x, lines in zip(xs, names, strict=False):
        for k, t in enumerate(lines):
            svg.text(x, bottom + 28 + 15 * k, t, 12.5, MUTED, anchor="middle")
    return y0 + h + 70 + extra + (20 if two else 0)


def _persona_card(
    svg: _Svg, p: Persona, x: float, y: float, w: float, color: str, lang: str
) -> float:
    svg.rect(x, y, w, 8, color, rx=3)
    yy = y + 32
    svg.text(x, yy, p.name, 20, color, "bold", cls="persona-name")
    bits = []
    if p.age_range:
        bits.append(f"{label('age', lang)} {p.age_range}")
    if p.occupation:
        bits.append(p.occupation)
    yy += 24
    if bits:
        svg.text(x, yy, " · ".join(bits), 13, MUTED)
        yy += 20
    for key, values in (("needs", p.needs), ("challenges", p.challenges)):
        if values:
            txt = f"{label(key, lang)}: {'; '.join(values)}"
            yy = svg.lines(x, yy, _wrap(txt, w, 13)[:2], 13)
    if p.buying_preference:
        yy = svg.lines(
            x, yy, _wrap(f"{label('buying', lang)}: {p.buying_preference}", w, 13)[:2], 13
        )
    return yy + 8


def _persona_section(svg: _Svg, jm: JourneyMap, p: Persona, pi: int, y0: float,
                     meas: MapMeasurement | None, conf: Any = None) -> float:  # fmt: skip
    lang = jm.language
    n = len(jm.stages)
    colw = (W - LEFT - PAD) / n
    color = PALETTE[pi % len(PALETTE)]
    svg.add(f'<g class="persona-section" data-persona="{_e(p.id)}">')
    y = _persona_card(svg, p, PAD, y0, W - 2 * PAD, color, lang)
    # stage headers: names wrapped to their column (at most three lines), then the period
    heads = [
        _wrap(f"{si + 1}. {s.name}", colw - 26, 16, bold=True)[:3] for si, s in enumerate(jm.stages)
    ]
    n_lines = max(len(x) for x in heads)
    has_period = any(s.period for s in jm.stages)
    bar = 24 + n_lines * 19 + (16 if has_period else 0)
    svg.rect(LEFT, y, W - LEFT - PAD, bar, INK, rx=8)
    for si, stage in enumerate(jm.stages):
        x = LEFT + si * colw
        svg.add(f'<text x="{x + 14:.1f}" y="{y + 24:.1f}" font-size="16" fill="#ffffff" '
                f'font-weight="bold" class="stage-name">' + "".join(
                    f'<tspan x="{x + 14:.1f}" dy="{0 if k == 0 else 19}">{_runs(t)}</tspan>'
                    for k, t in enumerate(heads[si])) + "</text>")  # fmt: skip
        if stage.period:
            svg.text(x + 14, y + 21 + n_lines * 19, stage.period, 12, "#c9d6ea")
        if si:
            svg.add(
                f'<line x1="{x:.1f}" y1="{y + 6}" x2="{x:.1f}" y2="{y + bar - 6}" stroke="#41506b"/>'
            )
    y += bar + 10
    inner = colw - 24
    measured = meas is not None
    # lanes: (key, background, builder of lines per stage)
    lanes: list[tuple[str, str, list[list[tuple[str, str, str]]]]] = []
    if measured:
        assert meas is not None
        names = {s.id: s.name for s in jm.stages}
        rows = [_measure_lines(meas.stage(s.id, p.id), lang, inner - 12, names) for s in jm.stages]
        lanes.append(("measured", MEAS_BG, rows))
    if conf is not None:  # planned vs actual (kundresa.paths._conformance): .lines(stage, persona)
        rows = [[(t, INK, "normal") for line in conf.lines(s.id, p.id)
                 for t in _wrap(line, inner - 12, 12.5)] for s in jm.stages]  # fmt: skip
        lanes.append(("conformance", "#f4f0ff", rows))

    def col(items: list[str], colour: str = INK, prefix: str = "• ", weight: str = "normal"
            ) -> list[tuple[str, str, str]]:  # fmt: skip
        out: list[tuple[str, str, str]] = []
        for it in items:
            for k, t in enumerate(_wrap(prefix + it, inner, 12.5, weight == "bold")):
                out.append((t if k == 0 else "   " + t, colour, weight))
        return out

    cells = [s.cell(p.id) for s in jm.stages]
    lanes.append(("activities", "#ffffff", [col(list(c.activities)) for c in cells]))
    tp_rows = []
    for s, c in zip(jm.stages, cells, strict=True):
        items = []
        for tp in c.touchpoints:
            reach = meas.touchpoint(s.id, tp.name, p.id) if meas is not None else None
            items.append(
                f"{tp.name} [{tp.channel}]" + (f" · {reach:,}" if reach is not None else "")
            )
        tp_rows.append(col(items, prefix="◆ "))
    lanes.append(("touchpoints", "#ffffff", tp_rows))
    emo_rows: list[list[tuple[str, str, str]]] = []
    for c in cells:
        if c.emotion is None:
            emo_rows.append([])
            continue
        rows_e = [(f"{c.emotion.emoji} {c.emotion.score:+d}", INK, "bold")]
        if c.emotion.quote:
            rows_e += [(t, MUTED, "normal") for t in _wrap(f"“{c.emotion.quote}”", inner, 12.5)]
        emo_rows.append(rows_e)
    lanes.append(("emotion", "#fffdf5", emo_rows))
    lanes.append(
        ("pain_points", PAIN_BG, [col(list(c.pain_points), PAIN, "⚠ ", "bold") for c in cells])
    )
    opp_rows = []
    for c in cells:
        items = [o.text + (f" ({o.owner}, {o.status})" if o.owner else f" ({o.status})")
                 for o in c.opportunities]  # fmt: skip
        opp_rows.append(col(items, OPP, "✚ "))
    lanes.append(("opportunities", OPP_BG, opp_rows))
    if any(c.notes for c in cells):
        lanes.append(
            ("notes", "#ffffff", [col([c.notes] if c.notes else [], MUTED, "") for c in cells])
        )
    for key, bg, rows in lanes:
        height = max(34.0, max(len(r) for r in rows) * 12.5 * 1.35 + 22)
        svg.add(f'<g class="lane lane-{key}">')
        svg.rect(PAD, y, W - 2 * PAD, height, bg, LINE, rx=6)
        svg.text(
            PAD + 12, y + 22, label(key, lang), 13.5, PAIN if key == "pain_points" else INK, "bold"
        )
        for si, r in enumerate(rows):
            x = LEFT + si * colw
            if si:
                svg.add(
                    f'<line x1="{x:.1f}" y1="{y + 6:.1f}" x2="{x:.1f}" y2="{y + height - 6:.1f}" stroke="{LINE}"/>'
                )
            yy = y + 20
            indent = 24 if key == "measured" and si else 12
            for text, colour, weight in r:
                svg.text(x + indent, yy, text, 12.5, colour, weight)
                yy += 12.5 * 1.35
            if key == "measured" and meas is not None and si < n - 1:
                sm = meas.stage(jm.stages[si].id, p.id)
                if sm is not None and sm.drop_off:
                    # a red drop-off chevron between this column and the next
                    bx = x + colw
                    svg.add(f'<g class="dropoff-marker"><circle cx="{bx:.1f}" cy="{y + height / 2:.1f}" r="17" '
                            f'fill="{PAIN}"/><text x="{bx:.1f}" y="{y + height / 2 + 4:.1f}" font-size="11" '
                            f'fill="#fff" font-weight="bold" text-anchor="middle">−{100 * sm.drop_off:.0f}%</text></g>')  # fmt: skip
        svg.add("</g>")
        y += height + 6
    svg.add("</g>")
    return y + 28


def _header(svg: _Svg, jm: JourneyMap, meas: MapMeasurement | None) -> float:
    lang = jm.language
    title = jm.title or jm.goal
    size = 30.0
    lines = _wrap(title, W - 2 * PAD, size, bold=True)
    if len(lines) > 1:  # a long title: smaller, on at most two lines
        size = 24.0
        lines = _wrap(title, W - 2 * PAD, size, bold=True)
        if len(lines) > 2:
            lines = [lines[0], lines[1][:-1] + "…"]
    goal = _wrap(
        f"{label('type.' + jm.type, lang)} · {label('goal', lang)}: {jm.goal}", W - 2 * PAD, 15
    )
    if len(goal) > 2:
        goal = [goal[0], goal[1][:-1] + "…"]
    height = 118 + (len(lines) - 1) * size * 1.2 + (len(goal) - 1) * 20
    svg.add('<g class="map-header">')
    svg.rect(0, 0, W, height, INK, rx=0)
    y = 16 + size
    svg.add(f'<text x="{PAD}" y="{y:.1f}" font-size="{size}" fill="#ffffff" font-weight="bold" '
            f'class="map-title">' + "".join(
                f'<tspan x="{PAD}" dy="{0 if k == 0 else size * 1.2:.1f}">{_runs(t)}</tspan>'
                for k, t in enumerate(lines)) + "</text>")  # fmt: skip
    y += (len(lines) - 1) * size * 1.2 + 30
    for line in goal:
        svg.text(PAD, y, line, 15, "#dbe4f0")
        y += 20
    meta = [f"{label('owner', lang)}: {jm.owner}", f"{label('status', lang)}: {jm.status}"]
    if jm.last_validated:
        meta.append(f"{label('last_validated', lang)}: {jm.last_validated}")
    if meas is not None:
        meta.append(
            f"{label('measured_on', lang)}: {meas.persons:,} {label('persons', lang)} ({meas.engine})"
        )
    svg.text(PAD, y + 6, " · ".join(meta), 13, "#9fb3cc")
    svg.add("</g>")
    return height + 22


def render_svg(jm: JourneyMap, measurement: MapMeasurement | None = None, *,
               compare: JourneyMap | None = None, persona: str | None = None,
               conformance: Any = None) -> str:  # fmt: skip
    """The map as one SVG poster: all personas (or one), with measured numbers if given and
    planned vs actual (a ``kundresa.paths.Conformance``) in a lane of its own if given."""
    svg = _Svg()
    y = _header(svg, jm, measurement)
    n = len(jm.stages)
    colw = (W - LEFT - PAD) / n
    xs = [LEFT + (i + 0.5) * colw for i in range(n)]
    y = _emotion_chart(svg, jm, y, xs, compare, persona)
    for pi, p in enumerate(jm.personas):
        if persona and p.id != persona:
            continue
        y = _persona_section(svg, jm, p, pi, y, measurement, conformance)
    h = int(y + 10)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" '
            f'font-family="{FONT}" class="kundresa-map" data-language="{_e(jm.language)}">')  # fmt: skip
    return head + f'<rect width="{W}" height="{h}" fill="#ffffff"/>' + "".join(svg.parts) + "</svg>"


_CSS = f"""
body{{margin:0;font-family:{FONT};background:#f3f5f9;color:{INK}}}
nav{{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid {LINE};padding:10px 24px;display:flex;gap:8px;flex-wrap:wrap;align-items:center}}
nav button{{border:1px solid {LINE};background:#fff;border-radius:18px;padding:6px 14px;font:inherit;cursor:pointer}}
nav button.on{{background:{INK};color:#fff;border-color:{INK}}}
main{{padding:16px;overflow-x:auto}} main svg{{max-width:100%;height:auto;box-shadow:0 1px 4px #0002;background:#fff}}
.persona-view{{display:none}} .persona-view.on{{display:block}}
table{{border-collapse:collapse;margin:16px;background:#fff;font-size:13px}}
td,th{{border:1px solid {LINE};padding:4px 8px;text-align:right}} th:first-child,th:nth-child(2),td:first-child,td:nth-child(2){{text-align:left}}
@media print{{nav{{display:none}}.persona-view{{display:block}}}}
"""  # fmt: skip

_JS = """
(function(){var b=document.querySelectorAll('nav button');function show(id){
document.querySelectorAll('.persona-view').forEach(function(v){v.classList.toggle('on',id==='*'||v.dataset.persona===id)});
b.forEach(function(x){x.classList.toggle('on',x.dataset.persona===id)});}
b.forEach(function(x){x.addEventListener('click',function(){show(x.dataset.persona)})});
show(b.length>1?b[1].dataset.persona:'*');})();
"""


def render_html(jm: JourneyMap, measurement: MapMeasurement | None = None, *,
                compare: JourneyMap | None = None, conformance: Any = None) -> str:  # fmt: skip
    """A self-contained HTML page: a persona switch over per-persona posters, the measured
    table, and the measurement as JSON (no network; opens from disk)."""
    lang = jm.language
    buttons = [f'<button data-persona="*">{_e(label("all_personas", lang))}</button>']
    views = []
    for p in jm.personas:
        buttons.append(f'<button data-persona="{_e(p.id)}">{_e(p.name)}</button>')
        views.append(f'<div class="persona-view" data-persona="{_e(p.id)}">'
                     f"{render_svg(jm, measurement, compare=compare, persona=p.id, conformance=conformance)}</div>")  # fmt: skip
    table = ""
    if measurement is not None:
        head = "".join(f"<th>{_e(h)}</th>" for h in (label("stage", lang), label("persona", lang),
                       label("persons", lang), label("anonymous", lang), label("progress", lang),
                       label("dropoff", lang),
                       label("conversion", lang), label("median_time", lang), "p90"))  # fmt: skip
        rows = []
        names = {p.id: p.name for p in jm.personas} | {ALL: label("all_personas", lang)}
        stage_names = {s.id: s.name for s in jm.stages}
        for s in measurement.stages:
            rows.append("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in (
                stage_names.get(s.stage, s.stage), names.get(s.persona, s.persona), f"{s.persons:,}",
                f"{s.anonymous:,}",
                _pct(s.progression), _pct(s.drop_off), _pct(s.conversion_rate),
                _dur(s.median_seconds, lang), _dur(s.p90_seconds, lang))) + "</tr>")  # fmt: skip
        data = json.dumps(measurement.to_dict(), ensure_ascii=False).replace("</", "<\\/")
        table = (f'<table class="measured"><tr>{head}</tr>{"".join(rows)}</table>'
                 f'<script type="application/json" id="kundresa-measurement">{data}</script>')  # fmt: skip
    return (
        f'<!DOCTYPE html><html lang="{_e(lang)}"><head><meta charset="utf-8">'
        f"<title>{_e(jm.title or jm.goal)}</title><style>{_CSS}</style></head><body>"
        f"<nav><strong>{_e(label('personas', lang))}:</strong> {''.join(buttons)}</nav>"
        f"<main>{''.join(views)}{table}</main><script>{_JS}</script></body></html>\n"
    )


def render_map(jm: JourneyMap, out: str | Path, measurement: MapMeasurement | None = None, *,
               compare: JourneyMap | None = None, conformance: Any = None,
               browser: Any = None) -> Path:  # fmt: skip
    """Write the map to ``out``: ``.html``, ``.svg``, ``.png`` or ``.pdf`` (by suffix).

    PNG and PDF go through a headless chromium; pass ``browser`` (an open one, from
    :func:`kundresa.maps.chromium`) to reuse it across many renders instead of starting one
    per file."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidOptionError("--out", str(out), allowed=FORMATS,
                                 fix="end the file name in .html, .svg, .png or .pdf")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        page = render_html(jm, measurement, compare=compare, conformance=conformance)
        path.write_text(page, encoding="utf-8")
    elif suffix == ".svg":
        svg = render_svg(jm, measurement, compare=compare, conformance=conformance)
        path.write_text(svg, encoding="utf-8")
    else:
        from kundresa.maps._browser import svg_to

        svg_to(render_svg(jm, measurement, compare=compare, conformance=conformance), path,
               suffix[1:], browser)  # fmt: skip
    return path


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
