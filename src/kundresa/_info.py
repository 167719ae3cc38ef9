"""The workspace's counts (``kundresa info``), and a reader of them that needs no engine.

:meth:`kundresa.Workspace.info` computes :class:`InfoResult` on any engine (through Ibis);
:func:`read_info` answers the same from a DuckDB workspace file with plain DuckDB SQL on a
read-only connection, so that ``kundresa info`` starts without loading Ibis or Arrow.

>>> import tempfile, pathlib
>>> from kundresa import Workspace
>>> path = pathlib.Path(tempfile.mkdtemp()) / "k.duckdb"
>>> with Workspace.open(path) as ws:
...     _ = ws.events()
>>> read_info(path).events
0
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kundresa._results import Result

__all__ = ["InfoResult", "read_info"]

#: the call types that are touchpoints: a light copy of ``kundresa.schema.TOUCHPOINT_TYPES``
#: (that module loads Arrow; a test keeps the two equal)
TOUCHPOINT_TYPES = ("track", "page", "screen")


@dataclass(frozen=True)
class InfoResult(Result):
    """Counts that describe a workspace.

    >>> InfoResult(events=0, touchpoint_events=0, persons=0, sessions=0, channels={},
    ...            first_ts=None, last_ts=None, merged_persons=0, identifiers=0,
    ...            quarantined=0, engine="duckdb").to_dict()["persons"]
    0
    """

    events: int
    touchpoint_events: int
    persons: int
    sessions: int
    channels: Mapping[str, int]
    first_ts: str | None
    last_ts: str | None
    merged_persons: int
    identifiers: int
    quarantined: int
    #: run metadata: never compared nor hashed
    engine: str = field(compare=False)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            [{"channel": c, "events": n} for c, n in self.channels.items()],
            columns=["channel", "events"],
        )

    def plot(self) -> Any:
        import plotly.express as px

        return px.bar(self.to_frame(), x="channel", y="events", title="Events by channel")

    def __str__(self) -> str:
        width = max((len(c) for c in self.channels), default=7)
        top = max(self.channels.values(), default=1)
        lines = [
            f"engine        {self.engine}",
            f"events        {self.events:,} ({self.touchpoint_events:,} touchpoints)",
            f"persons       {self.persons:,} ({self.merged_persons:,} merged from several ids)",
            f"identifiers   {self.identifiers:,}",
            f"sessions      {self.sessions:,}",
            f"date range    {self.first_ts or '-'} .. {self.last_ts or '-'}",
            f"quarantined   {self.quarantined:,}",
            f"channels      {len(self.channels)}",
        ]
        for c, n in self.channels.items():
            bar = "#" * max(1, round(30 * n / top))
            lines.append(f"  {c:<{width}}  {n:>10,}  {bar}")
        return "\n".join(lines)


def read_info(path: str | os.PathLike[str]) -> InfoResult | None:
    """:meth:`~kundresa.Workspace.info` of the DuckDB workspace file at ``path``, read by
    plain DuckDB on a read-only connection; ``None`` when it cannot be answered that way
    (no such file, no events table yet, the file held by another process, not a DuckDB
    file): then open the workspace and ask it.

    >>> read_info("no-such-workspace.duckdb") is None
    True
    """
    if not os.path.isfile(path):
        return None
    import duckdb

    try:
        con = _connect(path)
    except duckdb.Error:
        return None
    try:
        return _read(con)
    except duckdb.Error:
        return None
    finally:
        con.close()


def _connect(path: str | os.PathLike[str]) -> Any:
    """A read-only DuckDB connection, set up as the store's: DuckDB's progress bar never on
    stdout (it would corrupt ``--json``), timestamps in UTC."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET enable_progress_bar=false")
        con.execute("SET TimeZone='UTC'")
    except duckdb.Error:
        con.close()
        raise
    return con


def _read(con: Any) -> InfoResult | None:
    names = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = current_schema()"
        ).fetchall()
    }
    if "events" not in names:
        return None
    touchpoint = f"type IN ({', '.join(repr(t) for t in TOUCHPOINT_TYPES)})"
    events, touchpoints, persons, sessions, first, last = con.execute(
        f"SELECT count(*), count_if({touchpoint}), count(DISTINCT person_id), "
        "count(DISTINCT session_id), min(ts), max(ts) FROM events"
    ).fetchone()
    channels = con.execute(
        f"SELECT channel, count(*) AS n FROM events WHERE {touchpoint} "
        "GROUP BY channel ORDER BY n DESC, channel ASC"
    ).fetchall()
    identifiers = merged = 0
    if "identities" in names:
        identifiers, merged = con.execute(
            "SELECT sum(n), count_if(n > 1) "
            "FROM (SELECT count(*) AS n FROM identities GROUP BY person_id)"
        ).fetchone()
    quarantined = 0
    if "quarantine" in names:
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    return InfoResult(
        events=int(events or 0),
        touchpoint_events=int(touchpoints or 0),
        persons=int(persons or 0),
        sessions=int(sessions or 0),
        channels={str(c): int(n) for c, n in channels},
        first_ts=first.isoformat() if first is not None else None,
        last_ts=last.isoformat() if last is not None else None,
        merged_persons=int(merged or 0),
        identifiers=int(identifiers or 0),
        quarantined=int(quarantined or 0),
        engine="duckdb",
    )
