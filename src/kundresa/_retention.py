"""Retention policy: events and quarantined rows older than a horizon are erased (issue 14).

A policy keeps events for ``events`` (a duration such as ``400d``) and quarantined rows for
``quarantine`` (``30d``); either may be ``None`` (kept for ever). It is stored in the
workspace itself (the ``meta`` table: a workspace has no configuration file), so every
process that opens the workspace, the server included, applies the same policy.

Applying it (:func:`apply_retention`) deletes, the way ``forget`` does:

- events whose *event time* ``ts`` is before the events horizon (not ``ingested_at``: a
  backfill of two-year-old events is two years old);
- quarantined rows whose ``quarantined_at`` is before the quarantine horizon (a rejected
  row often has no readable time of its own);
- what is derived from the deleted events: identifier keys last seen before the horizon
  (no kept event carries them), identity links older than the horizon that join such a key,
  and then, by stitching again, the identities, persons and sessions built from them;
- then the DuckDB file is rewritten (:meth:`kundresa._store.Store.erase_freed`) so that no
  deleted byte remains in it or in its WAL.

New events older than the events horizon are dropped and counted (``expired``), never
stored or quarantined (:func:`drop_expired`): quarantining them would store exactly the data
the policy forbids.

>>> import tempfile, pathlib
>>> from kundresa import Workspace
>>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
>>> print(set_retention_policy(ws, RetentionPolicy(events="400d", quarantine="30d")))
retention policy: events 400d, quarantine 30d
>>> apply_retention(ws).deleted["events"]
0
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kundresa._errors import InvalidOptionError
from kundresa._results import Result
from kundresa._util import MAX_DURATION_SECONDS, format_duration, parse_duration

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = [
    "META_KEY",
    "ErasedFile",
    "RetentionPolicy",
    "RetentionReport",
    "apply_retention",
    "drop_expired",
    "events_horizon",
    "file_sizes",
    "parse_keep",
    "retention_policy",
    "set_retention_policy",
    "updated_policy",
]

#: the ``meta`` key the policy is stored under (JSON)
META_KEY = "retention"
#: the shortest horizon: anything shorter is almost surely minutes written for months
MIN_SECONDS = 86400
#: what removes one part of the policy (keep for ever)
KEEP_FOREVER = ("none", "off", "forever")
_TABLES = ("events", "quarantine", "identity_keys", "identity_links", "identities")


def parse_keep(value: str | None, option: str) -> str | None:
    """How long ``option`` keeps data: a duration of at least one day (normalised, e.g.
    ``"336h"`` -> ``"2w"``), or None for ``none``/``off``/``forever`` (and None).

    >>> parse_keep("400d", "--events"), parse_keep("336h", "--events"), parse_keep("none", "-")
    ('400d', '2w', None)
    >>> parse_keep("30m", "--quarantine")
    Traceback (most recent call last):
    ...
    kundresa.InvalidOptionError: --quarantine: '30m' is not allowed; keep data at least 1d ...
    """
    if value is None or str(value).strip().lower() in KEEP_FOREVER:
        return None
    text = str(value).strip().lower()
    fix = (
        "keep data at least 1d and at most 3650d: a number and a unit d or w (m is "
        "minutes; years as days, e.g. 400d), or none to keep it for ever"
    )
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*[smhdw]", text):
        raise InvalidOptionError(option, value, fix=fix)
    seconds = parse_duration(text, option, maximum=MAX_DURATION_SECONDS * 10).total_seconds()
    if not MIN_SECONDS <= seconds <= MAX_DURATION_SECONDS:
        raise InvalidOptionError(option, value, fix=fix)
    return format_duration(seconds)


@dataclass(frozen=True)
class RetentionPolicy(Result):
    """How long a workspace keeps events and quarantined rows (None: for ever).

    >>> p = RetentionPolicy(events="400d")
    >>> print(p)
    retention policy: events 400d, quarantine kept for ever
    >>> p.horizons(dt.datetime(2026, 12, 4))[0]
    datetime.datetime(2025, 10, 30, 0, 0)
    """

    events: str | None = None
    quarantine: str | None = None

    @property
    def active(self) -> bool:
        """Whether anything is ever erased."""
        return self.events is not None or self.quarantine is not None

    def horizons(self, now: dt.datetime | None = None) -> tuple[dt.datetime | None, ...]:
        """``(events horizon, quarantine horizon)``: rows before them go (naive UTC)."""
        now = now or _utcnow()
        return tuple(
            None if keep is None else now - parse_duration(keep, name)
            for name, keep in (("--events", self.events), ("--quarantine", self.quarantine))
        )

    def __str__(self) -> str:
        if not self.active:
            return "no retention policy: events and quarantined rows are kept for ever"
        ev = f"events {self.events}" if self.events else "events kept for ever"
        q = f"quarantine {self.quarantine}" if self.quarantine else "quarantine kept for ever"
        return f"retention policy: {ev}, {q}"


@dataclass(frozen=True)
class ErasedFile:
    """One file's size before and after erasing (bytes; 0: absent).

    >>> ErasedFile("w.duckdb", 4096, 2048).bytes_freed
    2048
    """

    path: str
    bytes_before: int
    bytes_after: int

    @property
    def bytes_freed(self) -> int:
        """How much smaller the file became."""
        return self.bytes_before - self.bytes_after


@dataclass(frozen=True)
class RetentionReport(Result):
    """What one application of the policy erased where: rows per table and the bytes of
    each file before and after.

    >>> r = RetentionReport(policy=RetentionPolicy(events="400d"), deleted={"events": 3},
    ...                     files=(ErasedFile("w.duckdb", 8192, 4096),), rewritten=True)
    >>> print(r)
    retention policy: events 400d, quarantine kept for ever
    erased rows: events 3
      w.duckdb: 8,192 -> 4,096 bytes (4,096 freed)
    >>> r.to_dict()["files"][0]["bytes_freed"]
    4096
    """

    policy: RetentionPolicy
    #: rows deleted per table (``inbox``: the server's SQLite inbox)
    deleted: Mapping[str, int] = field(default_factory=dict)
    #: the horizons applied (ISO 8601, UTC), None where the policy keeps for ever
    events_before: str | None = None
    quarantine_before: str | None = None
    applied_at: str = ""
    files: tuple[ErasedFile, ...] = ()
    #: whether the DuckDB file was rewritten (only when rows were deleted; Spark replaces
    #: each changed table's Parquet files instead)
    rewritten: bool = False

    @property
    def total(self) -> int:
        """Rows deleted in all tables."""
        return sum(self.deleted.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (files with their ``bytes_freed``)."""
        out = super().to_dict()
        out["files"] = [{**vars(f), "bytes_freed": f.bytes_freed} for f in self.files]
        return out

    def __str__(self) -> str:
        lines = [str(self.policy)]
        if not self.policy.active:
            return lines[0]
        cuts = (("events", self.events_before), ("quarantine", self.quarantine_before))
        horizons = [f"{name} before {when}" for name, when in cuts if when]
        if horizons:
            lines.append("horizons: " + ", ".join(horizons))
        rows = ", ".join(f"{t} {n:,}" for t, n in self.deleted.items() if n)
        lines.append(f"erased rows: {rows}" if rows else "erased rows: none")
        for f in self.files:
            lines.append(
                f"  {f.path}: {f.bytes_before:,} -> {f.bytes_after:,} bytes"
                + (f" ({f.bytes_freed:,} freed)" if f.bytes_freed > 0 else "")
            )
        if not self.total:
            lines.append("no file rewritten (nothing was deleted)")
        elif not self.rewritten:  # Spark: each table's Parquet files were replaced
            lines.append("the tables' files were replaced (their old files deleted)")
        return "\n".join(lines)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def retention_policy(ws: Workspace) -> RetentionPolicy:
    """The policy stored in ``ws`` (an empty one when none is set).

    >>> from kundresa import Workspace
    >>> retention_policy(Workspace.open(":memory:")).active
    False
    """
    raw = ws._meta.get(META_KEY) or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        data = {}
    return RetentionPolicy(events=data.get("events"), quarantine=data.get("quarantine"))


