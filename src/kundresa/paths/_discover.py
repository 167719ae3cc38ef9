"""Discover a draft journey map from the dominant paths (analysis 6, ``kundresa map discover``).

The proposal is a *starting point* for a person to edit: a ``current`` map (format version 2,
valid under ``kundresa map validate``) whose stages, touchpoints, channels and measurement
rules come from what persons actually do.

* **Whose paths**: with ``conversion``, converting persons up to their first conversion
  (the dominant paths to conversion); otherwise every person's whole journey.
* **Which events**: every event label reached by at least ``min_share`` of persons (at most
  ``max_events``, the most reached first; the ``conversion`` event is always kept).
* **Their order**: per person the order of *first* occurrences of the labels, normalised to
  0..1 (first = 0, last = 1); a label's position is its mean over the persons who reach it.
* **Stages**: the ordered labels are cut into ``stages`` consecutive groups at the largest
  gaps between positions; a stage is named after its most reached event, and its
  measurement rule (``match``) lists the group's events.
* **Touchpoints and channels**: per event, every channel carrying at least 10 % of its events
  (at least the most common one) becomes a touchpoint with a rule ``{events, channels}``.
* **Personas**: with ``persona_property`` (e.g. ``segment`` on ``Identify``), each value
  becomes a persona with a ``select`` rule; otherwise two placeholder personas to edit.
* Every cell's notes carry the evidence (share of persons reaching the stage) and the
  result lists the dominant paths (person unit, repeats collapsed).

>>> import tempfile, pathlib
>>> from kundresa import Workspace
>>> from kundresa.paths._analysis import _demo_log
>>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "d.duckdb")
>>> rows = [(p, s, e) for p in "abcd" for s, e in ((0, "Home"), (60, "Product Viewed"),
...         (120, "Product Added"), (180, "Order Completed"))]
>>> _ = ws.ingest([_demo_log(rows, pathlib.Path(tempfile.mkdtemp()))])
>>> d = discover_map(ws, stages=3, conversion="Order Completed")
>>> [s.match.events for s in d.map.stages]
[('Home',), ('Product Viewed', 'Product Added'), ('Order Completed',)]
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kundresa._errors import InvalidOptionError, NotFoundError
from kundresa._results import Result, jsonable
from kundresa.maps._model import LANGUAGES, MAP_TYPES, JourneyMap
from kundresa.paths import _kernel as kn
from kundresa.paths._index import PathRules

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["DiscoveredMap", "discover_map"]

_MIN_CHANNEL_SHARE = 0.10
_GOAL = {
    "en": "Draft discovered from the data: write why this map exists",
    "sv": "Utkast upptäckt ur data: skriv varför kartan finns",
    "nb": "Utkast oppdaget fra data: skriv hvorfor kartet finnes",
}
_OWNER = {"en": "Edit: owner", "sv": "Ändra: ägare", "nb": "Endre: eier"}
_REACH = {"en": "of persons reach this stage", "sv": "av personerna når steget",
          "nb": "av personene når steget"}  # fmt: skip


@dataclass(frozen=True)
class DiscoveredMap(Result):
    """A proposed journey map (``map``) and the evidence behind it.

    ``events``: one record per kept event (``event``, ``persons``, ``share``, ``position``
    0..1, ``stage``); ``dominant_paths``: the most common person journeys (repeats collapsed).

    >>> from kundresa.maps import new_map
    >>> DiscoveredMap(0, new_map("shop"), (), ()).to_frame().shape
    (0, 5)
    """

    persons: int
    map: JourneyMap
    events: tuple[Mapping[str, Any], ...]
    dominant_paths: tuple[Mapping[str, Any], ...]

    def save(self, path: str | Path) -> Path:
        """Write the map as YAML or JSON (by suffix) for a person to edit."""
        from kundresa.maps import save_map

        save_map(self.map, path)
        return Path(path)

    def to_dict(self) -> dict[str, Any]:
        """The map (as its file mapping) and the evidence."""
        return {
            "persons": self.persons,
            "map": self.map.to_dict(),
            "events": jsonable(self.events),
            "dominant_paths": jsonable(self.dominant_paths),
        }

    def to_frame(self) -> Any:
        """One row per kept event: persons, share, position and the stage it went to."""
        import pandas as pd

        return pd.DataFrame(list(self.events), columns=["event", "persons", "share", "position",
                                                        "stage"])  # fmt: skip

    def plot(self) -> Any:
        """Events by mean position (x) and share of persons (y), coloured by stage."""
        import plotly.graph_objects as go

        fig = go.Figure()
        for s in self.map.stages:
            rows = [e for e in self.events if e["stage"] == s.id]
            fig.add_trace(go.Scatter(x=[e["position"] for e in rows],
                                     y=[e["share"] for e in rows], text=[e["event"] for e in rows],
                                     mode="markers+text", name=s.name))  # fmt: skip
        fig.update_layout(title=f"Discovered stages ({self.persons:,} persons)",
                          xaxis_title="mean position in the journey (0 first, 1 last)",
                          yaxis_title="share of persons")  # fmt: skip
        return fig

    def __str__(self) -> str:
        lines = [f"Discovered map from {self.persons:,} persons: {len(self.map.stages)} stages"]
        for i, s in enumerate(self.map.stages, 1):
            evs = [e for e in self.events if e["stage"] == s.id]
            desc = ", ".join(f"{e['event']} ({e['share']:.0%})" for e in evs)
            lines.append(f"  {i}. {s.name}: {desc}")
        if self.dominant_paths:
            lines.append("Dominant paths (persons):")
            for p in self.dominant_paths[:5]:
                lines.append(f"  {p['persons']:>8,}  {p['share']:6.1%}  " + " -> ".join(p["path"]))
        return "\n".join(lines)


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "stage"
    if base[0].isdigit():
        base = "s_" + base
    out, i = base, 2
    while out in taken:
        out, i = f"{base}_{i}", i + 1
    taken.add(out)
    return out


def _cut(positions: list[float], k: int) -> list[int]:
    """Group sizes: cut the ordered positions at the ``k - 1`` largest gaps (earliest wins)."""
    n = len(positions)
    if n <= k:
        return [1] * n
    gaps = sorted(range(n - 1), key=lambda i: (-(positions[i + 1] - positions[i]), i))[: k - 1]
    cuts = sorted(g + 1 for g in gaps)
    bounds = [0, *cuts, n]
    return [b - a for a, b in itertools.pairwise(bounds)]


def _personas(
    ws: Workspace, prop: str | None, event: str, lang: str, top: int
) -> list[dict[str, Any]]:
    if prop is None:
        names = {"en": "Persona {} (describe)", "sv": "Persona {} (beskriv)",
                 "nb": "Persona {} (beskriv)"}[lang]  # fmt: skip
        return [{"id": f"persona_{i}", "name": names.format(i)} for i in (1, 2)]
    t = ws.events(touchpoints_only=False)
    t = t.filter((t.event == event) & t.properties.notnull())
    rows = ws.store.fetch(t.select("person_id", "properties").distinct()).to_pylist()
    per: dict[str, set[str]] = {}
    for r in rows:
        try:
            value = json.loads(r["properties"]).get(prop)
        except (ValueError, AttributeError):
            continue
        if value is not None and str(value):
            per.setdefault(str(value), set()).add(str(r["person_id"]))
    if len(per) < 2:
        raise NotFoundError(f"persona property on {event!r}", prop,
                            candidates=sorted(per))  # fmt: skip
    ranked = sorted(per, key=lambda v: (-len(per[v]), v))[:top]
    taken: set[str] = set()
    return [
        {
            "id": _slug(v, taken),
            "name": v,
            "select": {"events": [event], "where": {prop: v}},
        }
        for v in ranked
    ]


def discover_map(
    ws: Workspace,
    *,
    stages: int = 5,
    min_share: float = 0.05,
    max_events: int = 12,
    conversion: str | None = None,
    rules: PathRules | None = None,
    persona_property: str | None = None,
    persona_event: str = "Identify",
    max_personas: int = 6,
    title: str = "",
    lang: str = "en",
    map_type: str = "current",
) -> DiscoveredMap:
    """Propose a journey map from the dominant paths (see the module doc for the method).

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> discover_map(Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "e.duckdb")).persons
    Traceback (most recent call last):
    ...
    kundresa.NotFoundError: ...
    """
    from kundresa.paths._analysis import sequences

    if isinstance(stages, bool) or not isinstance(stages, int) or stages < 1:
        raise InvalidOptionError("stages", stages, fix="pass a whole number >= 1, e.g. 5")
    if not 0 <= min_share <= 1:
        raise InvalidOptionError("min_share", min_share, fix="pass a share between 0 and 1")
    if lang not in LANGUAGES:
        raise InvalidOptionError("lang", lang, allowed=LANGUAGES)
    if map_type not in MAP_TYPES[:2]:
        raise InvalidOptionError("type", map_type, allowed=MAP_TYPES[:2])
    seq = sequences(ws, rules, extra=("channel",))
    if seq.n == 0:
        raise NotFoundError("events", "(the workspace has none; ingest a log first)")
    v, n_persons = len(seq.labels), len(seq.persons)
    conv_code = -1
    if conversion is not None:
        conv_code = seq.code(conversion)
        if conv_code < 0:
            raise NotFoundError("conversion", conversion, candidates=seq.labels)

    if conv_code >= 0:  # the dominant paths *to conversion*: converters, up to the first one
        seq = _until_conversion(seq, conv_code)
        n_persons = len(seq.persons)
    # first occurrence of every (person, label), ranked inside the person
    key = seq.person * v + seq.label
    _, first_row = np.unique(key, return_index=True)
    first_row = np.sort(first_row)  # rows are person-major: order of first occurrences
    fp, fl = seq.person[first_row], seq.label[first_row]
    pstart = np.ones(fp.size, dtype=bool)
    pstart[1:] = fp[1:] != fp[:-1]
    starts = np.flatnonzero(pstart)
    k_of = np.diff(np.append(starts, fp.size))
    owner = np.repeat(np.arange(starts.size), k_of)
    rank = np.arange(fp.size) - starts[owner]
    denom = np.maximum(k_of[owner] - 1, 1)
    pos = np.where(k_of[owner] > 1, rank / denom, 0.5)
    reach = np.bincount(fl, minlength=v)
    mean_pos = np.bincount(fl, weights=pos, minlength=v) / np.maximum(reach, 1)

    order = sorted(range(v), key=lambda c: (-int(reach[c]), seq.labels[c]))
    kept = [c for c in order if reach[c] / n_persons >= min_share][:max_events]
    if conv_code >= 0 and conv_code not in kept:
        kept.append(conv_code)
    if not kept:
        raise InvalidOptionError("min_share", min_share, fix="lower it: no event reaches it")
    kept.sort(key=lambda c: (float(mean_pos[c]), -int(reach[c]), seq.labels[c]))
    if conv_code >= 0:  # the conversion closes the journey
        kept.remove(conv_code)
        kept.append(conv_code)
    sizes = _cut([float(mean_pos[c]) for c in kept], stages)

    # channels per label
    ch_codes, ch_vals = seq.extra["channel"]
    nch = len(ch_vals) + 1
    pair = np.bincount(seq.label * nch + (ch_codes + 1), minlength=v * nch).reshape(v, nch)

    def channels_of(c: int) -> list[str]:
        row = pair[c]
        total = max(int(row.sum()), 1)
        ranked = sorted(range(nch), key=lambda j: (-int(row[j]), j))
        keep = [j for j in ranked if row[j] / total >= _MIN_CHANNEL_SHARE] or ranked[:1]
        return [(ch_vals[j - 1] or "unknown") if j else "unknown" for j in keep]

    personas = _personas(ws, persona_property, persona_event, lang, max_personas)
    taken: set[str] = set()
    stage_dicts: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    at = 0
    conv_stage = ""
    for size in sizes:
        group = kept[at : at + size]
        at += size
        lead = max(group, key=lambda c: (int(reach[c]), -group.index(c)))
        sid = _slug(seq.labels[lead], taken)
        tps: list[dict[str, Any]] = []
        for c in group:
            chans = channels_of(c)
            for ch in chans:
                name = seq.labels[c] if len(chans) == 1 else f"{seq.labels[c]} ({ch})"
                rule: dict[str, Any] = {"events": [seq.labels[c]]}
                if ch != "unknown":
                    rule["channels"] = [ch]
                tps.append({"name": name, "channel": ch, "match": rule})
            records.append({"event": seq.labels[c], "persons": int(reach[c]),
                            "share": round(float(reach[c]) / n_persons, 6),
                            "position": round(float(mean_pos[c]), 6), "stage": sid})  # fmt: skip
            if c == conv_code:
                conv_stage = sid
        in_stage = np.isin(fl, np.array(group, dtype=np.int64))
        share = np.unique(fp[in_stage]).size / n_persons
        note = f"{share:.0%} {_REACH[lang]}"
        cells = {p["id"]: {"activities": [seq.labels[c] for c in group],
                           "touchpoints": tps, "notes": note} for p in personas}  # fmt: skip
        stage_dicts.append({"id": sid, "name": seq.labels[lead],
                            "match": {"events": [seq.labels[c] for c in group]},
                            "cells": cells})  # fmt: skip
    data: dict[str, Any] = {
        "kundresa_map": 2,
        "title": title or "Discovered journey",
        "goal": _GOAL[lang],
        "type": map_type,
        "owner": _OWNER[lang],
        "status": "draft",
        "language": lang,
        "personas": personas,
        "stages": stage_dicts,
    }
    if conversion is not None:
        data["measurement"] = {"conversion": {"events": [conversion], "stage": conv_stage}}
    return DiscoveredMap(
        persons=n_persons,
        map=JourneyMap.from_dict(data),
        events=tuple(records),
        dominant_paths=_dominant(seq, kept),
    )


def _until_conversion(seq: Any, code: int) -> Any:
    """Converting persons' events up to and including their first ``code``."""
    hit = seq.label == code
    first_hit = np.full(len(seq.persons), np.iinfo(np.int64).max, dtype=np.int64)
    rows = np.flatnonzero(hit)
    np.minimum.at(first_hit, seq.person[rows], rows)
    limit = first_hit[seq.person]
    keep = (np.arange(seq.n) <= limit) & (limit < np.iinfo(np.int64).max)
    person = seq.person[keep]
    present = np.unique(person)
    renum = np.full(len(seq.persons), -1, dtype=np.int64)
    renum[present] = np.arange(present.size)
    extra = {k: (c[keep], vals) for k, (c, vals) in seq.extra.items()}
    return type(seq)(seq.label[keep], seq.ts[keep], renum[person], seq.labels,
                     tuple(seq.persons[i] for i in present.tolist()), extra)  # fmt: skip


def _dominant(seq: Any, kept: list[int], top: int = 10) -> tuple[dict[str, Any], ...]:
    """The most common person journeys over the kept events, repeats collapsed."""
    keep = np.isin(seq.label, np.array(kept, dtype=np.int64))
    sub = type(seq)(seq.label[keep], seq.ts[keep], seq.person[keep], seq.labels, seq.persons)
    if sub.n == 0:
        return ()
    u = kn.make_units(sub, unit="person", collapse_repeats=True)
    g = kn.group_slices(u, u.start, u.end - 1, top=top, by_persons=True)
    total = max(g.total_persons, 1)
    out = []
    for path, persons in zip(g.paths, g.persons.tolist(), strict=True):
        names = [seq.labels[c] for c in path]
        out.append({"path": names, "persons": int(persons), "share": round(persons / total, 6)})
    return tuple(out)
