"""Measuring a journey map on the event data (both engines, through Ibis).

A person enters stage *k* at their first event matching the stage's rule. "Progressed"
means they entered stage *k+1* at or after entering stage *k* (the funnel definition of the
synthetic truth); "dropped" means they did not, and ``went_instead`` says where: a later stage
they skipped ahead to, ``(next earlier)`` when they entered the next stage before this one, or
``(left)``. Conversion from a stage is a conversion event at or after the stage entry.
Time in stage runs from entry to the entry of the next stage they reached.

Persons are *stitched* persons. A device that never signs in (no user id, card, e-mail) stays
a person of its own, although it may belong to someone counted already: ``anonymous`` says how
many of a stage's persons are such never-identified devices, so that a reader can see how much
of a share's denominator may be the same people twice (see docs/maps.md). The per-person
entry table is computed on the engine; the quantiles are taken from it in Python so that
DuckDB and Spark give identical numbers (see ADR 0007).

>>> from kundresa.maps import StageMeasure
>>> StageMeasure("buy", "*", persons=10, progressed=4, dropped=6).progression
0.4
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kundresa._results import Result
from kundresa._util import humanize_seconds, renamed
from kundresa.maps._model import JourneyMap, Rule

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = [
    "ALL",
    "LoyaltyMeasure",
    "MapMeasurement",
    "StageMeasure",
    "TouchpointMeasure",
    "measure_map",
    "persona_table",
    "stage_entry_table",
]

ALL = "*"
_META = set(".^$*+?()[]{}|\\")


def _esc(text: str) -> str:
    return "".join("\\" + c if c in _META else c for c in text)


def _pred(t: Any, rule: Rule) -> Any:
    import ibis

    conds = []
    if rule.events:
        conds.append(t.event.isin(list(rule.events)))
    if rule.channels:
        conds.append(t.channel.isin(list(rule.channels)))
    if rule.touchpoints:
        conds.append(t.touchpoint.isin(list(rule.touchpoints)))
    for key, value in rule.where:
        # properties is compact JSON text; match "key": "value" or "key": value (numbers)
        pattern = rf'"{_esc(key)}"\s*:\s*("{_esc(value)}"|{_esc(value)}\s*[,}}])'
        conds.append(t.properties.notnull() & t.properties.re_search(pattern))
    out = ibis.literal(True)
    for c in conds:
        out = out & c
    return out


def _share(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


@dataclass(frozen=True)
class LoyaltyMeasure:
    """Loyalty numbers of one persona on the map's loyalty stage (its last stage).

    ``buyers``: persons with a conversion (the map's ``measurement.conversion`` rule);
    ``repeat_buyers``: those who converted on two or more distinct days; ``ambassadors``:
    buyers who recommend (a ``Referral Sent`` or ``Review Written`` event, or an NPS
    promoter: latest answer >= 9 of the map's survey rule, see
    :func:`kundresa.loyalty.ambassadors`). ``p_alive`` (the distribution over the persona's
    customers: ``{"mean", "q1", "median", "q3"}``) and ``clv`` (mean expected customer
    lifetime value per customer, 12 months) come from :func:`kundresa.loyalty.clv` (BG/NBD +
    Gamma-Gamma) with the map's personas, when the conversion rule is one event name and
    the fit can run (repeat buyers exist); otherwise they stay None.

    >>> LoyaltyMeasure(buyers=4, repeat_buyers=1, ambassadors=2).repeat_rate
    0.25
    """

    buyers: int = 0
    repeat_buyers: int = 0
    ambassadors: int = 0
    p_alive: dict[str, float] | None = None
    clv: float | None = None

    @property
    def repeat_rate(self) -> float | None:
        """Share of the buyers who bought again."""
        return _share(self.repeat_buyers, self.buyers)

    @property
    def ambassador_share(self) -> float | None:
        """Share of the buyers who recommend."""
        return _share(self.ambassadors, self.buyers)


@dataclass(frozen=True)
class StageMeasure:
    """Measured numbers of one stage for one persona (``persona == "*"``: everyone).

    ``anonymous``: how many of the ``persons`` never carried an identifier beyond a device's
    anonymous id (possibly a second device of someone counted already)."""

    stage: str
    persona: str
    persons: int = 0
    progressed: int = 0
    dropped: int = 0
    went_instead: tuple[tuple[str, int], ...] = ()
    converted: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    channels: tuple[tuple[str, int], ...] = ()
    csat: float | None = None
    nps: float | None = None
    survey_answers: int = 0
    last: bool = False
    anonymous: int = 0
    #: on the loyalty stage (the map's last stage) when the map has a conversion rule
    loyalty: LoyaltyMeasure | None = None

    @property
    def progression(self) -> float | None:
        """Share of the stage's persons who entered the next stage."""
        return None if self.last else _share(self.progressed, self.persons)

    @property
    def drop_off(self) -> float | None:
        """Share of the stage's persons who did not enter the next stage."""
        return None if self.last else _share(self.dropped, self.persons)

    @property
    def conversion_rate(self) -> float | None:
        """Share of the stage's persons who converted at or after entering it."""
        return _share(self.converted, self.persons)


@dataclass(frozen=True)
class TouchpointMeasure:
    """Persons with at least one event of a touchpoint's rule, per persona."""

    stage: str
    touchpoint: str
    channel: str
    persona: str
    persons: int


@dataclass(frozen=True)
class MapMeasurement(Result):
    """Every measured number of a map: per stage x persona and per touchpoint x persona."""

    title: str
    #: run metadata: never compared nor hashed
    engine: str = field(compare=False)
    persons: int
    unassigned: int
    personas: tuple[str, ...]
    stages: tuple[StageMeasure, ...]
    touchpoints: tuple[TouchpointMeasure, ...]

    def stage(self, stage_id: str, persona: str = ALL) -> StageMeasure | None:
        """The numbers of one stage for one persona (``"*"``: everyone), or None."""
        for s in self.stages:
            if s.stage == stage_id and s.persona == persona:
                return s
        return None

    def touchpoint(self, stage_id: str, name: str, persona: str = ALL) -> int | None:
        """Persons reached by one touchpoint of a stage."""
        for t in self.touchpoints:
            if (t.stage, t.touchpoint, t.persona) == (stage_id, name, persona):
                return t.persons
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the derived shares of every stage."""
        out = super().to_dict()
        for row, s in zip(out["stages"], self.stages, strict=True):
            row["progression"] = s.progression
            row["drop_off"] = s.drop_off
            row["conversion_rate"] = s.conversion_rate
            if s.loyalty is not None:
                row["loyalty"]["repeat_rate"] = s.loyalty.repeat_rate
                row["loyalty"]["ambassador_share"] = s.loyalty.ambassador_share
        return out

    def to_frame(self) -> Any:
        """One row per stage x persona."""
        import pandas as pd

        rows = self.to_dict()["stages"]
        for r in rows:
            r["went_instead"] = ", ".join(f"{k} {v}" for k, v in r["went_instead"])
            r["channels"] = ", ".join(f"{k} {v}" for k, v in r["channels"])
            for k, v in (r.pop("loyalty") or {}).items():
                r[f"loyalty_{k}"] = v
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        def pct(x: float | None) -> str:
            return "-" if x is None else f"{100 * x:5.1f}%"

        lines = [f"{self.title}: {self.persons:,} persons ({self.engine})"]
        lines.append("anon.: persons known only by a device's anonymous id (maybe counted twice)")
        head = f"{'stage':<22}{'persona':<15}{'persons':>9}{'anon.':>8}{'progress':>9}{'drop':>8}"
        lines.append(head + f"{'convert':>9}{'median':>10}{'p90':>9}")
        for s in self.stages:
            med = humanize_seconds(s.median_seconds, "-")
            p90 = humanize_seconds(s.p90_seconds, "-")
            lines.append(
                f"{s.stage[:21]:<22}{s.persona[:14]:<15}{s.persons:>9,}{s.anonymous:>8,}"
                f"{pct(s.progression):>9}"
                f"{pct(s.drop_off):>8}{pct(s.conversion_rate):>9}{med:>10}{p90:>9}"
            )
        for s in self.stages:
            if s.loyalty is not None:
                lo = s.loyalty
                lines.append(
                    f"loyalty ({s.stage}, {s.persona}): {lo.buyers:,} buyers, repeat "
                    f"{pct(lo.repeat_rate).strip()}, ambassadors {pct(lo.ambassador_share).strip()}"
                    + (f", P(alive) median {lo.p_alive['median']:.2f}" if lo.p_alive else "")
                    + (f", CLV {lo.clv:,.2f}" if lo.clv is not None else "")
                )
        return "\n".join(lines)


def _micros(col: Any) -> list[int | None]:
    import pyarrow as pa

    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.timestamp("us", tz=col.type.tz)).cast(pa.int64())
    return list(col.to_pylist())


def _quantiles(values: list[int]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    arr = np.asarray(values, dtype=np.float64) / 1e6  # microseconds -> seconds
    med, p90 = np.percentile(arr, [50, 90])
    return round(float(med), 3), round(float(p90), 3)


def persona_table(jm: JourneyMap, ev: Any) -> Any:
    """Persona of each person as an Ibis table ``person_id, pidx`` (``pidx`` indexes
    ``jm.personas``): the first persona in map order whose ``select`` rule any of the person's
    events matches; None when the map has no persona rules. ``ev`` is
    ``workspace.events(touchpoints_only=False)`` (persona rules often match Identify calls).

    >>> from kundresa.maps import new_map
    >>> from kundresa import Workspace
    >>> ev = Workspace.open(None).events(touchpoints_only=False)
    >>> persona_table(new_map("shop"), ev).columns
    ('person_id', 'pidx')
    """
    import ibis

    parts = [
        ev.filter(_pred(ev, p.select)).select("person_id", pidx=ibis.literal(i))
        for i, p in enumerate(jm.personas)
        if p.select is not None
    ]
    if not parts:
        return None
    u = parts[0]
    for part in parts[1:]:
        u = u.union(part)
    return u.group_by("person_id").aggregate(pidx=u.pidx.min())


def _entry_aggs(jm: JourneyMap, ev: Any) -> dict[str, Any]:
    return {
        f"t{k}": ev.ts.min(where=_pred(ev, s.match))
        for k, s in enumerate(jm.stages)
        if s.match is not None
    }


def stage_entry_table(jm: JourneyMap, ev: Any) -> Any:
    """Stage entries as an Ibis table ``person_id, t0, t1, ...``: ``t{k}`` is the time of the
    person's first event matching stage *k*'s rule (null if never; stages without a rule have
    no column). Persons who entered no stage are absent; None when no stage has a rule.

    >>> from kundresa.maps import new_map
    >>> from kundresa import Workspace
    >>> ev = Workspace.open(None).events(touchpoints_only=False)
    >>> stage_entry_table(new_map("shop"), ev).columns[:3]
    ('person_id', 't0', 't1')
    """
    import ibis

    aggs = _entry_aggs(jm, ev)
    if not aggs:
        return None
    rules = [s.match for s in jm.stages if s.match is not None]
    any_stage = ibis.or_(*[_pred(ev, r) for r in rules])
    return ev.filter(any_stage).group_by("person_id").aggregate(**aggs)


@renamed(jm="journey_map", workspace="ws")
def measure_map(journey_map: JourneyMap, ws: Workspace) -> MapMeasurement:
    """Measure ``journey_map`` on a workspace: per stage, touchpoint and persona (see module doc).

    >>> from kundresa.maps import new_map
    >>> from kundresa import Workspace
    >>> m = measure_map(new_map("shop"), Workspace.open(None))  # an empty workspace
    >>> m.persons
    0
    """
    import ibis

    ev = ws.events(touchpoints_only=False)
    # a person is identified once any of their events carries more than a device's anonymous
    # id (person_key is the event's strongest identifier, see docs/event-model.md)
    known_t = ev.group_by("person_id").aggregate(
        known=ev.person_key.startswith("anonymous_id:").ifelse(0, 1).max()
    )
    ev = ev.select("person_id", "ts", "event", "channel", "touchpoint", "properties")
    to_arrow = ws.store.fetch

    persona_t = persona_table(journey_map, ev)

    # stage entry: each person's first event of each stage's rule (one aggregation pass)
    rules = [(k, s.match) for k, s in enumerate(journey_map.stages) if s.match is not None]
    cols = [f"t{k}" for k, _ in rules]
    table = None
    if rules:
        aggs = _entry_aggs(journey_map, ev)
        conv = journey_map.measurement.conversion
        if conv is not None:
            aggs["last_conv"] = ev.ts.max(where=_pred(ev, conv))
        wanted = [r for _, r in rules] + ([conv] if conv is not None else [])
        any_stage = ibis.or_(*[_pred(ev, r) for r in wanted])
        cur = ev.filter(any_stage).group_by("person_id").aggregate(**aggs)
        if conv is None:
            cur = cur.mutate(last_conv=ibis.null(ev.ts.type()))
        if persona_t is not None:
            cur = cur.left_join(persona_t, "person_id").select(*cur.columns, "pidx")
        else:
            cur = cur.mutate(pidx=ibis.null("int64"))
        cur = cur.left_join(known_t, "person_id").select(*cur.columns, "known")
        table = to_arrow(cur.select("person_id", "pidx", "known", "last_conv", *cols))

    ids = [p.id for p in journey_map.personas]
    n = table.num_rows if table is not None else 0
    pidx = table.column("pidx").to_pylist() if table is not None else []
    persona_of = [ids[int(i)] if i is not None else None for i in pidx]
    entries = {c: _micros(table.column(c)) for c in cols} if table is not None else {}
    last_conv = _micros(table.column("last_conv")) if table is not None else []
    anon = [k != 1 for k in table.column("known").to_pylist()] if table is not None else []

    channel_counts = _channels(journey_map, ev, persona_t, to_arrow, ids)
    surveys = _surveys(journey_map, ev, persona_t, to_arrow, ids)
    stage_ix = {f"t{k}": k for k, _ in rules}
    loyalty = _loyalty(journey_map, ws)
    out: list[StageMeasure] = []
    groups = [ALL, *ids]
    for g in groups:
        members = [i for i in range(n) if g == ALL or persona_of[i] == g]
        for k, stage in enumerate(journey_map.stages):
            key = f"t{k}"
            last_stage = k == len(journey_map.stages) - 1
            lo = loyalty.get(g, LoyaltyMeasure()) if loyalty is not None and last_stage else None
            if key not in entries:
                out.append(StageMeasure(stage.id, g, last=last_stage, loyalty=lo))
                continue
            later = [c for c in cols if stage_ix[c] > k]
            nxt = f"t{k + 1}" if f"t{k + 1}" in entries else None
            reached = progressed = converted = anonymous = 0
            went: Counter[str] = Counter()
            durations: list[int] = []
            for i in members:
                t = entries[key][i]
                if t is None:
                    continue
                reached += 1
                anonymous += anon[i]
                lc = last_conv[i] if last_conv else None
                if lc is not None and lc >= t:
                    converted += 1
                after_t = [(c, e) for c in later if (e := entries[c][i]) is not None and e >= t]
                after = [c for c, _ in after_t]
                t_next = entries[nxt][i] if nxt is not None else None
                if t_next is not None and t_next >= t:
                    progressed += 1
                elif t_next is not None:
                    went[f"({journey_map.stages[k + 1].id} earlier)"] += 1
                else:
                    went[journey_map.stages[stage_ix[after[0]]].id if after else "(left)"] += 1
                if after:
                    durations.append(min(e for _, e in after_t) - t)
            med, p90 = _quantiles(durations)
            sv = surveys.get((k, g), (None, None, 0))
            out.append(
                StageMeasure(
                    stage=stage.id,
                    persona=g,
                    persons=reached,
                    progressed=0 if last_stage else progressed,
                    dropped=0 if last_stage else reached - progressed,
                    went_instead=()
                    if last_stage
                    else tuple(sorted(went.items(), key=lambda x: (-x[1], x[0]))),
                    converted=converted,
                    median_seconds=med,
                    p90_seconds=p90,
                    channels=channel_counts.get((k, g), ()),
                    csat=sv[0],
                    nps=sv[1],
                    survey_answers=sv[2],
                    last=last_stage,
                    anonymous=anonymous,
                    loyalty=lo,
                )
            )
    return MapMeasurement(
        title=journey_map.title,
        engine=ws.engine,
        persons=n,
        unassigned=sum(p is None for p in persona_of),
        personas=tuple(ids),
        stages=tuple(out),
        touchpoints=_touchpoints(journey_map, ev, persona_t, to_arrow, ids),
    )


def _loyalty(jm: JourneyMap, ws: Workspace) -> dict[str, LoyaltyMeasure] | None:
    """The loyalty stage's numbers per persona (``"*"``: everyone); None without a
    conversion rule (see :class:`LoyaltyMeasure`)."""
    if jm.measurement.conversion is None or not jm.stages:
        return None
    from kundresa.loyalty._ambassadors import loyalty_counts

    value = _clv_per_persona(jm, ws)
    return {
        g: LoyaltyMeasure(
            c["buyers"], c["repeat_buyers"], c["ambassador_buyers"], *value.get(g, (None, None))
        )
        for g, c in loyalty_counts(ws, jm).items()
    }


def _clv_per_persona(
    jm: JourneyMap, ws: Workspace
) -> dict[str, tuple[dict[str, float] | None, float | None]]:
    """Per persona id (and ``"*"``): the P(alive) distribution and the mean CLV of
    :func:`kundresa.loyalty.clv` on the map's conversion event; empty when the rule is not
    one event name or the models cannot be fitted (no repeat buyers, ...)."""
    import warnings

    import numpy as np

    from kundresa._errors import KundresaError
    from kundresa.loyalty import clv

    rule = jm.measurement.conversion
    if rule is None or len(rule.events) != 1 or rule.channels or rule.touchpoints or rule.where:
        return {}
    try:
        with warnings.catch_warnings():  # a boundary fit is reported by ``clv`` itself
            warnings.simplefilter("ignore")
            frame = clv(ws, rule.events[0], journey_map=jm).to_frame()
    except KundresaError:
        return {}
    out: dict[str, tuple[dict[str, float] | None, float | None]] = {}
    groups = [(ALL, frame), *frame.groupby("group", sort=True)] if "group" in frame else []
    for g, sub in groups:
        alive = sub["p_alive"].to_numpy(dtype=float)
        alive = alive[np.isfinite(alive)]
        value = sub["clv"].to_numpy(dtype=float)
        value = value[np.isfinite(value)]
        dist = None
        if alive.size:
            q1, med, q3 = (float(v) for v in np.quantile(alive, [0.25, 0.5, 0.75]))
            dist = {"mean": float(alive.mean()), "q1": q1, "median": med, "q3": q3}
        out[str(g)] = (dist, float(value.mean()) if value.size else None)
    return out


def _with_persona(t: Any, persona_t: Any) -> Any:
    import ibis

    if persona_t is None:
        return t.mutate(pidx=ibis.null("int64"))
    return t.left_join(persona_t, "person_id").select(*t.columns, "pidx")


def _channels(
    jm: JourneyMap, ev: Any, persona_t: Any, to_arrow: Any, ids: list[str]
) -> dict[tuple[int, str], tuple[tuple[str, int], ...]]:
    """Persons per channel among each stage's events, per persona and overall."""
    import ibis

    parts = [
        ev.filter(_pred(ev, s.match)).select("person_id", "channel", k=ibis.literal(k))
        for k, s in enumerate(jm.stages)
        if s.match is not None
    ]
    if not parts:
        return {}
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    u = _with_persona(u.distinct(), persona_t)
    agg = u.group_by("k", "channel", "pidx").aggregate(n=u.count())
    counts: Counter[tuple[int, str, str]] = Counter()
    for r in to_arrow(agg).to_pylist():
        ch = str(r["channel"] or "(none)")
        counts[(int(r["k"]), ALL, ch)] += int(r["n"])
        if r["pidx"] is not None:
            counts[(int(r["k"]), ids[int(r["pidx"])], ch)] += int(r["n"])
    out: dict[tuple[int, str], list[tuple[str, int]]] = {}
    for (k, g, ch), v in counts.items():
        out.setdefault((k, g), []).append((ch, v))
    return {key: tuple(sorted(v, key=lambda x: (-x[1], x[0]))) for key, v in out.items()}


def _touchpoints(
    jm: JourneyMap, ev: Any, persona_t: Any, to_arrow: Any, ids: list[str]
) -> tuple[TouchpointMeasure, ...]:
    import ibis

    keys: list[tuple[str, str, str, Rule]] = []
    seen: set[tuple[str, str]] = set()
    for s in jm.stages:
        for _, cell in s.cells:
            for tp in cell.touchpoints:
                if tp.match is not None and (s.id, tp.name) not in seen:
                    seen.add((s.id, tp.name))
                    keys.append((s.id, tp.name, tp.channel, tp.match))
    if not keys:
        return ()
    parts = [
        ev.filter(_pred(ev, rule)).select("person_id", j=ibis.literal(j))
        for j, (_, _, _, rule) in enumerate(keys)
    ]
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    u = _with_persona(u.distinct(), persona_t)
    agg = u.group_by("j", "pidx").aggregate(n=u.count())
    counts: Counter[tuple[int, str]] = Counter()
    for r in to_arrow(agg).to_pylist():
        counts[(int(r["j"]), ALL)] += int(r["n"])
        if r["pidx"] is not None:
            counts[(int(r["j"]), ids[int(r["pidx"])])] += int(r["n"])
    out = []
    for j, (sid, name, channel, _) in enumerate(keys):
        for g in (ALL, *ids):
            out.append(TouchpointMeasure(sid, name, channel, g, counts.get((j, g), 0)))
    return tuple(out)


def _surveys(
    jm: JourneyMap, ev: Any, persona_t: Any, to_arrow: Any, ids: list[str]
) -> dict[tuple[int, str], tuple[float | None, float | None, int]]:
    """Mean CSAT and NPS score (promoters - detractors) of survey answers, on the stage whose
    rule names the survey event (else the last stage)."""
    survey = jm.measurement.survey
    if survey is None:
        return {}
    se = _with_persona(
        ev.filter(_pred(ev, survey.match)).select("person_id", "properties"), persona_t
    )
    rows = to_arrow(se.select("pidx", "properties")).to_pylist()
    k = len(jm.stages) - 1
    for i, s in enumerate(jm.stages):
        if s.match is not None and set(survey.match.events) & set(s.match.events):
            k = i
    acc: dict[str, tuple[list[float], list[float]]] = {g: ([], []) for g in (ALL, *ids)}
    for r in rows:
        try:
            props = json.loads(r["properties"] or "{}")
        except ValueError:
            continue
        groups = [ALL] + ([ids[int(r["pidx"])]] if r["pidx"] is not None else [])
        for g in groups:
            if isinstance(props.get(survey.csat), int | float):
                acc[g][0].append(float(props[survey.csat]))
            if isinstance(props.get(survey.nps), int | float):
                acc[g][1].append(float(props[survey.nps]))
    out: dict[tuple[int, str], tuple[float | None, float | None, int]] = {}
    for g, (cs, ns) in acc.items():
        csat = round(sum(cs) / len(cs), 3) if cs else None
        nps = (
            round(100 * (sum(x >= 9 for x in ns) - sum(x <= 6 for x in ns)) / len(ns), 1)
            if ns
            else None
        )
        out[(k, g)] = (csat, nps, max(len(cs), len(ns)))
    return out


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