def set_retention_policy(ws: Workspace, policy: RetentionPolicy) -> RetentionPolicy:
    """Store ``policy`` in ``ws`` (validated; not yet applied: see :func:`apply_retention`).

    >>> from kundresa import Workspace
    >>> ws = Workspace.open(":memory:")
    >>> set_retention_policy(ws, RetentionPolicy(quarantine="30d")).quarantine
    '30d'
    >>> retention_policy(ws).quarantine
    '30d'
    """
    policy = RetentionPolicy(
        events=parse_keep(policy.events, "events"),
        quarantine=parse_keep(policy.quarantine, "quarantine"),
    )
    ws._set_meta(META_KEY, json.dumps({"events": policy.events, "quarantine": policy.quarantine}))
    return policy


def updated_policy(
    current: RetentionPolicy,
    *,
    events: str | None = None,
    quarantine: str | None = None,
    off: bool = False,
) -> RetentionPolicy:
    """``current`` with the parts given changed (None: unchanged; ``"none"``: kept for ever);
    ``off`` removes the whole policy. Validates each option (``--events``, ``--quarantine``).

    >>> updated_policy(RetentionPolicy("400d", "30d"), quarantine="none")
    RetentionPolicy(events='400d', quarantine=None)
    >>> updated_policy(RetentionPolicy("400d"), off=True).active
    False
    """
    if off:
        if events is not None or quarantine is not None:
            raise InvalidOptionError(
                "--off", True, fix="give --off alone (it removes the whole policy)"
            )
        return RetentionPolicy()
    return RetentionPolicy(
        events=current.events if events is None else parse_keep(events, "--events"),
        quarantine=(
            current.quarantine if quarantine is None else parse_keep(quarantine, "--quarantine")
        ),
    )


