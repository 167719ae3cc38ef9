"""The pages of repeat purchase and ambassadors, in English, Swedish and Norwegian.

Each page reads its numbers from ``result.to_dict()`` (the JSON twin); its chart is the
result's own ``plot()`` with translated names and axes (the notebook and the page share one
figure). The analyses are declared in :mod:`kundresa._catalog.repeat`.

>>> from kundresa.loyalty import RepeatPurchaseResult
>>> html = render_repeat(RepeatPurchaseResult("Order Completed", True, buyers=2), "sv")
>>> "Köpare" in html and 'id="repeat-orders-table"' in html
True
"""

from __future__ import annotations

from html import escape
from typing import Any

from kundresa._results import Result
from kundresa.server._i18n import label
from kundresa.server._pages_analyses import (
    Column,
    _key,
    _translate,
    cards,
    fmt_float,
    fmt_int,
    fmt_pct,
    fmt_text,
    fmt_value,
    table,
)

__all__ = ["figure_ambassadors", "figure_repeat", "render_ambassadors", "render_repeat"]


def _h2(lang: str, key: str, extra: str = "") -> str:
    return f"<h2>{escape(label('rp.' + key, lang))}{escape(extra)}</h2>"


def _money(v: Any) -> str:
    return "–" if v is None else f"{v:,.2f}"


def _days(seconds: Any) -> str:
    """Seconds as days, one decimal."""
    return "–" if seconds is None else f"{seconds / 86400:,.1f}"


def _rp(key: str) -> str:
    return "rp." + key


#: the breakdown tables' columns (rows of RepeatPurchaseResult.groups / .personas)
_GROUP_COLS: tuple[Column, ...] = (
    (_rp("buyers"), _key("buyers"), fmt_int),
    (_rp("repeat_rate"), _key("repeat_rate"), fmt_pct),
    (_rp("orders_mean"), _key("orders_mean"), fmt_float),
    (_rp("col_revenue_mean"), lambda r: _money(r.get("revenue_mean")), fmt_value),
    (_rp("col_revenue_median"), lambda r: _money(r.get("revenue_median")), fmt_value),
    (_rp("col_repeat_revenue"), lambda r: _money(r.get("repeat_revenue")), fmt_value),
    (_rp("median_gap"), lambda r: _days(r.get("median_gap_seconds")), fmt_value),
)


def render_repeat(result: Result, lang: str) -> str:
    """Repeat purchase: KPI cards, orders per customer and days between orders (the chart),
    the second-order cohort table, revenue per customer, and the breakdowns."""
    d = result.to_dict()
    gaps, rev = d.get("gaps") or {}, d.get("revenue") or {}
    items = [
        ("kpi-buyers", fmt_int(d["buyers"]), _rp("buyers")),
        ("kpi-repeat-rate", fmt_pct(d["repeat_rate"]), _rp("repeat_rate")),
        ("kpi-median-days", _days(gaps.get("median_seconds")), _rp("median_days")),
        ("kpi-revenue-mean", _money(rev.get("mean")), _rp("revenue_mean")),
        ("kpi-repeat-share", fmt_pct(rev.get("repeat_share")), _rp("repeat_share")),
    ]
    parts = [cards(lang, items)]
    if not d["buyers"]:
        return parts[0] + f"<p>{escape(label(_rp('no_buyers'), lang))}</p>"
    parts += ["<!--figure-->", _h2(lang, "orders_per_customer")]
    parts.append(
        table(
            "repeat-orders-table",
            lang,
            [
                (_rp("orders"), _key("orders"), fmt_text),
                (_rp("customers"), _key("customers"), fmt_int),
                (_rp("share"), _key("share"), fmt_pct),
            ],
            d["orders_per_customer"],
        )
    )
    parts.append(_h2(lang, "time_between_orders"))
    q = f"{_days(gaps.get('q1_seconds'))} – {_days(gaps.get('q3_seconds'))}"
    parts.append(
        cards(
            lang,
            [
                ("kpi-gaps", fmt_int(gaps.get("count")), _rp("gaps")),
                ("kpi-quartiles", q, _rp("quartiles_days")),
            ],
        )
    )
    parts.append(
        table(
            "repeat-gaps-table",
            lang,
            [
                (_rp("days"), _key("bin"), fmt_text),
                (_rp("gaps"), _key("gaps"), fmt_int),
                (_rp("share"), _key("share"), fmt_pct),
            ],
            gaps.get("histogram") or [],
        )
    )
    cohorts = d.get("cohorts") or []
    if cohorts:
        parts.append(_h2(lang, "second_order"))
        windows = [c["window"] for c in cohorts[0]["cells"]]
        rows = [
            {"cohort": c["cohort"], "buyers": c["buyers"],
             **{f"w{i}": fmt_pct(cell["share"]) + ("" if cell["complete"] else " *")
                for i, cell in enumerate(c["cells"])}}
            for c in cohorts
        ]  # fmt: skip
        cols: list[Column] = [
            (_rp("cohort"), _key("cohort"), fmt_text),
            (_rp("buyers"), _key("buyers"), fmt_int),
        ]
        cols += [(f"={w}", _key(f"w{i}"), fmt_value) for i, w in enumerate(windows)]
        parts.append(table("repeat-cohorts-table", lang, cols, rows))
        if any(not cell["complete"] for c in cohorts for cell in c["cells"]):
            parts.append(f'<p class="note">{escape(label(_rp("incomplete"), lang))}</p>')
    parts.append(_h2(lang, "revenue"))
    parts.append(
        cards(
            lang,
            [
                ("kpi-revenue-total", _money(rev.get("total")), _rp("revenue_total")),
                ("kpi-revenue-median", _money(rev.get("median")), _rp("revenue_median")),
                ("kpi-revenue-first", _money(rev.get("first")), _rp("first_revenue")),
                ("kpi-revenue-repeat", _money(rev.get("repeat")), _rp("repeat_revenue")),
            ],
        )
    )
    for key, head, tid in (("groups", "by_group", "groups"), ("personas", "by_persona",
                                                               "personas")):  # fmt: skip
        rows = d.get(key) or []
        if rows:
            extra = f" ({d['by']})" if key == "groups" and d.get("by") else ""
            parts.append(_h2(lang, head, extra))
            first = _rp("group") if key == "groups" else "persona"
            cols = [(first, _key("group"), fmt_text), *_GROUP_COLS]
            parts.append(table(f"repeat-{tid}-table", lang, cols, rows))
    return "".join(parts)


