"""Declarations: the workspace's own views (info, quarantine, overview, events)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundresa._contract import Analysis, Param, declare

#: the default workspace file: a light copy of ``kundresa._workspace.DEFAULT_DB`` (a test keeps
#: them equal)
DEFAULT_DB = "kundresa.duckdb"

if TYPE_CHECKING:
    from kundresa._contract import Params
    from kundresa._results import Result
    from kundresa._workspace import Workspace


def run_info(ws: Workspace, p: Params) -> Result:
    """``ws.info()``."""
    return ws.info()


def quick_info(db: str | None, p: Params) -> Result | None:
    """``ws.info()`` read from the DuckDB file by plain DuckDB (no Ibis); ``None`` when that
    cannot answer (then the workspace is opened)."""
    import os

    from kundresa._info import read_info

    return read_info(db or os.environ.get("KUNDRESA_DB") or DEFAULT_DB)


def run_quarantine(ws: Workspace, p: Params) -> Result:
    """``ws.quarantine(limit=, reason=)``."""
    return ws.quarantine(limit=p.limit, reason=p.reason)


def run_overview(ws: Workspace, p: Params) -> Result:
    """``kundresa.overview(ws, conversion=)``."""
    from kundresa._overview import overview

    return overview(ws, conversion=p.conversion)


def run_events(ws: Workspace, p: Params) -> Result:
    """``kundresa.recent_events(ws, ...)``."""
    from kundresa._overview import recent_events

    return recent_events(
        ws,
        limit=p.limit,
        event_id=p.event_id,
        user_id=p.user_id,
        anonymous_id=p.anonymous_id,
        person_id=p.person_id,
    )


_HERE = "kundresa._catalog.workspace"
_PAGES = "kundresa.server._pages_workspace"

declare(
    Analysis(
        name="overview",
        titles={"en": "Overview", "sv": "Översikt", "nb": "Oversikt"},
        help="Workspace counts, events per day by channel, active and converted persons per day.",
        params=(Param("conversion", "event", "Order Completed", "The conversion event."),),
        run=f"{_HERE}:run_overview",
        python="kundresa:overview",
        page=f"{_PAGES}:render_overview",
    )
)
declare(
    Analysis(
        name="info",
        titles={"en": "Workspace", "sv": "Arbetsyta", "nb": "Arbeidsområde"},
        help="Counts of events, persons, sessions, channels and merges.",
        params=(),
        run=f"{_HERE}:run_info",
        quick=f"{_HERE}:quick_info",
        python="kundresa:Workspace.info",
        page=f"{_PAGES}:render_info",
    )
)
declare(
    Analysis(
        name="events",
        titles={"en": "Live events", "sv": "Händelser just nu", "nb": "Hendelser nå"},
        help="Stored events, newest first (after validation and stitching).",
        params=(
            Param("limit", "int", 50, "How many events to show.", minimum=1, maximum=1000),
            Param("event_id", "text", None, "messageId / event id."),
            Param("user_id", "text", None, "Only this user id."),
            Param("anonymous_id", "text", None, "Only this device."),
            Param("person_id", "text", None, "Only this person."),
        ),
        run=f"{_HERE}:run_events",
        python="kundresa:recent_events",
        page=f"{_PAGES}:render_events",
    )
)
declare(
    Analysis(
        name="quarantine",
        titles={"en": "Quarantine", "sv": "Karantän", "nb": "Karantene"},
        help="Rejected rows with the reason, the field, the fix and the raw row.",
        params=(
            Param("limit", "int", 20, "How many rows to show.", minimum=1, maximum=1000),
            Param("reason", "text", None, "Only rows of this reason."),
        ),
        run=f"{_HERE}:run_quarantine",
        python="kundresa:Workspace.quarantine",
        page=f"{_PAGES}:render_quarantine",
    )
)
