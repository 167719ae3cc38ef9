"""The pages of lifecycle (stacked bars per period, dormant below zero, PostHog style) and
stickiness (bars of days active), in English, Swedish and Norwegian.

The analyses are declared in :mod:`kundresa._catalog.lifecycle` with ``page=`` and
``figure=`` naming these functions. Every page reads its numbers from
``result.to_dict()`` (the JSON twin); the chart is the result's own ``plot()`` with its
legend and axes translated, so notebooks and the page share one figure.

>>> from kundresa.loyalty import LifecycleResult
>>> r = LifecycleResult("posthog", "day", "any", "first_event",
...     ("new", "returning", "resurrecting", "dormant"),
...     rows=({"period": "2026-01-05", "new": 2, "returning": 0, "resurrecting": 0,
...            "dormant": -1, "active": 2, "pulse": 2.0},))
>>> html = render_lifecycle(r, "sv")
>>> "Vilande" in html and 'id="lifecycle-table"' in html
True
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
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
    fmt_text,
    table,
)

__all__ = ["figure_lifecycle", "figure_stickiness", "render_lifecycle", "render_stickiness"]

#: the keys of the results' to_dict() the pages read
_LC = {"rows": "rows", "by_group": "by_group", "statuses": "statuses", "mode": "mode"}
_ST = {"rows": "rows", "by_group": "by_group", "groups": "groups", "mode": "mode"}


def _get(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: row.get(name)


def _h2(lang: str, key: str) -> str:
    return f"<h2>{escape(label(key, lang))}</h2>"


def _note(lang: str, key: str) -> str:
    return f'<p class="muted" id="rule">{escape(label(key, lang))}</p>'


def _lifecycle_columns(statuses: Sequence[str], grouped: bool) -> list[Column]:
    cols: list[Column] = [("lifecycle_period", _get("period"), fmt_text)]
    if grouped:
        cols.insert(0, ("lifecycle_group", _get("group"), fmt_text))
    cols += [(f"lifecycle.{s}", _get(s), fmt_int) for s in statuses]
    cols += [
        ("lifecycle_active", _get("active"), fmt_int),
        ("lifecycle_pulse", _get("pulse"), fmt_float),
    ]
    return cols


def render_lifecycle(result: Result, lang: str) -> str:
    """Lifecycle: KPI cards (periods, last period's active persons, median pulse), the bars,
    the table per period and, with a breakdown, per group."""
    d = result.to_dict()
    rows, statuses, mode = d[_LC["rows"]], d[_LC["statuses"]], d[_LC["mode"]]
    if not rows:
        return f'<p class="muted" id="no-activity">{escape(label("no_activity", lang))}</p>'
    pulses = [r["pulse"] for r in rows if r["pulse"] is not None]
    items = [
        ("kpi-periods", fmt_int(len(rows)), "lifecycle_periods"),
        ("kpi-active", fmt_int(rows[-1]["active"]), "lifecycle_active"),
        ("kpi-pulse", fmt_float(statistics.median(pulses)) if pulses else "–",
         "lifecycle_mean_pulse"),
    ]  # fmt: skip
    parts = [cards(lang, items), _note(lang, f"lifecycle_rule_{mode}"), "<!--figure-->"]
    columns = _lifecycle_columns(statuses, False)
    parts += [_h2(lang, "lifecycle_table"), table("lifecycle-table", lang, columns, rows)]
    groups = d.get(_LC["by_group"]) or []
    if groups:
        parts += [_h2(lang, "lifecycle_groups"),
                  table("lifecycle-groups-table", lang, _lifecycle_columns(statuses, True),
                        groups)]  # fmt: skip
    return "".join(parts)


def figure_lifecycle(result: Result, lang: str) -> Any:
    """The lifecycle bars (one panel per group with a breakdown), translated."""
    groups = getattr(result, "groups", ())
    fig = result.plot(by="group") if groups else result.plot()  # type: ignore[call-arg]
    for trace in fig.data:
        trace.name = label(f"lifecycle.{trace.name}", lang)
    fig.update_layout(
        title=None,
        margin={"t": 40},
        yaxis_title_text=label("lifecycle_persons", lang),
    )
    return fig


def _stickiness_columns(share: bool, grouped: bool) -> list[Column]:
    cols: list[Column] = [("stickiness_days", _get("days_active"), fmt_int)]
    if grouped:
        cols.insert(0, ("lifecycle_group", _get("group"), fmt_text))
    cols += [
        ("stickiness_exactly", _get("persons"), fmt_int),
        ("stickiness_at_least", _get("persons_at_least"), fmt_int),
        ("stickiness_share", _get("share"), fmt_pct),
        ("stickiness_share_at_least", _get("share_at_least"), fmt_pct),
        ("stickiness_value", _get("value"), fmt_pct if share else fmt_int),
    ]
    return cols


def render_stickiness(result: Result, lang: str) -> str:
    """Stickiness: active person-periods, the bars, the table per number of days and, with a
    breakdown, per group."""
    d = result.to_dict()
    rows, mode = d[_ST["rows"]], d[_ST["mode"]]
    if not rows:
        return f'<p class="muted" id="no-activity">{escape(label("no_activity", lang))}</p>'
    share = mode == "amplitude"
    items = [
        ("kpi-person-periods", fmt_int(rows[0]["persons_at_least"]), "stickiness_person_periods"),
        ("kpi-one-day", fmt_pct(rows[0]["share"]), "stickiness_share"),
    ]
    parts = [cards(lang, items), _note(lang, f"stickiness_rule_{mode}"), "<!--figure-->"]
    parts += [_h2(lang, "stickiness_table"),
              table("stickiness-table", lang, _stickiness_columns(share, False), rows)]  # fmt: skip
    groups = d.get(_ST["by_group"]) or []
    if groups:
        parts += [_h2(lang, "lifecycle_groups"),
                  table("stickiness-groups-table", lang, _stickiness_columns(share, True),
                        groups)]  # fmt: skip
    return "".join(parts)


#: the stickiness chart's y axis by (share, cumulative)
_STICKY_AXIS = {
    (True, False): "stickiness_share",
    (True, True): "stickiness_share_at_least",
    (False, False): "stickiness_exactly",
    (False, True): "stickiness_at_least",
}


def figure_stickiness(result: Result, lang: str) -> Any:
    """The stickiness bars, translated."""
    fig = result.plot()
    share = getattr(result, "mode", "") == "amplitude"
    for trace in fig.data:
        if trace.name == "persons":
            trace.name = label("lifecycle_persons", lang)
    fig.update_layout(
        title=None,
        margin={"t": 40},
        xaxis_title_text=label("stickiness_days", lang),
        yaxis_title_text=label(
            _STICKY_AXIS[share, bool(getattr(result, "cumulative", False))], lang
        ),
    )
    return fig
