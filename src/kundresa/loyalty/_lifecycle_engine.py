"""The engine side of lifecycle and stickiness: Ibis expressions that run on DuckDB and Spark
alike and return only per-period counts.

- :func:`activity` the distinct (person, period) pairs of activity, with the person's
  breakdown group;
- :func:`lifecycle_counts` persons per (group, period, status), the statuses computed by
  window functions (``lag``/``lead`` over the person's active periods);
- :func:`stickiness_counts` person-periods per (group, period, days active).

Ties cannot change a number here: every step works on *distinct* (person, period) or
(person, day) pairs, so the order of equal timestamps is never consulted.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError
from kundresa.loyalty._periods import period_expr

if TYPE_CHECKING:
    import ibis
    import pyarrow as pa

    from kundresa._workspace import Workspace

__all__ = [
    "ANY",
    "CREATED",
    "MODES",
    "STATUSES",
    "activity",
    "lifecycle_counts",
    "stickiness_counts",
]

#: the activity event that means "any touchpoint"
ANY = "any"
#: lifecycle modes
MODES = ("posthog", "amplitude")
#: the statuses of each mode, in chart order (active ones first, dormant last)
STATUSES: dict[str, tuple[str, ...]] = {
    "posthog": ("new", "returning", "resurrecting", "dormant"),
    "amplitude": ("new", "current", "resurrected", "dormant"),
}
#: what the person's creation is (see :func:`kundresa.loyalty.lifecycle`)
CREATED = ("first_event", "first_activity", "first_identify")
#: the group of every person when there is no breakdown
ALL = "*"


def _property(ev: Any, key: str) -> Any:
    """A top-level value of the ``properties`` JSON text by regular expression (portable to
    Spark; a string's quotes dropped; ``''`` -> null)."""
    pattern = r'"' + re.escape(key) + r'"\s*:\s*"?([^",}\]]*)'
    value = ev.properties.re_extract(pattern, 1)
    return value.nullif("")


def _by_value(ev: Any, by: str) -> Any:
    if by.startswith("properties.") and len(by) > len("properties."):
        return _property(ev, by.split(".", 1)[1])
    if by not in ev.columns or by == "properties":
        raise InvalidOptionError(
            "by", by, fix=f"name an events column ({', '.join(ev.columns)}) or properties.KEY"
        )
    return ev[by].cast("string")


def activity(
    ws: Workspace,
    event: str,
    period: str,
    *,
    by: str | None = None,
    journey_map: Any = None,
    days: bool = False,
) -> ibis.Table:
    """Distinct ``person_id, p[, d], grp`` of the activity events (touchpoints; only
    ``event`` unless it is :data:`ANY`). ``p`` is the period index, ``d`` the day index
    (``days=True``), ``grp`` the person's group: the value of ``by`` on their first activity
    event (earliest, ties by ``event_id``), the persona of ``journey_map``, both joined by
    ``" · "``, or :data:`ALL`."""
    import ibis

    ev = ws.events()
    ev = ev.filter(ev.person_id.notnull())
    if event != ANY:
        ws.require_event(event)
        ev = ev.filter(ev.event == event)
    cols: dict[str, Any] = {"person_id": ev.person_id, "p": period_expr(ev.ts, period)}
    if days:
        cols["d"] = period_expr(ev.ts, "day")
    act = ev.select(**cols).distinct()
    parts: list[Any] = []
    if journey_map is not None:
        parts.append(_personas(ws, journey_map))
    if by is not None:
        value = _by_value(ev, by)
        first = ev.select(
            "person_id",
            v=value.fill_null("(none)"),
            r=ibis.row_number().over(group_by=ev.person_id, order_by=[ev.ts, ev.event_id]),
        )
        parts.append(first.filter(first.r == 0).select("person_id", grp=first.v))
    if not parts:
        return act.mutate(grp=ibis.literal(ALL))
    groups = parts[0]
    if len(parts) == 2:
        right = parts[1].rename(grp2="grp")
        groups = groups.join(right, "person_id").select(
            "person_id", grp=groups.grp.concat(" · ", right.grp2)
        )
    return act.join(groups, "person_id").select(*act.columns, "grp")


def _personas(ws: Workspace, journey_map: Any) -> Any:
    """``person_id, grp``: the persona of every person with activity (``(none)`` if no rule
    of the map selects them), as the map measurement assigns it."""
    import ibis

    from kundresa.attribution._stages import NO_PERSONA, load_journey_map
    from kundresa.maps._measure import persona_table

    jm = load_journey_map(journey_map)
    full = ws.events(touchpoints_only=False)
    full = full.filter(full.person_id.notnull())
    persons = full.select("person_id").distinct()
    table = persona_table(jm, full.select("person_id", "ts", "event", "channel", "touchpoint",
                                          "properties"))  # fmt: skip
    if table is None:
        return persons.mutate(grp=ibis.literal(NO_PERSONA))
    joined = persons.left_join(table, "person_id").select(persons.person_id, table.pidx)
    name: Any = ibis.literal(NO_PERSONA)
    for i, p in enumerate(jm.personas):
        name = ibis.ifelse(joined.pidx == i, p.id, name)
    return joined.select("person_id", grp=name)


def _created(ws: Workspace, act: Any, period: str, created: str) -> Any:
    """``person_id, c``: the period of each active person's creation."""
    import ibis

    if created == "first_activity":
        return act.group_by("person_id").aggregate(c=act.p.min())
    full = ws.events(touchpoints_only=False)
    full = full.filter(full.person_id.notnull())
    if created == "first_event":
        first = full.group_by("person_id").aggregate(t0=full.ts.min())
        return first.select("person_id", c=period_expr(first.t0, period))
    first = full.group_by("person_id").aggregate(
        t0=full.ts.min(), ti=full.ts.min(where=full.type == "identify")
    )
    return first.select("person_id", c=period_expr(ibis.coalesce(first.ti, first.t0), period))


def lifecycle_counts(
    ws: Workspace,
    act: ibis.Table,
    period: str,
    mode: str,
    created: str,
) -> pa.Table:
    """``grp, p, status, n``: persons per group, period and status (dormant counted
    positive here; the result negates it). Only these counts leave the engine."""
    import ibis

    w = ibis.window(group_by=act.person_id, order_by=act.p)
    a = act.mutate(prev=act.p.lag().over(w), nxt=act.p.lead().over(w))
    after_gap = a.prev.isnull() | (a.prev < a.p - 1)
    if mode == "posthog":
        c = _created(ws, act, period, created)
        a = a.left_join(c, "person_id").select(*a.columns, "c")
        status = ibis.cases((a.p == a.c, "new"), (~after_gap, "returning"), else_="resurrecting")
    else:
        status = ibis.cases((~after_gap, "current"), (a.prev.isnull(), "new"), else_="resurrected")
    active = a.select("grp", "p", status=status)
    gone = a.filter(a.nxt.isnull() | (a.nxt > a.p + 1))
    dormant = gone.select("grp", p=(gone.p + 1).cast("int64"), status=ibis.literal("dormant"))
    both = active.union(dormant, distinct=False)
    counts = both.group_by("grp", "p", "status").aggregate(n=both.count())
    return ws.store.fetch(counts)


def stickiness_counts(ws: Workspace, act: ibis.Table) -> pa.Table:
    """``grp, p, k, n``: person-periods active on exactly ``k`` distinct days of period ``p``
    (``act`` from :func:`activity` with ``days=True``)."""
    per = act.group_by("person_id", "grp", "p").aggregate(k=act.count())  # act is distinct
    counts = per.group_by("grp", "p", "k").aggregate(n=per.count())
    return ws.store.fetch(counts)
