"""Declaration: the funnel (every semantic choice a parameter; ADR 0006)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kundresa._contract import REQUIRED, Analysis, Param, declare
from kundresa._errors import InvalidOptionError

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._workspace import Workspace
    from kundresa.funnel import FunnelResult

ORDERS = ("ordered", "strict", "unordered")
ENTRIES = ("best", "first", "totals")
TIE_ORDERS = ("event_id", "funnel")
DENOMINATORS = ("entered", "all")
TRENDS = ("day", "week", "month")
#: the most steps a funnel takes (step numbers in other parameters are bounded by it)
MAX_STEPS = 20


def parse_step(text: str, *, within: str | None = None, directly_followed: bool = False) -> Any:
    """A step as typed on the CLI, in the web builder and in a query: ``A|B`` either event,
    a trailing ``?`` an optional step.

    >>> step = parse_step("Product Added|Added To Wishlist?")
    >>> step.names, step.optional
    (('Product Added', 'Added To Wishlist'), True)
    """
    from kundresa.funnel import Step

    optional = text.strip().endswith("?")
    names = tuple(n.strip() for n in text.strip().rstrip("?").split("|"))
    if not all(names):
        raise InvalidOptionError(
            "steps", text, fix="name an event in every step; 'A|B' for either of two events"
        )
    return Step(
        names if len(names) > 1 else names[0],
        optional=optional,
        within=within,
        directly_followed=directly_followed,
    )


def parse_exclusion(text: str) -> Any:
    """``EVENT:AFTER:BEFORE[:drop|stop]`` as an :class:`~kundresa.funnel.Exclusion`.

    >>> parse_exclusion("Cart Emptied:2:3:stop").mode
    'stop'
    """
    from kundresa.funnel import Exclusion

    parts = text.rsplit(":", 3)
    try:
        event, after, before = parts[0], int(parts[1]), int(parts[2])
        mode = parts[3] if len(parts) > 3 else "drop"
    except (IndexError, ValueError):
        raise InvalidOptionError(
            "exclude",
            text,
            fix="write EVENT:AFTER:BEFORE[:drop|stop], e.g. 'Cart Emptied:2:3:stop'",
        ) from None
    return Exclusion(event, after=after, before=before, mode=mode)


def steps_of(p: Params) -> list[Any]:
    """The :class:`~kundresa.funnel.Step` list of ``steps``, ``within`` and
    ``directly_followed``."""
    from kundresa._util import parse_duration

    k = len(p.steps)
    limits: dict[int, str] = {}
    for w in p.within:
        num, _, dur = w.partition("=")
        if not num.strip().isdigit():
            raise InvalidOptionError("within", w, fix="write STEP=DURATION, e.g. 3=1h")
        if not 2 <= int(num) <= k:  # a step number that is not a step was ignored
            raise InvalidOptionError("within", w, fix=f"use a step number from 2 to {k}")
        if int(num) in limits:
            raise InvalidOptionError("within", w, fix=f"give step {int(num)} one limit")
        parse_duration(dur, "within")
        limits[int(num)] = dur
    numbers = [("directly_followed", n) for n in p.directly_followed]
    for field, n in [*numbers, ("drop_off_ids", p.drop_off_ids)]:
        if n is not None and n > k:
            raise InvalidOptionError(field, str(n), fix=f"use a step number from 2 to {k}")
    direct = set(p.directly_followed)
    return [
        parse_step(raw, within=limits.get(i), directly_followed=i in direct)
        for i, raw in enumerate(p.steps, start=1)
    ]


def run_funnel(ws: Workspace, p: Params) -> FunnelResult:
    """``kundresa.funnel.funnel`` with the declared parameters."""
    from kundresa.funnel import funnel

    return funnel(
        ws,
        steps_of(p),
        window=p.window,
        order=p.order,
        entry=p.entry,
        exclude=[parse_exclusion(x) for x in p.exclude],
        hold_constant=p.hold_constant,
        unit=p.unit,
        tie=p.tie,
        tie_order=p.tie_order,
        denominator=p.denominator,
        by=p.by,
        attribution=p.attribution,
        trend=p.trend,
        next_events=p.next_events,
    )


def drop_off_ids_text(result: FunnelResult, p: Params) -> str | None:
    """With ``drop_off_ids=N``: the ids of the units dropping off before step N, one a line."""
    if p.drop_off_ids is None:
        return None
    return "\n".join(result.drop_off_ids(p.drop_off_ids))


declare(
    Analysis(
        name="funnel",
        titles={"en": "Funnel", "sv": "Tratt", "nb": "Trakt"},
        help="Where units drop off between steps: counts, conversion with 95% intervals, "
        "time to convert, breakdown, drop-off.",
        params=(
            Param(
                "steps",
                "event",
                REQUIRED,
                "Event names in order; 'A|B' = either event; a trailing '?' = optional step.",
                multiple=True,
                positional=True,
                max_items=MAX_STEPS,
            ),
            Param("window", "duration", "7d", "Conversion window from the entry, e.g. 7d, 30m."),
            Param(
                "order",
                "choice",
                "ordered",
                "ordered, strict (nothing between) or unordered.",
                choices=ORDERS,
            ),
            Param(
                "entry",
                "choice",
                "best",
                "best attempt, first entry only, or every attempt (totals).",
                choices=ENTRIES,
            ),
            Param(
                "exclude",
                "text",
                None,
                "Exclusion EVENT:AFTER:BEFORE[:drop|stop] (step numbers).",
                multiple=True,
            ),
            Param(
                "within",
                "text",
                None,
                "Per-step limit from the previous step, STEP=DURATION (e.g. 3=1h).",
                multiple=True,
                python=None,
            ),
            Param(
                "directly_followed",
                "int",
                None,
                "Step number that must directly follow its previous step.",
                multiple=True,
                minimum=2,
                maximum=MAX_STEPS,
                max_items=MAX_STEPS,
                python=None,
            ),
            Param(
                "hold_constant",
                "column",
                None,
                "Column or property equal on every step.",
                multiple=True,
            ),
            Param("unit", "text", "person", "person, session or an id column."),
            Param("tie", "duration", None, "Tolerance for near-simultaneous events, e.g. 1s."),
            Param(
                "tie_order", "choice", "event_id", "Order of identical times.", choices=TIE_ORDERS
            ),
            Param(
                "denominator",
                "choice",
                "entered",
                "entered (step 1) or all units.",
                choices=DENOMINATORS,
            ),
            Param("by", "column", None, "Break down by an events column or properties.KEY."),
            Param(
                "attribution", "text", "first", "Breakdown value of: first, last, all or step:N."
            ),
            Param("trend", "choice", "week", "Trend period of the entry date.", choices=TRENDS),
            Param(
                "next_events", "int", 5, "Next events listed per drop-off.", minimum=0, maximum=50
            ),
            Param(
                "drop_off_ids",
                "int",
                None,
                "CLI: print the ids of units dropping off before this step number.",
                minimum=2,
                maximum=MAX_STEPS,
                deprecated=("dropoff_ids",),
                python=None,
            ),
        ),
        run="kundresa._catalog.funnel:run_funnel",
        text="kundresa._catalog.funnel:drop_off_ids_text",
        python="kundresa.funnel:funnel",
        page="kundresa.server._builders:render_funnel",
        form="kundresa.server._builders:funnel_form",
        template="funnel.html",
    )
)
