"""What a funnel is: steps, exclusions and the semantics, validated once.

Every semantic choice is an explicit parameter with a documented default (see
``docs/funnel.md`` and ADR 0006). This module only describes and validates; it never reads
data.

>>> spec = FunnelSpec.build(["View", "Add", Step("Buy", within="1h")], window="7d")
>>> [s.label for s in spec.steps], spec.order, spec.entry, spec.window_us // 1_000_000
(['View', 'Add', 'Buy'], 'ordered', 'best', 604800)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kundresa._errors import InvalidOptionError
from kundresa._util import parse_duration

__all__ = [
    "ATTRIBUTIONS",
    "DENOMINATORS",
    "ENTRIES",
    "EXCLUSION_MODES",
    "ORDERS",
    "TIE_ORDERS",
    "TREND_PERIODS",
    "Exclusion",
    "FunnelSpec",
    "Step",
]

ORDERS = ("ordered", "strict", "unordered")
ENTRIES = ("best", "first", "totals")
EXCLUSION_MODES = ("drop", "stop")
TIE_ORDERS = ("event_id", "funnel")
DENOMINATORS = ("entered", "all")
ATTRIBUTIONS = ("first", "last", "all")  # plus "step:N"
TREND_PERIODS = ("day", "week", "month")
UNITS = ("person", "session")

_US = 1_000_000


def _us(value: str | dt.timedelta, name: str) -> int:
    return round(parse_duration(value, name).total_seconds() * _US)


@dataclass(frozen=True)
class Step:
    """One funnel step: one or several event names (OR), optional property predicates.

    ``where`` maps an events column or a ``properties`` key to a value (or a list of allowed
    values). ``within`` bounds the time from the previous filled step (GA4 "within");
    ``directly_followed`` requires this step's event to be the very next event of the unit
    after the previous step's (GA4 "is directly followed by"). ``optional`` steps may be skipped
    (never the first or the last step).

    >>> Step(("Product Added", "Added To Wishlist"), where={"category": "tv"}).label
    'Product Added | Added To Wishlist'
    """

    events: str | tuple[str, ...]
    where: Mapping[str, Any] = field(default_factory=dict)
    optional: bool = False
    within: str | dt.timedelta | None = None
    directly_followed: bool = False
    name: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The event names that match this step."""
        return (self.events,) if isinstance(self.events, str) else tuple(self.events)

    @property
    def label(self) -> str:
        """A readable name: ``name`` or the event names joined by ``|``."""
        return self.name or " | ".join(self.names)


@dataclass(frozen=True)
class Exclusion:
    """An event that must not happen between step ``after`` and step ``before`` (1-based).

    ``mode="drop"`` removes the unit from the whole funnel (PostHog); ``mode="stop"`` ends the
    attempt there, so the unit counts up to step ``after`` (Mixpanel).

    >>> Exclusion("Cart Emptied", after=2, before=3, mode="stop").mode
    'stop'
    """

    event: str
    after: int = 1
    before: int = 2
    mode: str = "drop"


