"""Planned vs actual (analysis 7, ``kundresa map conformance``): how each person's real
journey deviates from a ``future`` (or ``current``) map with measurement rules.

An event belongs to the first stage (in map order) whose ``match`` rule it satisfies; it is
*planned* when it matches a stage rule or any touchpoint rule of the map. Per person, with
stage entry = the first event of the stage (as in ``kundresa map measure``):

* **skipped**: a stage before the furthest stage the person reached that they never entered;
* **out of order**: the fewest entered stages whose removal leaves the others in planned
  order (a longest increasing subsequence of the entry order; among equals the one keeping
  the earlier planned stages), e.g. plan A B C, actual B A C: B came out of order;
* **loop**: a stage entered again after the person had moved on to another stage (A B A);
* **unplanned touchpoints**: touchpoint events (track/page/screen) matching no rule of the
  map, counted in the stage the person was in (before the first stage: the first stage).

A person *conforms* with no skipped, out-of-order or looped stage (unplanned touchpoints are
reported beside it). Per stage and persona: ``expected`` = persons whose furthest stage is
this one or later; ``as_planned`` = of those, entered in order and without a loop;
``conformance = as_planned / expected``. Personas are assigned by the map's ``select`` rules
(first match in map order), as in the map measurement. The engine returns the matched rows
ordered by ``(person_id, ts, event_id)``; the rest is numpy and Python, so DuckDB and Spark
agree exactly.

>>> _lis_keep([1, 0, 2])  # plan indices in entry order: stage 1 entered before stage 0
[False, True, True]
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kundresa._errors import InvalidOptionError
from kundresa._results import Result
from kundresa._util import renamed
from kundresa.maps._model import JourneyMap

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["ALL", "Conformance", "PersonConformance", "StageConformance", "conformance"]

ALL = "*"
_TOUCH_TYPES = ("track", "page", "screen")


def _share(a: int, b: int) -> float | None:
    return round(a / b, 6) if b else None


@dataclass(frozen=True)
class StageConformance:
    """Planned vs actual for one stage and one persona (``"*"``: everyone)."""

    stage: str
    persona: str
    expected: int = 0
    reached: int = 0
    skipped: int = 0
    out_of_order: int = 0
    looped: int = 0
    as_planned: int = 0
    unplanned_events: int = 0
    unplanned_persons: int = 0
    top_unplanned: tuple[tuple[str, int], ...] = ()

    @property
    def conformance(self) -> float | None:
        """Share of the expected persons who went through the stage as planned."""
        return _share(self.as_planned, self.expected)


@dataclass(frozen=True)
class PersonConformance:
    """One person's deviations from the plan (stage ids)."""

    person_id: str
    persona: str | None
    reached: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    out_of_order: tuple[str, ...] = ()
    loops: tuple[str, ...] = ()
    unplanned: int = 0

    @property
    def conformant(self) -> bool:
        """No skipped, out-of-order or looped stage."""
        return not (self.skipped or self.out_of_order or self.loops)