def events_horizon(ws: Workspace, now: dt.datetime | None = None) -> dt.datetime | None:
    """Events before this time are not kept (None: no events horizon).

    >>> from kundresa import Workspace
    >>> events_horizon(Workspace.open(":memory:")) is None
    True
    """
    return retention_policy(ws).horizons(now)[0]


def drop_expired(proc: Any, horizon: dt.datetime | None) -> int:
    """Delete the staged rows of an ingest chunk (``proc``: the ingest's processor, table
    ``staged``) whose event time is before ``horizon``, valid or not (a row out of range,
    before 1970, keeps its quarantine reason); return how many.

    >>> from kundresa._ingest import _Processor
    >>> p = _Processor(identifiers=(), salt="s")
    >>> _ = p.con.execute("CREATE TABLE staged AS SELECT TIMESTAMP '2020-01-01' AS ts, "
    ...                   "NULL::VARCHAR AS _reason")
    >>> drop_expired(p, dt.datetime(2025, 1, 1)), drop_expired(p, dt.datetime(2025, 1, 1))
    (1, 0)
    """
    if horizon is None:
        return 0
    where = "ts < ? AND _reason IS DISTINCT FROM 'timestamp_out_of_range'"
    row = proc.con.execute(f"SELECT count(*) FROM staged WHERE {where}", [horizon]).fetchone()
    n = int(row[0]) if row else 0
    if n:
        proc.con.execute(f"DELETE FROM staged WHERE {where}", [horizon])
    return n


def file_sizes(paths: list[str]) -> dict[str, int]:
    """Each file's size in bytes (0 when absent).

    >>> file_sizes(["/nonexistent/w.duckdb"])
    {'/nonexistent/w.duckdb': 0}
    """
    out = {}
    for p in paths:
        try:
            out[p] = os.stat(p).st_size
        except OSError:
            out[p] = 0
    return out


def _workspace_files(ws: Workspace) -> list[str]:
    path = str(getattr(ws.store, "path", ""))
    if not ws.store.supports("single_file") or path in ("", ":memory:"):
        return []
    return [path, f"{path}.wal"]