@dataclass(frozen=True)
class FunnelSpec:
    """A validated funnel definition (times in integer microseconds).

    >>> FunnelSpec.build(["A", "B"], order="strict").strict_pairs
    (False, True)
    """

    steps: tuple[Step, ...]
    window_us: int
    order: str
    entry: str
    exclusions: tuple[Exclusion, ...]
    hold_constant: tuple[str, ...]
    unit: str
    tie_us: int
    tie_order: str
    denominator: str
    within_us: tuple[int | None, ...]
    strict_pairs: tuple[bool, ...]

    @property
    def k(self) -> int:
        """Number of steps."""
        return len(self.steps)

    @property
    def unit_column(self) -> str:
        """The events column that identifies a unit."""
        return {"person": "person_id", "session": "session_id"}.get(self.unit, self.unit)

    @property
    def event_names(self) -> tuple[str, ...]:
        """Every event name the funnel reads (steps and exclusions), first-seen order."""
        seen: dict[str, None] = {}
        for s in self.steps:
            seen.update(dict.fromkeys(s.names))
        for x in self.exclusions:
            seen[x.event] = None
        return tuple(seen)

    @property
    def needs_all_events(self) -> bool:
        """Strict adjacency needs every event of the unit, not only the funnel's."""
        return any(self.strict_pairs)

    @property
    def fast(self) -> bool:
        """Whether the vectorised path applies (the default semantics, nothing extra)."""
        return (
            self.order == "ordered"
            and self.entry == "best"
            and not self.exclusions
            and not self.hold_constant
            and self.tie_us == 0
            and not any(s.optional or s.where for s in self.steps)
            and all(w is None for w in self.within_us)
            and not any(self.strict_pairs)
        )

    @classmethod
    def build(
        cls,
        steps: Sequence[str | Step],
        *,
        window: str | dt.timedelta = "7d",
        order: str = "ordered",
        entry: str = "best",
        exclusions: Sequence[Exclusion] = (),
        hold_constant: Sequence[str] = (),
        unit: str = "person",
        tie: str | dt.timedelta | None = None,
        tie_order: str = "event_id",
        denominator: str = "entered",
    ) -> FunnelSpec:
        """Validate the parameters; every mistake names the field and the fix."""
        st = tuple(s if isinstance(s, Step) else Step(s) for s in steps)
        if len(st) < 2:
            raise InvalidOptionError("steps", [s.label for s in st], fix="give at least two steps")
        for s in st:
            if not s.names or not all(isinstance(n, str) and n for n in s.names):
                raise InvalidOptionError("steps", s.events, fix="name at least one event")
        for name, value, allowed in (
            ("order", order, ORDERS),
            ("entry", entry, ENTRIES),
            ("tie_order", tie_order, TIE_ORDERS),
            ("denominator", denominator, DENOMINATORS),
        ):
            if value not in allowed:
                raise InvalidOptionError(name, value, allowed=allowed)
        if st[0].optional or st[-1].optional:
            raise InvalidOptionError(
                "optional",
                st[0].label if st[0].optional else st[-1].label,
                fix="only steps between the first and the last can be optional",
            )
        tie_us = 0 if tie in (None, 0, "0", "0s") else _us(tie, "tie")
        within = tuple(None if s.within is None else _us(s.within, "within") for s in st)
        strict = tuple(
            i > 0 and (order == "strict" or s.directly_followed) for i, s in enumerate(st)
        )
        k = len(st)
        for x in exclusions:
            if x.mode not in EXCLUSION_MODES:
                raise InvalidOptionError("exclude.mode", x.mode, allowed=EXCLUSION_MODES)
            if not (1 <= x.after < x.before <= k):
                raise InvalidOptionError(
                    "exclude",
                    f"{x.event} between {x.after} and {x.before}",
                    fix=f"use 1 <= after < before <= {k} (step numbers)",
                )
            if st[x.after - 1].optional or st[x.before - 1].optional:
                raise InvalidOptionError(
                    "exclude", x.event, fix="bound an exclusion by required steps"
                )
        if order == "unordered":
            extras = [
                n
                for n, bad in (
                    ("exclude", bool(exclusions)),
                    ("optional", any(s.optional for s in st)),
                    ("within", any(w is not None for w in within)),
                    ("directly_followed", any(s.directly_followed for s in st)),
                    ("tie", tie_us > 0),
                )
                if bad
            ]
            if extras:
                raise InvalidOptionError(
                    extras[0],
                    "with order='unordered'",
                    fix="use order='ordered' (these options need a step order)",
                )
        if tie_us > 0:
            if any(strict):
                raise InvalidOptionError(
                    "tie",
                    tie,
                    fix="strict order and directly_followed use exact positions; "
                    "drop the tie tolerance",
                )
            names = [n for s in st for n in set(s.names)]
            if len(names) != len(set(names)):
                raise InvalidOptionError(
                    "tie",
                    tie,
                    fix="a tie tolerance needs steps with distinct event names "
                    "(one event could otherwise fill two steps)",
                )
        unit_col = {"person": "person_id", "session": "session_id"}.get(unit, unit)
        if not unit_col or not isinstance(unit_col, str):
            raise InvalidOptionError("unit", unit, allowed=UNITS)
        return cls(
            steps=st,
            window_us=_us(window, "window"),
            order=order,
            entry=entry,
            exclusions=tuple(exclusions),
            hold_constant=tuple(hold_constant),
            unit=unit,
            tie_us=tie_us,
            tie_order=tie_order,
            denominator=denominator,
            within_us=within,
            strict_pairs=strict,
        )

    def describe(self) -> dict[str, Any]:
        """The parameters in force, JSON-ready (shown in every result)."""
        return {
            "steps": [s.label for s in self.steps],
            "window_seconds": self.window_us / _US,
            "order": self.order,
            "entry": self.entry,
            "exclude": [
                {"event": x.event, "after": x.after, "before": x.before, "mode": x.mode}
                for x in self.exclusions
            ],
            "optional": [s.label for s in self.steps if s.optional],
            "within_seconds": [None if w is None else w / _US for w in self.within_us],
            "directly_followed": [s.directly_followed for s in self.steps],
            "hold_constant": list(self.hold_constant),
            "unit": self.unit,
            "tie_seconds": self.tie_us / _US,
            "tie_order": self.tie_order,
            "denominator": self.denominator,
        }
