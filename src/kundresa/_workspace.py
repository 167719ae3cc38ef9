"""The workspace: an event store on DuckDB (default) or Spark, and its front door.

>>> import tempfile, pathlib
>>> ws = Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "k.duckdb")
>>> ws.engine
'duckdb'
>>> ws.info().events
0
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ibis
import pyarrow as pa

from kundresa._errors import InvalidOptionError, KundresaError, NotFoundError
from kundresa._info import InfoResult
from kundresa._ingest import IngestReport, ingest_files
from kundresa._ingest_sql import DEFAULT_IDENTIFIERS, IdentifierRule
from kundresa._pii import PiiRules
from kundresa._results import Result
from kundresa._stitch import SessionConfig, StitchReport, stitch_store
from kundresa._store import ENGINES, Store, open_store
from kundresa.schema import EVENTS, FORGOTTEN, QUARANTINE, TOUCHPOINT_TYPES

__all__ = ["DEFAULT_DB", "ForgetResult", "InfoResult", "QuarantineResult", "Workspace"]


def duckdb_scalar(expr: str, value: str) -> str | None:
    """Evaluate a SQL expression of ``x`` (= ``value``) in a scratch DuckDB (hashing
    identifiers)."""
    import duckdb

    row = duckdb.execute(f"SELECT {expr} FROM (SELECT ?::VARCHAR AS x)", [value]).fetchone()
    return None if row is None or row[0] is None else str(row[0])


DEFAULT_DB = "kundresa.duckdb"
DEFAULT_SPARK_DIR = "kundresa_spark"
SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class QuarantineResult(Result):
    """Rejected rows with their reason, field, fix and the raw row.

    >>> QuarantineResult(total=0, by_reason={}, rows=()).to_dict()
    {'total': 0, 'by_reason': {}, 'rows': []}
    """

    total: int
    by_reason: Mapping[str, int]
    rows: tuple[Mapping[str, Any], ...]

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=QUARANTINE.names)

    def __str__(self) -> str:
        lines = [f"{self.total:,} quarantined rows"]
        lines += [f"  {n:>8,}  {r}" for r, n in self.by_reason.items()]
        for r in self.rows:
            raw = (r.get("raw") or "")[:80]
            lines.append(f"- {r['source']}:{r['row_number']}  {r['reason']}  {r['detail']}")
            lines.append(f"    {raw}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ForgetResult(Result):
    """What :meth:`Workspace.forget` deleted.

    >>> ForgetResult(person_id="p-1", identifiers=2, events=5, quarantined=0).to_dict()["events"]
    5
    """

    person_id: str | None
    identifiers: int
    events: int
    quarantined: int
    #: identifier keys kept as salted-hash tombstones: later arrivals are dropped
    tombstones: int = 0
    #: files rewritten so that no deleted byte remains (the DuckDB file)
    rewritten: tuple[str, ...] = ()
    #: collector inbox requests (everyone's) loaded before erasing, so that none of the
    #: person's waits there (their events among them are counted in ``events``); the
    #: server's state file is then among ``rewritten``
    inbox: int = 0
    #: exported files (``--out``) that held the person: overwritten with zeros and removed
    exports: tuple[str, ...] = ()
    #: exports that could not be looked into (PNG, PDF): their owner should check them
    exports_unchecked: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.person_id is None:
            return "no such person; nothing deleted"
        where = f"; rewrote {', '.join(self.rewritten)}" if self.rewritten else ""
        if self.exports:
            where += f"; erased the exports {', '.join(self.exports)}"
        if self.exports_unchecked:
            where += f"; check these exports by hand: {', '.join(self.exports_unchecked)}"
        inbox = (
            f"; first loaded {self.inbox:,} waiting server inbox requests (counted above)"
            if self.inbox
            else ""
        )
        return (
            f"forgot {self.person_id}: {self.events:,} events, {self.identifiers:,} identifiers, "
            f"{self.quarantined:,} quarantined rows; {self.tombstones:,} identifiers "
            f"kept as hashed tombstones (later arrivals are dropped){inbox}{where}"
        )


class Workspace:
    """An event store on one engine, with ingest, stitching and summaries.

    Open with :meth:`open`; DuckDB by default (``./kundresa.duckdb`` or ``$KUNDRESA_DB``),
    Spark with ``engine="spark"`` (a folder of Parquet tables; pass ``spark=`` to use an
    existing ``SparkSession``, e.g. on a cluster).
    """

    def __init__(self, store: Store, *, hash_pii: bool | None = None) -> None:
        self.store = store
        self._meta = self._load_meta(hash_pii)
        self._cache: dict[str, tuple[Any, Any, Any]] = {}
        #: whether PII identifiers (e-mail, phone) are stored as salted hashes; fixed when the
        #: workspace is created, so that one person's identifiers always compare equal
        self.hash_pii = self._meta["hash_pii"] == "true"
        if hash_pii is not None and hash_pii != self.hash_pii:
            raise InvalidOptionError(
                "hash_pii",
                hash_pii,
                fix=f"this workspace was created with hash_pii={self.hash_pii}; "
                "open it without hash_pii or create a new workspace",
            )

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        engine: str | None = None,
        spark: Any = None,
        hash_pii: bool | None = None,
    ) -> Workspace:
        """Open (creating if needed) the workspace at ``path`` on ``engine``.

        ``hash_pii`` (default True for a new workspace) is fixed at creation.

        >>> import tempfile, pathlib
        >>> Workspace.open(pathlib.Path(tempfile.mkdtemp()) / "x.duckdb").engine
        'duckdb'
        """
        engine = engine or os.environ.get("KUNDRESA_ENGINE", "duckdb")
        if engine not in ENGINES:
            raise InvalidOptionError("engine", engine, allowed=ENGINES)
        default = {"spark": DEFAULT_SPARK_DIR}.get(engine, DEFAULT_DB)
        where = str(path) if path is not None else os.environ.get("KUNDRESA_DB", default)
        return cls(open_store(engine, where, spark=spark), hash_pii=hash_pii)

    @property
    def engine(self) -> str:
        """``duckdb`` or ``spark``."""
        return self.store.engine

    def close(self) -> None:
        """Close the connection (DuckDB releases its file lock)."""
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- metadata ------------------------------------------------------------------------
    def _load_meta(self, hash_pii: bool | None) -> dict[str, str]:
        schema = pa.schema([("key", pa.string()), ("value", pa.string())])
        self.store.ensure("meta", schema)
        meta = {
            r["key"]: r["value"] for r in self.store.fetch(self.store.table("meta")).to_pylist()
        }
        fresh = {}
        if "salt" not in meta:
            fresh["salt"] = secrets.token_hex(16)
        if "schema_version" not in meta:
            fresh["schema_version"] = SCHEMA_VERSION
        if "hash_pii" not in meta:
            fresh["hash_pii"] = "false" if hash_pii is False else "true"
        if fresh:
            self.store.append(
                "meta",
                pa.table({"key": list(fresh), "value": list(fresh.values())}, schema=schema),
            )
            meta.update(fresh)
        return meta

    def _set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value
        schema = pa.schema([("key", pa.string()), ("value", pa.string())])
        self.store.replace(
            "meta",
            pa.table({"key": list(self._meta), "value": list(self._meta.values())}, schema=schema),
        )

    @property
    def salt(self) -> str:
        """The salt for hashing PII identifiers (``$KUNDRESA_SALT`` overrides the stored one)."""
        return os.environ.get("KUNDRESA_SALT") or self._meta["salt"]

    @property
    def session_config(self) -> SessionConfig:
        """The session rules in force (set with :meth:`stitch`)."""
        raw = self._meta.get("sessions")
        if not raw:
            return SessionConfig()
        d = json.loads(raw)
        return SessionConfig(
            session_gap=d.get("session_gap", d.get("gap", "30m")),  # "gap": saved before 0.2
            start_events=tuple(d["start_events"]),
            separate_channels=tuple(d["separate_channels"]),
        )

    @property
    def pii_rules(self) -> PiiRules:
        """The personal-data rules applied at ingest and by the collector (see
        :class:`kundresa.PiiRules`; set with :meth:`set_pii_rules`). The default follows
        ``hash_pii``: on, unless the workspace was created with ``hash_pii=False``.

        >>> Workspace.open(":memory:").pii_rules.enabled
        True
        """
        raw = self._meta.get("pii")
        if not raw:
            return PiiRules(enabled=self.hash_pii)
        return PiiRules.from_dict(json.loads(raw))

    def set_pii_rules(self, rules: PiiRules) -> PiiRules:
        """Store the personal-data rules for later ingests (and a server started later;
        events already stored are not rewritten).

        >>> ws = Workspace.open(":memory:")
        >>> ws.set_pii_rules(PiiRules(drop_keys=("order.note",), scan_text=False)).scan_text
        False
        >>> ws.pii_rules.drop_keys
        ('order.note',)
        """
        if not isinstance(rules, PiiRules):
            raise InvalidOptionError(
                "rules", rules, fix="pass a kundresa.PiiRules, e.g. PiiRules(drop_keys=('note',))"
            )
        self._set_meta("pii", json.dumps(rules.to_dict(), sort_keys=True))
        return rules

    def pii_hash(self, value: str, kind: str = "email") -> str | None:
        """How ``value`` (an e-mail address, ``kind="email"``, or a phone number,
        ``"phone"``) is stored: its salted hash, as in ``identities`` and in properties
        (the free-text token is ``email:`` + this hash). Use it to look a person up.

        >>> ws = Workspace.open(":memory:")
        >>> ws.pii_hash(" Alice@Example.org") == ws.pii_hash("alice@example.org")
        True
        """
        if kind not in ("email", "phone"):
            raise InvalidOptionError("kind", kind, allowed=("email", "phone"))
        return self.pii_rules.hash_value(value, kind, salt=self.salt)

    def identifier_rules(self) -> tuple[IdentifierRule, ...]:
        """Identifier rules in force; PII hashing switched off when ``hash_pii=False``."""
        if self.hash_pii:
            return DEFAULT_IDENTIFIERS
        return tuple(replace(r, pii=False) for r in DEFAULT_IDENTIFIERS)

    # -- tables --------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """An Ibis table of the store (``events``, ``identities``, ``quarantine``, ...)."""
        return self.store.table(name)

    def events(self, *, touchpoints_only: bool = True) -> ibis.Table:
        """The events table; by default only touchpoints (track, page, screen calls).

        >>> ws = Workspace.open(":memory:")
        >>> ws.events().columns[:3]
        ('event_id', 'person_id', 'person_key')
        """
        if not self.store.exists("events"):
            self.store.ensure("events", EVENTS)
        t = self.store.table("events")
        return t.filter(t.type.isin(list(TOUCHPOINT_TYPES))) if touchpoints_only else t

    def event_names(self) -> list[str]:
        """Distinct event names, most frequent first.

        >>> Workspace.open(":memory:").event_names()
        []
        """
        t = self.events()
        counts = t.group_by("event").aggregate(n=t.count()).order_by(ibis.desc("n"))
        return [str(e) for e in self.store.fetch(counts).column("event").to_pylist()]

    def require_event(self, name: str) -> None:
        """Raise :class:`NotFoundError` with the closest names when ``name`` never occurs.

        >>> Workspace.open(":memory:").require_event("Order Completed")
        Traceback (most recent call last):
        ...
        kundresa.NotFoundError: event: 'Order Completed' not found
        """
        names = self.event_names()
        if name not in names:
            raise NotFoundError("event", name, candidates=names)

    def cache(self, key: str, part: Any, fingerprint: Any, build: Callable[[], Any]) -> Any:
        """A value derived from this workspace, rebuilt when ``fingerprint`` changes.

        One entry per ``key`` (an analysis' name) is kept: a different ``part`` (e.g. the
        rules) or ``fingerprint`` (e.g. the events' count and latest ingest) replaces it,
        which bounds memory.

        >>> ws = Workspace.open(":memory:")
        >>> ws.cache("demo", "rules", 1, lambda: [1]) is ws.cache("demo", "rules", 1, list)
        True
        >>> ws.cache("demo", "rules", 2, lambda: "rebuilt")
        'rebuilt'
        """
        hit = self._cache.get(key)
        if hit is not None and hit[0] == part and hit[1] == fingerprint:
            return hit[2]
        value = build()
        self._cache[key] = (part, fingerprint, value)
        return value

    def sql(self, query: str) -> pa.Table:
        """Run SQL on the workspace's engine (DuckDB SQL or Spark SQL) and return Arrow.

        >>> Workspace.open(":memory:").sql("select 1 as one").to_pylist()
        [{'one': 1}]
        """
        return self.store.fetch_sql(query)

    # -- loading -------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        format: str | None = None,
        mapping: dict[str, str] | None = None,
        stitch: bool = True,
        progress: Callable[[str, int, int], None] | None = None,
        timestamp_format: str | None = None,
        timezone: str | None = None,
        constants: dict[str, str] | None = None,
    ) -> IngestReport:
        """Load files (see :mod:`kundresa._ingest`), then stitch identities and sessions.

        ``progress(stage, done, total)`` is called as rows are written (the stage is the
        file), then with the stage ``"stitch"`` (total 0: unknown) before stitching.
        ``timestamp_format``: strptime codes for text timestamps (``"%Y%m%d"``);
        ``timezone``: the zone of timestamps without an offset (default UTC); ``constants``:
        fields set on every row (``{"event": "Order Completed", "properties.src": "crm"}``)."""
        try:
            files = ingest_files(
                self,
                paths,
                fmt=format,
                mapping=mapping,
                identifiers=self.identifier_rules(),
                progress=progress,
                timestamp_format=timestamp_format,
                timezone=timezone,
                constants=constants,
            )
        except KundresaError:
            if stitch and self._unstitched():  # rows written before a damaged part (a cut
                self.stitch()  # gzip) are stitched too; a refused option wrote nothing
            raise
        if stitch and progress is not None:
            progress("stitch", 0, 0)
        merged = self.stitch().merged_persons if stitch else 0
        return IngestReport(
            accepted=sum(f.accepted for f in files),
            duplicates=sum(f.duplicates for f in files),
            quarantined=sum(f.quarantined for f in files),
            files=tuple(files),
            merged_persons=merged,
            forgotten=sum(f.forgotten for f in files),
            expired=sum(f.expired for f in files),
        )

    def _unstitched(self) -> bool:
        """Whether some stored event has no person yet (written since the last stitch)."""
        if not self.store.exists("events"):
            return False
        t = self.store.table("events")
        return bool(self.store.fetch(t.filter(t.person_id.isnull()).limit(1)).num_rows > 0)

    def stitch(self, sessions: SessionConfig | None = None) -> StitchReport:
        """Recompute persons and sessions for every event (replay).

        ``sessions`` is remembered for later ingests.

        >>> ws = Workspace.open(":memory:")
        >>> ws.stitch(SessionConfig(session_gap="45m")).persons
        0
        >>> ws.session_config.session_gap
        '45m'
        """
        if sessions is not None:
            self._set_meta(
                "sessions",
                json.dumps(
                    {
                        "session_gap": sessions.session_gap,
                        "start_events": list(sessions.start_events),
                        "separate_channels": list(sessions.separate_channels),
                    }
                ),
            )
        report = stitch_store(self.store, self.session_config)
        self._set_meta("last_stitch", report.to_json())
        return report

    def _count(self, table: ibis.Table) -> int:
        out = self.store.fetch(table.aggregate(n=table.count()))
        return int(out.column("n")[0].as_py() or 0)

    # -- privacy -------------------------------------------------------------------------
    def forget(self, identifier: str, *, id_type: str = "user_id") -> ForgetResult:
        """Delete one person everywhere: events, identities, identity links, and quarantined
        rows that mention any of their identifiers (right to erasure).

        ``identifier`` is any of the person's identifiers of ``id_type`` (``user_id``,
        ``anonymous_id``, ``email`` (raw; hashed like at ingest), ``loyalty_card``, ...), or a
        ``person_id`` with ``id_type="person_id"``.

        >>> print(Workspace.open(":memory:").forget("u-123"))
        no such person; nothing deleted
        """
        from kundresa._ingest_sql import _normalise

        allowed = ("person_id", "user_id", "anonymous_id", *(r.name for r in DEFAULT_IDENTIFIERS))
        if id_type not in allowed:
            raise InvalidOptionError("id_type", id_type, allowed=allowed)
        if self.store.exists("events"):
            ev = self.store.table("events")
            if self._count(ev.filter(ev.person_id.isnull()).limit(1)):
                # events loaded but not stitched yet (a server's inbox, drained): their
                # person is unknown until stitched, and would be missed
                self.stitch()
        if not self.store.exists("identities"):
            return ForgetResult(person_id=None, identifiers=0, events=0, quarantined=0)
        ids = self.store.table("identities")
        if id_type == "person_id":
            person = identifier
        else:
            value = identifier
            rule = next((r for r in self.identifier_rules() if r.name == id_type), None)
            if rule is not None and rule.pii:
                expr = _normalise(rule, "x", self.salt)
                row = duckdb_scalar(expr, identifier)
                value = row if row is not None else identifier
            found = (
                self.store.fetch(
                    ids.filter((ids.id_type == id_type) & (ids.identifier == value)).select(
                        "person_id"
                    )
                )
                .column("person_id")
                .to_pylist()
            )
            if not found:
                return ForgetResult(person_id=None, identifiers=0, events=0, quarantined=0)
            person = str(found[0])
        mine = self.store.fetch(ids.filter(ids.person_id == person)).to_pylist()
        keys = [f"{r['id_type']}:{r['identifier']}" for r in mine]
        values = [str(r["identifier"]) for r in mine]
        if id_type not in ("person_id", "user_id", "anonymous_id"):
            values.append(identifier)  # a raw e-mail may sit in a quarantined row
        ev = self.store.table("events")
        n_events = self._count(ev.filter(ev.person_id == person))
        # NULL-safe: ``person_id != person`` alone would drop every unstitched event
        self.store.replace("events", ev.filter(ev.person_id.isnull() | (ev.person_id != person)))
        self.store.replace("identities", ids.filter(ids.person_id != person))
        for name, cols in (("identity_keys", ("key",)), ("identity_links", ("key_a", "key_b"))):
            if self.store.exists(name) and keys:
                t = self.store.table(name)
                cond = ibis.and_(*[~t[c].isin(keys) for c in cols])
                self.store.replace(name, t.filter(cond))
        if self.store.exists("id_map") and keys:
            m = self.store.table("id_map")
            self.store.replace("id_map", m.filter(~m.key.isin(keys)))
        n_quarantined = 0
        if self.store.exists("quarantine") and values:
            q = self.store.table("quarantine")
            # JSON rows: the quoted value, any length; other raw text (CSV lines): values
            # long enough not to match by accident
            quoted = [q.raw.contains(f'"{v}"') for v in values]
            plain = [q.raw.contains(v) for v in values if len(v) >= 8]
            hit = ibis.or_(*quoted, *plain)
            # and JSON rows whose identifiers derive the person's keys (a raw e-mail whose
            # hash is all the workspace knows; whitespace, case): the ingest's own SQL
            from kundresa._erase import quarantined_with_keys

            by_key = quarantined_with_keys(self.store, keys, self.identifier_rules(), self.salt)
            if by_key:
                hit = hit | q.quarantine_id.isin(by_key)
            n_quarantined = self._count(q.filter(hit))
            if n_quarantined:
                self.store.replace("quarantine", q.filter(~hit))
        tombstones = self._tombstone(keys)
        self._cache.clear()  # derived results may hold the person's rows
        self.store.erase_freed()
        path = getattr(self.store, "path", "")
        from kundresa._exports import erase_exports

        exports, unchecked = erase_exports(str(path) or None, [*values, person])
        rewritten = (
            (str(path),) if self.store.supports("single_file") and path != ":memory:" else ()
        )
        return ForgetResult(
            person_id=person,
            identifiers=len(mine),
            events=n_events,
            quarantined=n_quarantined,
            tombstones=tombstones,
            rewritten=rewritten,
            exports=exports,
            exports_unchecked=unchecked,
        )

    def _tombstone(self, keys: Sequence[str]) -> int:
        """Keep ``sha256(salt || key)`` of each identifier key in ``forgotten``."""
        import datetime as dt
        import hashlib

        if not keys:
            return 0
        self.store.ensure("forgotten", FORGOTTEN)
        t = self.store.table("forgotten")
        known = set(self.store.fetch(t.select("key_hash")).column(0).to_pylist())
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        new = sorted({hashlib.sha256((self.salt + k).encode()).hexdigest() for k in keys} - known)
        if new:
            rows = pa.table({"key_hash": new, "forgotten_at": [now] * len(new)}, schema=FORGOTTEN)
            self.store.append("forgotten", rows)
        return len(new)

    # -- summaries -----------------------------------------------------------------------
    def info(self) -> InfoResult:
        """Counts of events, persons, sessions and channels, the date range and merges.

        >>> Workspace.open(":memory:").info().persons
        0
        """
        ev = self.events(touchpoints_only=False)
        agg = self.store.fetch(
            ev.aggregate(
                events=ev.count(),
                touchpoint_events=ev.type.isin(list(TOUCHPOINT_TYPES)).sum(),
                persons=ev.person_id.nunique(),
                sessions=ev.session_id.nunique(),
                first_ts=ev.ts.min(),
                last_ts=ev.ts.max(),
            )
        ).to_pylist()[0]
        tp = self.events()
        by_channel = self.store.fetch(
            tp.group_by("channel").aggregate(n=tp.count()).order_by([ibis.desc("n"), "channel"])
        ).to_pylist()
        merged = identifiers = 0
        if self.store.exists("identities"):
            ids = self.store.table("identities")
            per = ids.group_by("person_id").aggregate(n=ids.count())
            row = self.store.fetch(
                per.aggregate(identifiers=per.n.sum(), merged=(per.n > 1).sum())
            ).to_pylist()[0]
            identifiers, merged = int(row["identifiers"] or 0), int(row["merged"] or 0)
        first, last = agg["first_ts"], agg["last_ts"]
        return InfoResult(
            events=int(agg["events"] or 0),
            touchpoint_events=int(agg["touchpoint_events"] or 0),
            persons=int(agg["persons"] or 0),
            sessions=int(agg["sessions"] or 0),
            channels={str(r["channel"]): int(r["n"]) for r in by_channel},
            first_ts=first.isoformat() if first is not None else None,
            last_ts=last.isoformat() if last is not None else None,
            merged_persons=merged,
            identifiers=identifiers,
            quarantined=self.store.count("quarantine"),
            engine=self.engine,
        )

    def quarantine(self, *, limit: int = 20, reason: str | None = None) -> QuarantineResult:
        """The quarantined rows, optionally only those of one ``reason``.

        >>> Workspace.open(":memory:").quarantine().total
        0
        """
        self.store.ensure("quarantine", QUARANTINE)
        q = self.store.table("quarantine")
        by = self.store.fetch(
            q.group_by("reason").aggregate(n=q.count()).order_by([ibis.desc("n"), "reason"])
        ).to_pylist()
        by_reason = {str(r["reason"]): int(r["n"]) for r in by}
        if reason is not None and reason not in by_reason:
            raise NotFoundError("reason", reason, candidates=by_reason)
        sel = q if reason is None else q.filter(q.reason == reason)
        rows = self.store.fetch(sel.order_by(["source", "row_number"]).limit(limit)).to_pylist()
        for r in rows:
            r["quarantined_at"] = r["quarantined_at"].isoformat() if r["quarantined_at"] else None
        return QuarantineResult(
            total=sum(by_reason.values()), by_reason=by_reason, rows=tuple(rows)
        )

    def __repr__(self) -> str:
        where = getattr(self.store, "path", "?")
        return f"Workspace(engine={self.engine!r}, path={str(where)!r})"


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
