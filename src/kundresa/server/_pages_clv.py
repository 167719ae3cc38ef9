"""The pages of ``clv`` (CLV and P(alive) distributions, predicted vs actual, parameters with
standard errors, top customers, per persona) and ``rfm`` (segments, the R x F grid), in
English, Swedish and Norwegian. Each page reads its numbers from ``result.to_dict()`` (the
JSON twin); the charts are the results' own figures with translated texts.

>>> from kundresa.loyalty import RfmResult
>>> r = RfmResult("Order Completed", "quantile", None, 2, 30.0, segments=({"segment": "lost",
...     "customers": 2, "share": 1.0, "revenue": 30.0, "revenue_share": 1.0,
...     "mean_recency_seconds": 17280000.0, "mean_frequency": 1.0},))
>>> "Förlorade" in render_rfm(r, "sv")
True
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from kundresa._results import Result
from kundresa.server._i18n import label
from kundresa.server._pages_analyses import (
    Column,
    cards,
    fmt_float,
    fmt_int,
    fmt_pct,
    fmt_seconds,
    fmt_text,
    table,
)

__all__ = ["figure_clv", "figure_rfm", "render_clv", "render_rfm"]


def _get(name: str, scale: float = 1.0) -> Any:
    def get(row: Mapping[str, Any]) -> Any:
        v = row.get(name)
        return v * scale if isinstance(v, int | float) and scale != 1.0 else v

    return get


def fmt_money(v: Any) -> str:
    """A value with two decimals (``–`` when missing).

    >>> fmt_money(1234.5), fmt_money(None)
    ('1,234.50', '–')
    """
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    return f"{v:,.2f}"


def fmt_estimate(v: Any) -> str:
    """A parameter estimate or standard error, four significant digits.

    >>> fmt_estimate(0.242612), fmt_estimate(float("nan"))
    ('0.2426', '–')
    """
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    return f"{v:.4g}"


def fmt_prob(v: Any) -> str:
    """A probability or a mean count, three decimals.

    >>> fmt_prob(0.81234)
    '0.812'
    """
    return "–" if v is None else f"{v:.3f}"


def _h2(lang: str, key: str) -> str:
    return f"<h2>{escape(label(key, lang))}</h2>"


def _warnings(lang: str, items: Any) -> str:
    if not items:
        return ""
    lis = "".join(f"<li>{escape(str(w))}</li>" for w in items)
    return (
        f'<div class="warning" id="clv-warnings"><b>{escape(label("clv.warnings", lang))}</b>'
        f"<ul>{lis}</ul></div>"
    )


_PARAM_COLS: tuple[Column, ...] = (
    ("clv.model", _get("model"), fmt_text),
    ("clv.parameter", _get("parameter"), fmt_text),
    ("clv.estimate", _get("estimate"), fmt_estimate),
    ("clv.standard_error", _get("standard_error"), fmt_estimate),
)
_TOP_COLS: tuple[Column, ...] = (
    ("clv.person", _get("person_id"), fmt_text),
    ("clv.x", _get("x"), fmt_int),
    ("clv.t_x", _get("t_x"), fmt_float),
    ("clv.T", _get("T"), fmt_float),
    ("clv.monetary", _get("monetary"), fmt_money),
    ("clv.p_alive", _get("p_alive"), fmt_prob),
    ("clv.expected_purchases", _get("expected_purchases"), fmt_float),
    ("clv.expected_spend", _get("expected_spend"), fmt_money),
    ("clv.clv", _get("clv"), fmt_money),
)
_DECILE_COLS: tuple[Column, ...] = (
    ("clv.decile", _get("decile"), fmt_int),
    ("clv.customers", _get("customers"), fmt_int),
    ("clv.mean_clv", _get("mean_clv"), fmt_money),
    ("clv.share", _get("share"), fmt_pct),
)
_CAL_COLS: tuple[Column, ...] = (
    ("clv.frequency", _get("frequency"), fmt_text),
    ("clv.customers", _get("customers"), fmt_int),
    ("clv.actual", _get("actual"), fmt_prob),
    ("clv.predicted", _get("predicted"), fmt_prob),
)
_GROUP_COLS: tuple[Column, ...] = (
    ("clv.persona", _get("group"), fmt_text),
    ("clv.customers", _get("customers"), fmt_int),
    ("clv.repeat_share", _get("repeat_share"), fmt_pct),
    ("clv.mean_p_alive", _get("mean_p_alive"), fmt_prob),
    ("clv.expected_purchases", _get("expected_purchases"), fmt_float),
    ("clv.mean_clv", _get("mean_clv"), fmt_money),
    ("clv.total_clv", _get("clv"), fmt_money),
)


def render_clv(result: Result, lang: str) -> str:
    """CLV: KPI cards, the distributions (and predicted vs actual) chart, parameters with
    standard errors, CLV deciles, the calibration table, per persona and top customers."""
    d = result.to_dict()
    t = d.get("totals") or {}
    fits = [f for f in (d.get("fit"), d.get("spend_fit")) if f]
    ll = "; ".join(f"{f['model']} {f['log_likelihood']:,.2f}" for f in fits)
    parts = [
        cards(
            lang,
            [
                ("kpi-customers", fmt_int(d["customers"]), "clv.customers"),
                ("kpi-repeat", fmt_int(d["repeat_customers"]), "clv.repeat_customers"),
                ("kpi-p-alive", fmt_prob(t.get("mean_p_alive")), "clv.mean_p_alive"),
                ("kpi-purchases", fmt_float(t.get("expected_purchases")), "clv.expected_purchases"),
                ("kpi-clv", fmt_money(t.get("clv")), "clv.total_clv"),
                ("kpi-mean-clv", fmt_money(t.get("mean_clv")), "clv.mean_clv"),
            ],
        ),
        f'<p class="muted" id="clv-settings">{escape(label("clv.period", lang))}: '
        f"{escape(str(d.get('calibration_end')))}"
        + (
            f" · {escape(label('param.holdout', lang))}: {escape(str(d['holdout_end']))}"
            if d.get("holdout_end")
            else ""
        )
        + f" · {escape(label('param.horizon', lang))}: {escape(str(d['horizon']))}"
        f" · {escape(label('clv.log_likelihood', lang))}: {escape(ll)}</p>",
        _warnings(lang, d.get("warnings")),
        "<!--figure-->",
        _h2(lang, "clv.parameters"),
        table("clv-params-table", lang, _PARAM_COLS, d.get("params") or []),
        _h2(lang, "clv.deciles"),
        table("clv-deciles-table", lang, _DECILE_COLS, d.get("deciles") or []),
    ]
    cal = d.get("calibration")
    if cal:
        parts += [
            _h2(lang, "clv.calibration"),
            table("clv-calibration-table", lang, _CAL_COLS, cal.get("rows") or []),
        ]
    if d.get("by_group"):
        parts += [
            _h2(lang, "clv.by_persona"),
            table("clv-persona-table", lang, _GROUP_COLS, d["by_group"]),
        ]
    parts += [_h2(lang, "clv.top"), table("clv-top-table", lang, _TOP_COLS, d.get("top") or [])]
    return "".join(parts)


def figure_clv(result: Result, lang: str) -> Any:
    """The CLV and P(alive) distributions and predicted vs actual, translated."""
    from kundresa.loyalty._clv_analysis import ClvResult, clv_figure

    assert isinstance(result, ClvResult)
    fig = clv_figure(result, lambda key: label(f"clv.{key}", lang))
    fig.update_layout(margin={"t": 40})
    return fig


_SEGMENT_COLS: tuple[Column, ...] = (
    ("rfm.segment", _get("name"), fmt_text),
    ("rfm.customers", _get("customers"), fmt_int),
    ("rfm.share", _get("share"), fmt_pct),
    ("rfm.revenue", _get("revenue"), fmt_money),
    ("rfm.revenue_share", _get("revenue_share"), fmt_pct),
    ("rfm.recency", _get("mean_recency_seconds"), fmt_seconds),
    ("rfm.frequency", _get("mean_frequency"), fmt_float),
)


def render_rfm(result: Result, lang: str) -> str:
    """RFM: the segments chart and table, the R x F grid and, with a map, per persona."""
    d = result.to_dict()
    segs = [{**s, "name": label(f"segment.{s['segment']}", lang)} for s in d["segments"]]
    parts = [
        cards(
            lang,
            [
                ("kpi-customers", fmt_int(d["customers"]), "rfm.customers"),
                ("kpi-revenue", fmt_money(d["revenue"]), "rfm.revenue"),
            ],
        ),
        f'<p class="muted" id="rfm-settings">{escape(label("rfm.as_of", lang))}: '
        f"{escape(str(d.get('calibration_end')))}</p>",
        "<!--figure-->",
        _h2(lang, "rfm.segments"),
        table("rfm-segments-table", lang, _SEGMENT_COLS, segs),
        _h2(lang, "rfm.grid"),
    ]
    cells = {(g["r"], g["f"]): g["customers"] for g in d.get("grid") or []}
    grid_rows = [
        {"r": f"R {r}", **{f"f{f}": cells.get((r, f)) for f in range(1, 6)}}
        for r in range(5, 0, -1)
    ]
    cols: list[Column] = [("=R \\ F", _get("r"), fmt_text)]
    cols += [(f"=F {f}", _get(f"f{f}"), fmt_int) for f in range(1, 6)]
    parts.append(table("rfm-grid-table", lang, cols, grid_rows))
    by_group = d.get("by_group") or []
    if by_group:
        names = [r["segment"] for r in d["segments"]]
        groups = sorted({r["group"] for r in by_group})
        rows = []
        for g in groups:
            row: dict[str, Any] = {"group": g}
            for r in by_group:
                if r["group"] == g:
                    row[r["segment"]] = r["customers"]
            rows.append(row)
        pcols: list[Column] = [("rfm.persona", _get("group"), fmt_text)]
        pcols += [(f"={label('segment.' + n, lang)}", _get(n), fmt_int) for n in names]
        parts += [_h2(lang, "rfm.by_persona"), table("rfm-persona-table", lang, pcols, rows)]
    return "".join(parts)


def figure_rfm(result: Result, lang: str) -> Any:
    """Customers and revenue share per segment, translated."""
    from kundresa.loyalty._rfm import RfmResult, rfm_figure

    assert isinstance(result, RfmResult)
    keys = {"customers": "rfm.share", "revenue": "rfm.revenue_share", "share": "rfm.share_axis"}

    def text(key: str) -> str:
        return label(keys.get(key, f"segment.{key}"), lang)

    fig = rfm_figure(result, text)
    fig.update_layout(margin={"t": 40})
    return fig