def _count(ws: Workspace, name: str, cond: Any = None) -> int:
    t = ws.store.table(name)
    if cond is not None:
        t = t.filter(cond(t))
    out = ws.store.fetch(t.aggregate(n=t.count()))
    return int(out.column("n")[0].as_py() or 0)


def _delete(ws: Workspace, name: str, gone: Any) -> int:
    """Delete the rows of table ``name`` for which ``gone(table)`` holds; return how many."""
    store = ws.store
    if not store.exists(name):
        return 0
    n = _count(ws, name, gone)
    if n:
        t = store.table(name)
        store.replace(name, t.filter(~gone(t)))
    return n


def apply_retention(
    ws: Workspace, *, now: dt.datetime | None = None, policy: RetentionPolicy | None = None
) -> RetentionReport:
    """Erase what the policy of ``ws`` (or ``policy``) no longer keeps, as ``forget`` does:
    old events and what is derived from them, old quarantined rows, and then every freed byte
    of the DuckDB file (rewritten only when rows were deleted).

    >>> import tempfile, pathlib
    >>> from kundresa import Workspace
    >>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
    >>> print(apply_retention(ws))
    no retention policy: events and quarantined rows are kept for ever
    >>> _ = set_retention_policy(ws, RetentionPolicy(events="400d"))
    >>> print(apply_retention(ws, now=dt.datetime(2026, 12, 4)))
    retention policy: events 400d, quarantine kept for ever
    horizons: events before 2025-10-30T00:00:00
    erased rows: none
      ...w.duckdb: ... bytes
    no file rewritten (nothing was deleted)
    """
    import ibis

    policy = policy or retention_policy(ws)
    if not policy.active:
        return RetentionReport(policy=policy)
    now = (now or _utcnow()).replace(microsecond=0)
    ev_h, q_h = policy.horizons(now)
    store = ws.store
    paths = _workspace_files(ws)
    before = file_sizes(paths)
    deleted = dict.fromkeys(_TABLES, 0)
    if ev_h is not None:
        h = ibis.literal(ev_h, type="timestamp")
        deleted["events"] = _delete(ws, "events", lambda t: t.ts < h)
        deleted["identity_keys"] = _delete(ws, "identity_keys", lambda t: t.last_seen < h)
        if deleted["identity_keys"]:
            kept = store.table("identity_keys").select("key")
            deleted["identity_links"] = _delete(
                ws,
                "identity_links",
                lambda t: (t.first_seen < h) & (~t.key_a.isin(kept.key) | ~t.key_b.isin(kept.key)),
            )
        if (deleted["events"] or deleted["identity_keys"]) and store.exists("identity_keys"):
            # no kept row says an identifier was seen before the horizon
            kt = store.table("identity_keys")
            if _count(ws, "identity_keys", lambda t: t.first_seen < h):
                store.replace(
                    "identity_keys",
                    kt.mutate(first_seen=ibis.greatest(kt.first_seen, h)),
                )
    if q_h is not None:
        hq = ibis.literal(q_h, type="timestamp")
        deleted["quarantine"] = _delete(
            ws, "quarantine", lambda t: t.quarantined_at.isnull() | (t.quarantined_at < hq)
        )
    changed = sum(deleted.values()) > 0
    if deleted["events"] or deleted["identity_keys"] or deleted["identity_links"]:
        known = _count(ws, "identities") if store.exists("identities") else 0
        ws.stitch()  # identities, persons and sessions of what is kept
        deleted["identities"] = max(known - _count(ws, "identities"), 0)
    report = RetentionReport(
        policy=policy,
        deleted=deleted,
        events_before=ev_h.isoformat() if ev_h else None,
        quarantine_before=q_h.isoformat() if q_h else None,
        applied_at=now.isoformat(timespec="seconds"),
    )
    if changed:
        ws._set_meta("retention_applied", json.dumps({"at": report.applied_at, "rows": deleted}))
        ws._cache.clear()  # derived results may hold deleted rows
        store.erase_freed()
    after = file_sizes(paths)
    files = tuple(ErasedFile(p, before[p], after[p]) for p in paths if before[p] or after[p])
    return replace(report, files=files, rewritten=changed and bool(paths))


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
