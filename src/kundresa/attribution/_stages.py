"""Journey stage and persona of every touch, from a journey map's measurement rules.

The assignment reuses the map measurement (:mod:`kundresa.maps._measure`): a person *enters*
stage *k* at their first event matching the stage's rule, and their persona is the first
persona (map order) whose ``select`` rule any of their events matches. A touch's **stage** is
the furthest stage (map order) the person had entered at or before the touch's timestamp;
touches before any stage entry are in :data:`BEFORE`. A person without a persona is in
:data:`NO_PERSONA`. Both columns are added in Ibis, so they run on either engine.

>>> from kundresa import Workspace
>>> from kundresa.maps import new_map
>>> ev = labelled_events(Workspace.open(None), new_map("shop"))
>>> ev.columns[-3:]
('stage', 'stage_index', 'persona')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError

if TYPE_CHECKING:
    import ibis

    from kundresa._workspace import Workspace
    from kundresa.maps._model import JourneyMap

__all__ = [
    "BEFORE",
    "NO_PERSONA",
    "STAGE_SEP",
    "labelled_events",
    "load_journey_map",
    "split_label",
    "stage_ids",
]

#: Stage of touches before the person entered any stage of the map.
BEFORE = "(before)"
#: Persona of persons that no persona rule of the map selects.
NO_PERSONA = "(none)"
#: Separator of the ``"<stage> / <channel>"`` labels of per-stage attribution.
STAGE_SEP = " / "


def split_label(label: str) -> tuple[str, str]:
    """``(stage, channel)`` of a per-stage label (stage ids never contain the separator).

    >>> split_label("awareness / search")
    ('awareness', 'search')
    """
    stage, _, channel = label.partition(STAGE_SEP)
    return stage, channel


def load_journey_map(journey_map: Any) -> JourneyMap:
    """A :class:`~kundresa.maps.JourneyMap` as given, or loaded from a map file path.

    >>> from kundresa.maps import new_map
    >>> load_journey_map(new_map("shop")).stages[0].id
    'awareness'
    """
    from kundresa.maps import JourneyMap, load_map

    if isinstance(journey_map, JourneyMap):
        return journey_map
    if isinstance(journey_map, str) or hasattr(journey_map, "__fspath__"):
        return load_map(journey_map)
    raise InvalidOptionError(
        "journey_map", type(journey_map).__name__, fix="pass a JourneyMap or a map file path"
    )


def stage_ids(jm: JourneyMap) -> tuple[str, ...]:
    """The stage labels in report order: :data:`BEFORE`, then the map's stages with a rule.

    >>> from kundresa.maps import new_map
    >>> stage_ids(new_map("shop"))[:3]
    ('(before)', 'awareness', 'consideration')
    """
    return (BEFORE, *[s.id for s in jm.stages if s.match is not None])


def labelled_events(ws: Workspace, jm: JourneyMap) -> ibis.Table:
    """``ws.events()`` (touchpoints) with ``stage``, ``stage_index`` and ``persona`` columns.

    ``stage_index`` is the stage's position in the map (-1 for :data:`BEFORE`).
    """
    import ibis

    from kundresa.maps._measure import persona_table, stage_entry_table

    full = ws.events(touchpoints_only=False)
    full = full.select("person_id", "ts", "event", "channel", "touchpoint", "properties")
    entries = stage_entry_table(jm, full)
    personas = persona_table(jm, full)
    ev = ws.events()
    cols = list(ev.columns)
    ev = ev.filter(ev.person_id.notnull())
    if entries is not None:
        tcols = [c for c in entries.columns if c != "person_id"]
        e = entries.rename({f"e_{c}": c for c in tcols})
        ev = ev.left_join(e, "person_id").select(*cols, *[f"e_{c}" for c in tcols])
        index: Any = ibis.literal(-1)
        # furthest stage entered at or before the touch: test the stages from the last back
        for c in tcols:
            k = int(c[1:])
            t = ev[f"e_{c}"]
            index = ibis.ifelse(t.notnull() & (t <= ev.ts), k, index)  # later stages win
        ev = ev.mutate(stage_index=index.cast("int64"))
    else:
        ev = ev.mutate(stage_index=ibis.literal(-1, "int64"))
    ids = [s.id for s in jm.stages]
    stage: Any = ibis.literal(BEFORE)
    for k, sid in enumerate(ids):
        stage = ibis.ifelse(ev.stage_index == k, sid, stage)
    ev = ev.mutate(stage=stage)
    if personas is not None:
        ev = ev.left_join(personas, "person_id").select(*ev.columns, "pidx")
        persona: Any = ibis.literal(NO_PERSONA)
        for i, p in enumerate(jm.personas):
            persona = ibis.ifelse(ev.pidx == i, p.id, persona)
        ev = ev.mutate(persona=persona)
    else:
        ev = ev.mutate(persona=ibis.literal(NO_PERSONA))
    return ev.select(*cols, "stage", "stage_index", "persona")
