"""The retention page: KPI cards, the cohort triangle as a heat map (the percentage in each
cell, the weighted mean row on top, the cohort sizes on the axis) and the table, in
English, Swedish and Norwegian. Declared in :mod:`kundresa._catalog.retention`; the numbers
come from ``result.to_dict()`` (the JSON twin) through :data:`_KEYS`.

>>> from kundresa.loyalty import RetentionResult
>>> r = RetentionResult({}, ("0", "1"), (), (), (), None)
>>> "retention-table" in render_retention(r, "sv")
True
"""

from __future__ import annotations

from typing import Any

from kundresa._results import Result
from kundresa.server._i18n import label
from kundresa.server._pages_analyses import (
    Column,
    _h2,
    _key,
    cards,
    fmt_int,
    fmt_text,
    fmt_value,
    table,
)

__all__ = ["figure_retention", "render_retention"]

#: the keys of RetentionResult.to_dict() the page reads
_KEYS = {"cohorts": "cohorts", "mean": "mean", "labels": "labels", "groups": "groups",
         "as_of": "as_of", "size": "size", "cohort": "cohort", "group": "group",
         "rates": "rates", "status": "status", "n_cohorts": "cohorts"}  # fmt: skip


def _pct(rate: float | None, status: str) -> str:
    """A cell: the percentage, ``*`` when the period is still running, empty when it has
    not begun.

    >>> _pct(0.25, "incomplete"), _pct(None, "future")
    ('25.0 %*', '')
    """
    if status == "future":
        return ""
    if rate is None:
        return "–"
    return f"{100 * rate:.1f} %" + ("*" if status == "incomplete" else "")


def _mean_pct(rate: float | None, cohorts: int) -> str:
    return "–" if rate is None or not cohorts else f"{100 * rate:.1f} %"


def _mean_cells(m: dict[str, Any]) -> dict[str, str]:
    k = _KEYS
    return {
        f"c{i}": _mean_pct(v, n)
        for i, (v, n) in enumerate(zip(m[k["rates"]], m[k["n_cohorts"]], strict=True))
    }


def _rows(d: dict[str, Any], group: str | None, lang: str) -> list[dict[str, Any]]:
    k = _KEYS
    out: list[dict[str, Any]] = []
    for m in d[k["mean"]]:
        if m[k["group"]] == group:
            out.append({"cohort": label("retention.mean", lang), "size": m[k["size"]]}
                       | _mean_cells(m))  # fmt: skip
    for r in d[k["cohorts"]]:
        if r[k["group"]] == group:
            row = {"cohort": r[k["cohort"]], "size": r[k["size"]]}
            row |= {
                f"c{i}": _pct(v, s)
                for i, (v, s) in enumerate(zip(r[k["rates"]], r[k["status"]], strict=True))
            }
            out.append(row)
    return out


def render_retention(result: Result, lang: str) -> str:
    """The page: cards, the heat map, the note on running periods, the table (and the mean
    row per breakdown group)."""
    d = result.to_dict()
    k = _KEYS
    labels = d[k["labels"]]
    everyone = [r for r in d[k["cohorts"]] if r[k["group"]] is None]
    mean = next((m for m in d[k["mean"]] if m[k["group"]] is None), None)
    first = "–"
    if mean is not None and len(mean[k["rates"]]) > 1:
        first = _mean_pct(mean[k["rates"]][1], mean[k["n_cohorts"]][1])
    items = [
        ("kpi-entries", fmt_int(sum(r[k["size"]] for r in everyone)), "retention.entries"),
        ("kpi-cohorts", fmt_int(len(everyone)), "retention.cohorts_n"),
        ("kpi-period1", first, "retention.first_return"),
        ("kpi-as-of", str(d.get(k["as_of"]) or "–"), "retention.as_of"),
    ]
    parts = [cards(lang, items)]
    if not everyone:
        parts.append(f'<p class="note" id="retention-empty">{label("retention.none", lang)}</p>')
    parts += [_h2(lang, "retention.triangle"), "<!--figure-->"]
    parts.append(
        f'<p class="note">{label("retention.running", lang)} '
        f"{label('retention.mean_note', lang)}</p>"
    )
    cols: list[Column] = [
        ("retention.cohort", _key("cohort"), fmt_text),
        ("retention.size", _key("size"), fmt_int),
    ]
    cols += [(f"={lab}", _key(f"c{i}"), fmt_value) for i, lab in enumerate(labels)]
    parts += [
        _h2(lang, "retention.table"),
        table("retention-table", lang, cols, _rows(d, None, lang)),
    ]
    groups = d.get(k["groups"]) or []
    if groups:
        rows = []
        for m in d[k["mean"]]:
            if m[k["group"]] is not None:
                rows.append({"group": m[k["group"]], "size": m[k["size"]]} | _mean_cells(m))
        gcols: list[Column] = [
            ("retention.group", _key("group"), fmt_text),
            ("retention.size", _key("size"), fmt_int),
        ]
        gcols += [(f"={lab}", _key(f"c{i}"), fmt_value) for i, lab in enumerate(labels)]
        parts += [_h2(lang, "retention.by_group"), table("retention-groups", lang, gcols, rows)]
    return "".join(parts)


def figure_retention(result: Result, lang: str) -> Any:
    """The result's heat map with translated axes and mean row."""
    fig = result.plot()
    mean = label("retention.mean", lang)
    for trace in fig.data:
        trace.y = [mean + y[4:] if str(y).startswith("mean") else y for y in trace.y]
        trace.colorbar.title = None
    brackets = bool((getattr(result, "parameters", {}) or {}).get("brackets"))
    x_key = "retention.bracket" if brackets else "retention.period"
    fig.update_layout(
        title=None,
        margin={"t": 60, "l": 10, "r": 10, "b": 10},
        xaxis_title_text=label(x_key, lang),
        yaxis_title_text=label("retention.axis_cohort", lang),
    )
    return fig