def figure_repeat(result: Result, lang: str) -> Any:
    """Customers by number of orders and days between orders, translated."""
    fig = _translate(result.plot(), lang, {"customers": _rp("customers"), "gaps": _rp("gaps")})
    titles = (label(_rp("orders_per_customer"), lang), label(_rp("time_between_orders"), lang))
    for ann, text in zip(fig.layout.annotations, titles, strict=False):
        ann.text = text
    fig.update_xaxes(type="category")
    return fig


_AMB_COLS: tuple[Column, ...] = (
    (_rp("persons"), _key("persons"), fmt_int),
    (_rp("ambassadors"), _key("ambassadors"), fmt_int),
    (_rp("share"), _key("share"), fmt_pct),
    (_rp("share_of_buyers"), _key("share_of_buyers"), fmt_pct),
    (_rp("share_of_repeat_buyers"), _key("share_of_repeat_buyers"), fmt_pct),
    (_rp("nps"), _key("nps"), fmt_float),
    (_rp("nps_interval"), lambda r: _interval(r), fmt_value),
)
#: the signals behind the ambassadors (overall), one row each
_SIGNALS = ("referrers", "reviewers", "promoters", "detractors", "respondents", "buyers",
            "repeat_buyers")  # fmt: skip


def _interval(r: Any) -> str:
    if r.get("nps_low") is None:
        return "–"
    return f"{r['nps_low']:.1f} – {r['nps_high']:.1f}"


def render_ambassadors(result: Result, lang: str) -> str:
    """Ambassadors: KPI cards, the share per persona (the chart) and the tables per persona
    and per stage."""
    d = result.to_dict()
    o = d.get("overall") or {}
    nps = "–" if o.get("nps") is None else f"{o['nps']:.1f}"
    items = [
        ("kpi-ambassadors", fmt_int(o.get("ambassadors")), _rp("ambassadors")),
        ("kpi-share", fmt_pct(o.get("share")), _rp("ambassador_share")),
        ("kpi-share-buyers", fmt_pct(o.get("share_of_buyers")), _rp("share_of_buyers")),
        ("kpi-share-repeat", fmt_pct(o.get("share_of_repeat_buyers")),
         _rp("share_of_repeat_buyers")),
        ("kpi-nps", nps, _rp("nps")),
        ("kpi-nps-interval", _interval(o), _rp("nps_interval")),
    ]  # fmt: skip
    parts = [cards(lang, items), "<!--figure-->"]
    for key, head, first in (
        ("personas", "by_persona", "persona"),
        ("stages", "by_stage", "stage"),
    ):
        rows = d.get(key) or []
        if rows:
            parts.append(_h2(lang, head))
            cols = [(first, _key("group"), fmt_text), *_AMB_COLS]
            parts.append(table(f"ambassadors-{key}-table", lang, cols, rows))
    if o:
        parts.append(_h2(lang, "signals"))
        rows = [{"signal": label(_rp(k), lang), "persons": o.get(k)} for k in _SIGNALS]
        cols = [("rp.signal", _key("signal"), fmt_text), (_rp("persons"), _key("persons"), fmt_int)]
        parts.append(table("ambassadors-signals-table", lang, cols, rows))
    return "".join(parts)


def figure_ambassadors(result: Result, lang: str) -> Any:
    """The share of ambassadors per persona, of persons, buyers and repeat buyers."""
    names = {
        "ambassadors": _rp("ambassador_share"),
        "of buyers": _rp("share_of_buyers"),
        "of repeat buyers": _rp("share_of_repeat_buyers"),
    }
    return _translate(result.plot(), lang, names, {"y": _rp("share")})
