"""Ambassadors: persons who recommend, computed in the engine (DuckDB or Spark via Ibis).

A person is an *ambassador* when they sent a referral (``referral_event``, default
``Referral Sent``), wrote a review (``review_event``, ``Review Written``) or is an NPS
*promoter*: their latest answer to ``survey_event`` (``Survey Answered``) carries
``properties.<nps_property>`` (0..10) of at least ``promoter_min`` (9). The NPS score is
% promoters - % detractors (answers of at most ``detractor_max``, 6) among the persons who
answered, with a normal-approximation confidence interval: the score is the mean of +1
(promoter), 0, -1 (detractor) per respondent, its standard error ``sqrt((p + d - (p - d)^2)
/ n)``. Buyers bought ``purchase_event`` at least once, repeat buyers on at least two
(distinct, with ``distinct_days``) days.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError
from kundresa._results import Result
from kundresa.loyalty._repeat_engine import UNASSIGNED, load_map, persona_labels, share

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["AmbassadorResult", "ambassadors", "loyalty_counts"]

ALL = "*"
_COUNTS = (
    "persons",
    "ambassadors",
    "referrers",
    "reviewers",
    "promoters",
    "detractors",
    "respondents",
    "buyers",
    "repeat_buyers",
    "ambassador_buyers",
    "ambassador_repeat",
)


def _nps_value(t: Any, key: str) -> Any:
    from kundresa.loyalty._repeat_engine import _esc

    raw = t.properties.re_extract(rf'"{_esc(key)}"\s*:\s*"?(-?[0-9]+(\.[0-9]+)?)', 1)
    return raw.nullif("").cast("float64")


def person_signals(
    ws: Workspace,
    *,
    is_purchase: Callable[[Any], Any],
    is_survey: Callable[[Any], Any],
    referral_event: str,
    review_event: str,
    nps_property: str,
    promoter_min: float,
    detractor_max: float,
    distinct_days: bool,
) -> Any:
    """One row per person (every stitched person with an event): 0/1 flags ``amb, ref,
    rev, pro, det, resp, buyer, repeat``."""
    import ibis

    ev = ws.events(touchpoints_only=False)
    ev = ev.filter(ev.person_id.notnull())
    buy = is_purchase(ev)
    bought = ev.ts.truncate("D").nunique(where=buy) if distinct_days else ev.count(where=buy)
    per = ev.group_by("person_id").aggregate(
        refs=ev.count(where=ev.event == referral_event),
        revs=ev.count(where=ev.event == review_event),
        bought=bought,
    )
    sv = ev.filter(is_survey(ev)).mutate(nps=_nps_value(ev, nps_property))
    sv = sv.filter(sv.nps.notnull() & sv.nps.between(0, 10))
    w = ibis.window(group_by="person_id", order_by=[sv.ts.desc(), sv.event_id.desc()])
    sv = sv.mutate(rn=ibis.row_number().over(w))
    latest = sv.filter(sv.rn == 0).select("person_id", "nps")
    per = per.left_join(latest, "person_id").select(*per.columns, "nps")

    def flag(cond: Any) -> Any:
        return cond.fill_null(False).cast("int64")

    pro = flag(per.nps >= promoter_min)
    return per.select(
        "person_id",
        ref=flag(per.refs > 0),
        rev=flag(per.revs > 0),
        pro=pro,
        det=flag(per.nps <= detractor_max),
        resp=flag(per.nps.notnull()),
        amb=flag((per.refs > 0) | (per.revs > 0) | (per.nps >= promoter_min)),
        buyer=flag(per.bought >= 1),
        repeat=flag(per.bought >= 2),
    )


def _aggregate(fetch: Any, sig: Any, labels: Any) -> dict[str, dict[str, int]]:
    """The counts of :data:`_COUNTS` per ``grp`` of ``labels`` (``person_id, grp``)."""
    t = sig.join(labels, "person_id").select(*sig.columns, "grp")
    agg = t.group_by("grp").aggregate(
        persons=t.count(),
        ambassadors=t.amb.sum(),
        referrers=t.ref.sum(),
        reviewers=t.rev.sum(),
        promoters=t.pro.sum(),
        detractors=t.det.sum(),
        respondents=t.resp.sum(),
        buyers=t.buyer.sum(),
        repeat_buyers=t.repeat.sum(),
        ambassador_buyers=(t.amb * t.buyer).sum(),
        ambassador_repeat=(t.amb * t.repeat).sum(),
    )
    return {r["grp"]: {k: int(r[k] or 0) for k in _COUNTS} for r in fetch(agg).to_pylist()}


def _row(group: str, c: Mapping[str, int], z: float) -> dict[str, Any]:
    n, p, d = c["respondents"], c["promoters"], c["detractors"]
    nps = low = high = None
    if n:
        pp, pd_ = p / n, d / n
        nps = 100 * (pp - pd_)
        se = 100 * max(pp + pd_ - (pp - pd_) ** 2, 0.0) ** 0.5 / n**0.5
        low, high = round(max(-100.0, nps - z * se), 3), round(min(100.0, nps + z * se), 3)
        nps = round(nps, 3)
    return {
        "group": group,
        **c,
        "share": share(c["ambassadors"], c["persons"]),
        "share_of_buyers": share(c["ambassador_buyers"], c["buyers"]),
        "share_of_repeat_buyers": share(c["ambassador_repeat"], c["repeat_buyers"]),
        "nps": nps,
        "nps_low": low,
        "nps_high": high,
    }


@dataclass(frozen=True)
class AmbassadorResult(Result):
    """Ambassadors overall (``overall``), per persona (``personas``, with a map) and per
    map stage (``stages``: among the persons who entered the stage). Each row: ``group``,
    the counts ``persons, ambassadors, referrers, reviewers, promoters, detractors,
    respondents, buyers, repeat_buyers, ambassador_buyers, ambassador_repeat``, the shares
    ``share`` (of persons), ``share_of_buyers``, ``share_of_repeat_buyers`` and the NPS score
    ``nps`` with its interval ``nps_low``..``nps_high`` (``confidence``).

    >>> AmbassadorResult(overall={"share": 0.25}).share
    0.25
    """

    overall: Mapping[str, Any] = field(default_factory=dict)
    personas: tuple[Mapping[str, Any], ...] = ()
    stages: tuple[Mapping[str, Any], ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = field(default=0.0, compare=False)
    engine: str = field(default="", compare=False)

    @property
    def share(self) -> float | None:
        """Share of persons who are ambassadors."""
        value = self.overall.get("share")
        return None if value is None else float(value)

    def to_frame(self, table: str | None = None) -> Any:
        """``personas``, ``stages`` or ``overall`` as a pandas DataFrame; by default
        ``personas`` when the run had a map, else the one ``overall`` row.

        >>> AmbassadorResult().to_frame("stages").empty
        True
        >>> list(AmbassadorResult(overall={"group": "*", "share": 0.25}).to_frame().columns)
        ['group', 'share']
        """
        import pandas as pd

        tables = {"personas": self.personas, "stages": self.stages, "overall": (self.overall,)}
        if table is None:
            table = "personas" if self.personas else "overall"
        if table not in tables:
            raise InvalidOptionError("table", table, allowed=tuple(tables))
        return pd.DataFrame([dict(r) for r in tables[table] if r])

    def plot(self) -> Any:
        """Bars of the ambassador share per persona (overall without a map)."""
        import plotly.graph_objects as go

        rows = list(self.personas) or ([self.overall] if self.overall else [])
        fig = go.Figure()
        fig.add_bar(name="ambassadors", x=[r["group"] for r in rows], y=[r["share"] for r in rows])
        fig.add_bar(
            name="of buyers", x=[r["group"] for r in rows], y=[r["share_of_buyers"] for r in rows]
        )
        fig.add_bar(
            name="of repeat buyers",
            x=[r["group"] for r in rows],
            y=[r["share_of_repeat_buyers"] for r in rows],
        )
        fig.update_layout(title="Ambassadors", barmode="group", yaxis_tickformat=".0%")
        return fig

    def __str__(self) -> str:
        def pct(x: Any) -> str:
            return "-" if x is None else f"{100 * x:.1f}%"

        o = self.overall
        if not o:
            return "no persons"
        nps = (
            "-" if o["nps"] is None else f"{o['nps']:.1f} [{o['nps_low']:.1f}, {o['nps_high']:.1f}]"
        )
        lines = [
            f"ambassadors: {o['ambassadors']:,} of {o['persons']:,} persons ({pct(o['share'])}); "
            f"referrers {o['referrers']:,}, reviewers {o['reviewers']:,}, promoters "
            f"{o['promoters']:,} of {o['respondents']:,} respondents, NPS {nps}",
            f"among buyers {pct(o['share_of_buyers'])}, among repeat buyers "
            f"{pct(o['share_of_repeat_buyers'])}",
        ]
        for name, rows in (("persona", self.personas), ("stage", self.stages)):
            if rows:
                lines += ["", f"{name:<22}{'persons':>9}{'share':>8}{'buyers':>8}{'repeat':>8}"
                          f"{'NPS':>7}"]  # fmt: skip
                for r in rows:
                    n = "-" if r["nps"] is None else f"{r['nps']:.0f}"
                    lines.append(
                        f"{str(r['group'])[:21]:<22}{r['persons']:>9,}{pct(r['share']):>8}"
                        f"{pct(r['share_of_buyers']):>8}{pct(r['share_of_repeat_buyers']):>8}"
                        f"{n:>7}"
                    )
        return "\n".join(lines)


def ambassadors(
    ws: Workspace,
    *,
    referral_event: str = "Referral Sent",
    review_event: str = "Review Written",
    survey_event: str = "Survey Answered",
    nps_property: str = "nps",
    promoter_min: int = 9,
    detractor_max: int = 6,
    purchase_event: str = "Order Completed",
    distinct_days: bool = True,
    confidence: float = 0.95,
    journey_map: Any = None,
) -> AmbassadorResult:
    """Persons who recommend (see the module notes for the definitions).

    ``journey_map`` adds the rows per persona (the map's persona rules, as
    :func:`~kundresa.maps.measure_map` assigns them; persons of no persona are
    ``(unassigned)``) and per stage (the persons who entered the stage by its rule).

    >>> import datetime as dt, tempfile, pathlib
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from kundresa import Workspace
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> rows = [("a", "Referral Sent", None), ("b", "Survey Answered", '{"nps": 10}'),
    ...         ("c", "Survey Answered", '{"nps": 3}'), ("d", "Page Viewed", None)]
    >>> pq.write_table(pa.Table.from_pylist([{"event_id": f"e{i}", "user_id": u,
    ...     "ts": dt.datetime(2026, 1, 5), "type": "track", "event": e, "properties": p}
    ...     for i, (u, e, p) in enumerate(rows)]), folder / "events.parquet")
    >>> ws = Workspace.open(folder / "shop.duckdb")
    >>> _ = ws.ingest([folder / "events.parquet"])
    >>> r = ambassadors(ws)
    >>> r.overall["ambassadors"], r.share, r.overall["nps"]
    (2, 0.5, 0.0)
    """
    started = time.perf_counter()
    if not 0 <= detractor_max < promoter_min <= 10:
        raise InvalidOptionError(
            "promoter_min", promoter_min, fix="give 0 <= detractor_max < promoter_min <= 10"
        )
    if not 0.5 <= confidence < 1:
        raise InvalidOptionError("confidence", confidence, fix="give a level from 0.5 to 0.999")
    jm = load_map(journey_map)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    sig = person_signals(
        ws,
        is_purchase=lambda t: t.event == purchase_event,
        is_survey=lambda t: t.event == survey_event,
        referral_event=referral_event,
        review_event=review_event,
        nps_property=nps_property,
        promoter_min=promoter_min,
        detractor_max=detractor_max,
        distinct_days=distinct_days,
    )
    import ibis

    fetch = ws.store.fetch
    everyone = sig.select("person_id", grp=ibis.literal(ALL))
    overall = _aggregate(fetch, sig, everyone).get(ALL)
    personas: list[dict[str, Any]] = []
    stages: list[dict[str, Any]] = []
    if jm is not None:
        labels, ids = persona_labels(ws, jm)
        if labels is not None:
            lab = sig.select("person_id").left_join(labels, "person_id")
            lab = lab.select("person_id", grp=lab.grp.fill_null(UNASSIGNED))
            got = _aggregate(fetch, sig, lab)
            personas = [_row(g, got[g], z) for g in (*ids, UNASSIGNED) if g in got]
        from kundresa.maps._measure import stage_entry_table

        entries = stage_entry_table(jm, ws.events(touchpoints_only=False))
        if entries is not None:
            parts = [
                entries.filter(entries[f"t{k}"].notnull()).select(
                    "person_id", grp=ibis.literal(s.id)
                )
                for k, s in enumerate(jm.stages)
                if f"t{k}" in entries.columns
            ]
            u = parts[0]
            for part in parts[1:]:
                u = u.union(part)
            got = _aggregate(fetch, sig, u)
            stages = [_row(s.id, got[s.id], z) for s in jm.stages if s.id in got]
    return AmbassadorResult(
        overall=_row(ALL, overall, z) if overall else {},
        personas=tuple(personas),
        stages=tuple(stages),
        settings={
            "referral_event": referral_event,
            "review_event": review_event,
            "survey_event": survey_event,
            "nps_property": nps_property,
            "promoter_min": promoter_min,
            "detractor_max": detractor_max,
            "purchase_event": purchase_event,
            "distinct_days": distinct_days,
            "confidence": confidence,
            "map": None if jm is None else jm.title,
        },
        seconds=round(time.perf_counter() - started, 3),
        engine=ws.engine,
    )


def loyalty_counts(ws: Workspace, journey_map: Any) -> dict[str, dict[str, int]]:
    """Per persona id (and ``"*"``: everyone) of ``journey_map``: ``buyers``,
    ``repeat_buyers`` (on two or more distinct days), ``ambassadors`` and
    ``ambassador_buyers``, where a purchase is the map's conversion rule and NPS answers its
    survey rule (else ``Survey Answered`` / ``nps``); referrals and reviews are the default
    ``Referral Sent`` / ``Review Written``. Empty without a conversion rule. Used by
    :func:`~kundresa.maps.measure_map` for the loyalty stage."""
    import ibis

    from kundresa.maps._measure import _pred

    conv = journey_map.measurement.conversion
    if conv is None:
        return {}
    survey = journey_map.measurement.survey
    sig = person_signals(
        ws,
        is_purchase=lambda t: _pred(t, conv),
        is_survey=(lambda t: _pred(t, survey.match))
        if survey is not None
        else (lambda t: t.event == "Survey Answered"),
        referral_event="Referral Sent",
        review_event="Review Written",
        nps_property=survey.nps if survey is not None else "nps",
        promoter_min=9,
        detractor_max=6,
        distinct_days=True,
    )
    fetch = ws.store.fetch
    out = _aggregate(fetch, sig, sig.select("person_id", grp=ibis.literal(ALL)))
    labels, _ = persona_labels(ws, journey_map)
    if labels is not None:
        out.update(_aggregate(fetch, sig, labels))
    return out


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