@dataclass(frozen=True)
class Conformance(Result):
    """Planned vs actual for a whole map: per stage x persona and per person.

    >>> c = Conformance("T", "duckdb", 0, 0, (), (StageConformance("buy", "*", 4, 4, 0, 1, 0, 3),))
    >>> c.stage("buy").conformance
    0.75
    """

    _renamed = {"people": "by_person"}  # noqa: RUF012 (old spelling, one release)

    title: str
    #: run metadata: never compared nor hashed
    engine: str = field(compare=False)
    persons: int
    conformant: int
    personas: tuple[str, ...]
    stages: tuple[StageConformance, ...]
    by_person: tuple[PersonConformance, ...] = field(default=(), repr=False)

    @property
    def rate(self) -> float | None:
        """Share of persons whose journey conforms."""
        return _share(self.conformant, self.persons)

    def stage(self, stage_id: str, persona: str = ALL) -> StageConformance | None:
        """The numbers of one stage for one persona (``"*"``: everyone), or None."""
        for s in self.stages:
            if s.stage == stage_id and s.persona == persona:
                return s
        return None

    def person(self, person_id: str) -> PersonConformance | None:
        """One person's deviations, or None when the person entered no stage."""
        for p in self.by_person:
            if p.person_id == person_id:
                return p
        return None

    def lines(self, stage_id: str, persona: str = ALL) -> list[str]:
        """Short text lines for the rendered map (beside the stage's measured numbers)."""
        s = self.stage(stage_id, persona)
        if s is None or not s.expected:
            return ["–"]
        pct = f"{100 * s.conformance:.0f}%" if s.conformance is not None else "–"
        out = [f"✓ {pct} as planned ({s.as_planned:,}/{s.expected:,})"]
        for name, value in (("skipped", s.skipped), ("out of order", s.out_of_order),
                            ("looped", s.looped)):  # fmt: skip
            if value:
                out.append(f"{name}: {value:,}")
        if s.unplanned_events:
            top = ", ".join(k for k, _ in s.top_unplanned[:2])
            out.append(f"unplanned: {s.unplanned_events:,} ({top})")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the derived conformance of every stage and person."""
        out = super().to_dict()
        out["rate"] = self.rate
        for row, s in zip(out["stages"], self.stages, strict=True):
            row["conformance"] = s.conformance
        for row, p in zip(out["by_person"], self.by_person, strict=True):
            row["conformant"] = p.conformant
        return out

    def to_frame(self, level: str = "stages") -> Any:
        """One row per stage x persona (``level="stages"``) or per person (``"persons"``)."""
        import pandas as pd

        if level not in ("stages", "persons"):
            raise InvalidOptionError("level", level, allowed=("stages", "persons"))
        d = self.to_dict()
        rows = d["stages"] if level == "stages" else d["by_person"]
        for r in rows:
            for k, v in r.items():
                if isinstance(v, list):
                    r[k] = ", ".join(f"{x[0]} {x[1]}" if isinstance(x, list) else str(x)
                                     for x in v)  # fmt: skip
        return pd.DataFrame(rows)

    def plot(self, persona: str = ALL) -> Any:
        """Stacked bars per stage: as planned, out of order, looped, skipped (persons)."""
        import plotly.graph_objects as go

        rows = [s for s in self.stages if s.persona == persona]
        x = [s.stage for s in rows]
        fig = go.Figure()
        for name, key in (("as planned", "as_planned"), ("out of order", "out_of_order"),
                          ("looped", "looped"), ("skipped", "skipped")):  # fmt: skip
            fig.add_trace(go.Bar(x=x, y=[getattr(s, key) for s in rows], name=name))
        fig.update_layout(barmode="stack", yaxis_title="persons",
                          title=f"Planned vs actual: {self.title} (persona {persona})")  # fmt: skip
        return fig

    def __str__(self) -> str:
        def pct(v: float | None) -> str:
            return "-" if v is None else f"{100 * v:5.1f}%"

        lines = [f"{self.title}: {self.conformant:,} of {self.persons:,} persons conform "
                 f"({pct(self.rate).strip()}, {self.engine})"]  # fmt: skip
        lines.append(f"{'stage':<20}{'persona':<15}{'expected':>9}{'planned':>9}{'skipped':>9}"
                     f"{'order':>7}{'loops':>7}{'unplanned':>10}")  # fmt: skip
        for s in self.stages:
            lines.append(f"{s.stage[:19]:<20}{s.persona[:14]:<15}{s.expected:>9,}"
                         f"{pct(s.conformance):>9}{s.skipped:>9,}{s.out_of_order:>7,}"
                         f"{s.looped:>7,}{s.unplanned_events:>10,}")  # fmt: skip
        return "\n".join(lines)


def _lis_keep(seq: list[int]) -> list[bool]:
    """Mark a longest strictly increasing subsequence of ``seq`` (the lexicographically
    smallest by value among the longest): True = kept (in order)."""
    n = len(seq)
    best = [1] * n  # longest increasing subsequence starting at i
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            if seq[j] > seq[i] and best[j] + 1 > best[i]:
                best[i] = best[j] + 1
    keep = [False] * n
    need, last, start = max(best, default=0), -1, 0
    while need:
        cand = [i for i in range(start, n) if best[i] == need and seq[i] > last]
        i = min(cand, key=lambda k: (seq[k], k))
        keep[i] = True
        need, last, start = need - 1, seq[i], i + 1
    return keep


@renamed(workspace="ws")
def conformance(
    ws: Workspace, journey_map: JourneyMap | str | Path, *, ignore: tuple[str, ...] = ()
) -> Conformance:
    """Planned vs actual for every person (see the module doc for the definitions).

    ``ignore``: event names never counted as unplanned touchpoints.

    >>> from kundresa import Workspace
    >>> from kundresa.maps import new_map
    >>> conformance(Workspace.open(None), new_map("shop", type="future")).persons
    0
    """
    import ibis

    from kundresa.maps._measure import _pred
    from kundresa.maps._validate import load_map

    jm = journey_map if isinstance(journey_map, JourneyMap) else load_map(journey_map)
    if jm.type == "day_in_the_life":
        raise InvalidOptionError("type", jm.type, allowed=("future", "current"),
                                 fix="planned vs actual needs a future or current map")  # fmt: skip
    rules = [(k, s.match) for k, s in enumerate(jm.stages) if s.match is not None]
    if not rules:
        fix = "give the stages match rules, e.g. match: {events: [...]}"
        raise InvalidOptionError("stages", "(no match rules)", fix=fix)
    tp_rules = [tp.match for s in jm.stages for _, c in s.cells for tp in c.touchpoints
                if tp.match is not None]  # fmt: skip
    ev = ws.events(touchpoints_only=False)
    stage_expr = ibis.cases(*[(_pred(ev, r), k) for k, r in rules], else_=-1)
    planned = ibis.or_(*[_pred(ev, r) for r in [r for _, r in rules] + tp_rules])
    touch = ev.type.isin(list(_TOUCH_TYPES))
    cur = ev.filter(ev.person_id.notnull()).mutate(k=stage_expr, planned=planned, touch=touch)
    cur = cur.filter((cur.k >= 0) | (cur.touch & ~cur.planned))
    if ignore:
        cur = cur.filter((cur.k >= 0) | ~cur.event.isin(list(ignore)))
    expr = cur.select("person_id", "ts", "event_id", "event", "k").order_by(
        ["person_id", "ts", "event_id"]
    )
    table = ws.store.fetch(expr)
    persona_of = _persona_of(jm, ev, ws)

    pid = table.column("person_id").to_pylist()
    ks = table.column("k").to_numpy(zero_copy_only=False).astype(np.int64)
    names = table.column("event").to_pylist()
    ids = [s.id for s in jm.stages]
    nst = len(ids)
    people: list[PersonConformance] = []
    # per (group, stage): counters
    groups = [ALL, *[p.id for p in jm.personas]]
    acc = {(g, k): Counter[str]() for g in groups for k in range(nst)}
    unpl = {(g, k): Counter[str]() for g in groups for k in range(nst)}
    i, n = 0, len(pid)
    while i < n:
        j = i
        while j < n and pid[j] == pid[i]:
            j += 1
        rows = ks[i:j]
        if (rows >= 0).any():
            p = _person(str(pid[i]), persona_of.get(str(pid[i])), rows, names[i:j], ids)
            people.append(p[0])
            for g in (ALL, p[0].persona) if p[0].persona else (ALL,):
                for k in range(nst):
                    for key, val in p[1][k].items():
                        acc[(g, k)][key] += val
                    unpl[(g, k)].update(p[2][k])
        i = j
    stages = []
    for g in groups:
        for k, sid in enumerate(ids):
            a = acc[(g, k)]
            u = unpl[(g, k)]
            stages.append(
                StageConformance(
                    stage=sid,
                    persona=g,
                    expected=a["expected"],
                    reached=a["reached"],
                    skipped=a["skipped"],
                    out_of_order=a["out_of_order"],
                    looped=a["looped"],
                    as_planned=a["as_planned"],
                    unplanned_events=sum(u.values()),
                    unplanned_persons=a["unplanned_persons"],
                    top_unplanned=tuple(sorted(u.items(), key=lambda x: (-x[1], x[0]))[:5]),
                )
            )
    return Conformance(
        title=jm.title or jm.goal,
        engine=ws.engine,
        persons=len(people),
        conformant=sum(p.conformant for p in people),
        personas=tuple(p.id for p in jm.personas),
        stages=tuple(stages),
        by_person=tuple(people),
    )


def _person(
    person_id: str, persona: str | None, ks: Any, names: list[Any], ids: list[str]
) -> tuple[PersonConformance, list[Counter[str]], list[Counter[str]]]:
    nst = len(ids)
    entry: dict[int, int] = {}
    visits: Counter[int] = Counter()
    prev = -1
    unplanned: list[Counter[str]] = [Counter() for _ in range(nst)]
    for r, k in enumerate(ks.tolist()):
        if k < 0:
            unplanned[max(prev, 0)][str(names[r])] += 1
            continue
        entry.setdefault(k, r)
        if k != prev:
            visits[k] += 1
        prev = k
    order = sorted(entry, key=lambda k: entry[k])
    keep = _lis_keep(order)
    early = {k for k, ok in zip(order, keep, strict=True) if not ok}
    furthest = max(entry)
    skipped = [k for k in range(furthest) if k not in entry]
    loops = sorted(k for k, v in visits.items() if v > 1)
    stats: list[Counter[str]] = [Counter() for _ in range(nst)]
    for k in range(nst):
        c = stats[k]
        if k <= furthest:
            c["expected"] += 1
            if k in entry:
                c["reached"] += 1
                c["out_of_order"] += k in early
                c["looped"] += k in loops
                c["as_planned"] += k not in early and k not in loops
            else:
                c["skipped"] += 1
        c["unplanned_persons"] += bool(unplanned[k])
    person = PersonConformance(
        person_id=person_id,
        persona=persona,
        reached=tuple(ids[k] for k in sorted(entry)),
        skipped=tuple(ids[k] for k in skipped),
        out_of_order=tuple(ids[k] for k in sorted(early)),
        loops=tuple(ids[k] for k in loops),
        unplanned=sum(sum(c.values()) for c in unplanned),
    )
    return person, stats, unplanned


def _persona_of(jm: JourneyMap, ev: Any, workspace: Any) -> dict[str, str]:
    """Person -> persona id: the first persona (map order) whose select rule matches."""
    import ibis

    from kundresa.maps._measure import _pred

    parts = [
        ev.filter(_pred(ev, p.select)).select("person_id", pidx=ibis.literal(i))
        for i, p in enumerate(jm.personas)
        if p.select is not None
    ]
    if not parts:
        return {}
    u = parts[0]
    for part in parts[1:]:
        u = u.union(part)
    agg = u.group_by("person_id").aggregate(pidx=u.pidx.min())
    return {
        str(r["person_id"]): jm.personas[int(r["pidx"])].id
        for r in workspace.store.fetch(agg).to_pylist()
        if r["person_id"] is not None
    }
