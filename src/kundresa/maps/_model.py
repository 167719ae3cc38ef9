"""The journey map as data: frozen dataclasses that mirror the map file (schema version 2).

A map holds a goal, a type (``current``, ``future``, ``day_in_the_life``), personas, ordered
stages and, per stage and persona, the lanes (activities, touchpoints, emotion, pain points,
opportunities, notes), plus measurement rules that tie stages to events.

>>> m = JourneyMap.from_dict({"kundresa_map": 2, "title": "T", "goal": "G", "type": "current",
...     "owner": "CX", "language": "en",
...     "personas": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
...     "stages": [{"id": "buy", "name": "Buy", "cells": {"a": {"emotion": {"score": 1}}}}]})
>>> m.stages[0].cell("a").emotion.score
1
>>> JourneyMap.from_dict(m.to_dict()) == m
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LANES",
    "LANGUAGES",
    "MAP_TYPES",
    "OPPORTUNITY_STATUSES",
    "SCHEMA_VERSION",
    "STATUSES",
    "Cell",
    "Emotion",
    "JourneyMap",
    "Measurement",
    "Opportunity",
    "Persona",
    "Rule",
    "Stage",
    "SurveyRule",
    "Touchpoint",
]

SCHEMA_VERSION = 2
MAP_TYPES = ("current", "future", "day_in_the_life")
LANGUAGES = ("sv", "nb", "en")
STATUSES = ("draft", "in_review", "validated", "archived")
OPPORTUNITY_STATUSES = ("idea", "planned", "in_progress", "done", "rejected")
LANES = ("activities", "touchpoints", "emotion", "pain_points", "opportunities", "notes")


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {}, ())}


@dataclass(frozen=True)
class Rule:
    """Which events count: any of ``events`` (names), on any of ``channels``, at any of
    ``touchpoints``, whose properties equal every ``where`` pair. Empty parts match all.

    >>> Rule.from_dict({"events": ["Product Viewed"], "where": {"category": "tv"}}).to_dict()
    {'events': ['Product Viewed'], 'where': {'category': 'tv'}}
    """

    events: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rule:
        """Build from the file's mapping."""
        where = d.get("where") or {}
        return cls(
            events=_strs(d.get("events")),
            channels=_strs(d.get("channels")),
            touchpoints=_strs(d.get("touchpoints")),
            where=tuple((str(k), str(v)) for k, v in where.items()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        return _drop_empty(
            {
                "events": list(self.events),
                "channels": list(self.channels),
                "touchpoints": list(self.touchpoints),
                "where": dict(self.where),
            }
        )


@dataclass(frozen=True)
class Touchpoint:
    """A point of contact in a cell: a name, its channel and optionally the events behind it."""

    name: str
    channel: str
    match: Rule | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Touchpoint:
        """Build from the file's mapping."""
        m = d.get("match")
        return cls(str(d["name"]), str(d["channel"]), Rule.from_dict(m) if m else None)

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        out: dict[str, Any] = {"name": self.name, "channel": self.channel}
        if self.match is not None:
            out["match"] = self.match.to_dict()
        return out


@dataclass(frozen=True)
class Emotion:
    """How the persona feels in the stage: ``score`` from -2 (very bad) to +2 (very good)."""

    score: int
    emoji: str = ""
    quote: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Emotion:
        """Build from the file's mapping."""
        return cls(int(d["score"]), str(d.get("emoji") or ""), str(d.get("quote") or ""))

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        return {"score": self.score, **_drop_empty({"emoji": self.emoji, "quote": self.quote})}


@dataclass(frozen=True)
class Opportunity:
    """An improvement the company could make, with who owns it and how far it has come."""

    text: str
    owner: str = ""
    status: str = "idea"

    @classmethod
    def from_dict(cls, d: dict[str, Any] | str) -> Opportunity:
        """Build from the file's mapping (or a bare text)."""
        if isinstance(d, str):
            return cls(d)
        return cls(str(d["text"]), str(d.get("owner") or ""), str(d.get("status") or "idea"))

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        return {"text": self.text, **_drop_empty({"owner": self.owner}), "status": self.status}


@dataclass(frozen=True)
class Cell:
    """One stage x persona cell: the lanes of the map."""

    activities: tuple[str, ...] = ()
    touchpoints: tuple[Touchpoint, ...] = ()
    emotion: Emotion | None = None
    pain_points: tuple[str, ...] = ()
    opportunities: tuple[Opportunity, ...] = ()
    notes: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cell:
        """Build from the file's mapping."""
        emo = d.get("emotion")
        return cls(
            activities=_strs(d.get("activities")),
            touchpoints=tuple(Touchpoint.from_dict(t) for t in d.get("touchpoints") or ()),
            emotion=Emotion.from_dict(emo) if emo is not None else None,
            pain_points=_strs(d.get("pain_points")),
            opportunities=tuple(Opportunity.from_dict(o) for o in d.get("opportunities") or ()),
            notes=str(d.get("notes") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        return _drop_empty(
            {
                "activities": list(self.activities),
                "touchpoints": [t.to_dict() for t in self.touchpoints],
                "emotion": self.emotion.to_dict() if self.emotion else None,
                "pain_points": list(self.pain_points),
                "opportunities": [o.to_dict() for o in self.opportunities],
                "notes": self.notes,
            }
        )


@dataclass(frozen=True)
class Stage:
    """An ordered column of the map: a purchase stage, or a time slot / period."""

    id: str
    name: str
    period: str = ""
    match: Rule | None = None
    cells: tuple[tuple[str, Cell], ...] = ()

    def cell(self, persona_id: str) -> Cell:
        """The cell of one persona (an empty cell when the map has none)."""
        for pid, c in self.cells:
            if pid == persona_id:
                return c
        return Cell()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Stage:
        """Build from the file's mapping."""
        m = d.get("match")
        cells = d.get("cells") or {}
        return cls(
            id=str(d["id"]),
            name=str(d["name"]),
            period=str(d.get("period") or ""),
            match=Rule.from_dict(m) if m else None,
            cells=tuple((str(k), Cell.from_dict(v or {})) for k, v in cells.items()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.period:
            out["period"] = self.period
        if self.match is not None:
            out["match"] = self.match.to_dict()
        out["cells"] = {pid: c.to_dict() for pid, c in self.cells}
        return out


@dataclass(frozen=True)
class Persona:
    """A described customer type; ``select`` picks that persona's people in the data."""

    id: str
    name: str
    age_range: str = ""
    occupation: str = ""
    needs: tuple[str, ...] = ()
    challenges: tuple[str, ...] = ()
    buying_preference: str = ""
    select: Rule | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Persona:
        """Build from the file's mapping."""
        s = d.get("select")
        return cls(
            id=str(d["id"]),
            name=str(d["name"]),
            age_range=str(d.get("age_range") or ""),
            occupation=str(d.get("occupation") or ""),
            needs=_strs(d.get("needs")),
            challenges=_strs(d.get("challenges")),
            buying_preference=str(d.get("buying_preference") or ""),
            select=Rule.from_dict(s) if s else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        out = _drop_empty(
            {
                "id": self.id,
                "name": self.name,
                "age_range": self.age_range,
                "occupation": self.occupation,
                "needs": list(self.needs),
                "challenges": list(self.challenges),
                "buying_preference": self.buying_preference,
            }
        )
        if self.select is not None:
            out["select"] = self.select.to_dict()
        return out


@dataclass(frozen=True)
class SurveyRule:
    """Survey answers: the events and the property names holding CSAT (1-5) and NPS (0-10)."""

    match: Rule
    csat: str = "csat"
    nps: str = "nps"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SurveyRule:
        """Build from the file's mapping."""
        rule = {k: v for k, v in d.items() if k not in ("csat", "nps")}
        return cls(Rule.from_dict(rule), str(d.get("csat", "csat")), str(d.get("nps", "nps")))

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        return {**self.match.to_dict(), "csat": self.csat, "nps": self.nps}


@dataclass(frozen=True)
class Measurement:
    """How the map is measured: the conversion events (and the stage they close)."""

    conversion: Rule | None = None
    conversion_stage: str = ""
    survey: SurveyRule | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Measurement:
        """Build from the file's mapping."""
        conv = dict(d.get("conversion") or {})
        stage = str(conv.pop("stage", "") or "")
        survey = d.get("survey")
        return cls(
            conversion=Rule.from_dict(conv) if conv else None,
            conversion_stage=stage,
            survey=SurveyRule.from_dict(survey) if survey else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping."""
        out: dict[str, Any] = {}
        if self.conversion is not None:
            out["conversion"] = self.conversion.to_dict()
            if self.conversion_stage:
                out["conversion"]["stage"] = self.conversion_stage
        if self.survey is not None:
            out["survey"] = self.survey.to_dict()
        return out


@dataclass(frozen=True)
class JourneyMap:
    """A whole journey map (see the module example and ``docs/maps.md``)."""

    title: str
    goal: str
    type: str
    owner: str
    language: str
    personas: tuple[Persona, ...]
    stages: tuple[Stage, ...]
    status: str = "draft"
    last_validated: str = ""
    measurement: Measurement = field(default_factory=Measurement)
    compare_to: str = ""
    schema_version: int = SCHEMA_VERSION

    def persona(self, persona_id: str) -> Persona:
        """The persona with this id."""
        from kundresa._errors import NotFoundError

        for p in self.personas:
            if p.id == persona_id:
                return p
        raise NotFoundError("persona", persona_id, candidates=[p.id for p in self.personas])

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id."""
        from kundresa._errors import NotFoundError

        for s in self.stages:
            if s.id == stage_id:
                return s
        raise NotFoundError("stage", stage_id, candidates=[s.id for s in self.stages])

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JourneyMap:
        """Build from a validated mapping of the current schema version."""
        return cls(
            title=str(d.get("title") or ""),
            goal=str(d["goal"]),
            type=str(d["type"]),
            owner=str(d.get("owner") or ""),
            language=str(d["language"]),
            personas=tuple(Persona.from_dict(p) for p in d["personas"]),
            stages=tuple(Stage.from_dict(s) for s in d["stages"]),
            status=str(d.get("status") or "draft"),
            last_validated=str(d.get("last_validated") or ""),
            measurement=Measurement.from_dict(d.get("measurement") or {}),
            compare_to=str(d.get("compare_to") or ""),
            schema_version=int(d.get("kundresa_map", SCHEMA_VERSION)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The file's mapping (what ``save`` writes)."""
        out: dict[str, Any] = {
            "kundresa_map": self.schema_version,
            "title": self.title,
            "goal": self.goal,
            "type": self.type,
            "owner": self.owner,
            "status": self.status,
        }
        if self.last_validated:
            out["last_validated"] = self.last_validated
        out["language"] = self.language
        if self.compare_to:
            out["compare_to"] = self.compare_to
        out["personas"] = [p.to_dict() for p in self.personas]
        out["stages"] = [s.to_dict() for s in self.stages]
        meas = self.measurement.to_dict()
        if meas:
            out["measurement"] = meas
        return out


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
