"""Load event files into a workspace: validate every row, quarantine what fails, never drop.

Formats: CSV, Parquet, JSON Lines (flat rows or Segment calls) and Segment-spec JSON
(a call, a list of calls, or a ``{"batch": [...]}`` payload). Loading the same file twice
adds nothing: events are keyed by ``event_id`` (Segment's ``messageId`` when present,
otherwise a hash of the row's content).

>>> import json, tempfile, pathlib
>>> from kundresa import Workspace
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "e.jsonl").write_text(
...     json.dumps({"type": "track", "event": "Signed Up", "userId": "u1",
...                 "timestamp": "2026-01-05T10:00:00Z", "messageId": "m1"}) + "\\n"
...     + '{"type": "track", "userId": "u1"}\\n')
>>> ws = Workspace.open(d / "demo.duckdb")
>>> report = ws.ingest([d / "e.jsonl"])
>>> (report.accepted, report.duplicates, report.quarantined)
(1, 0, 1)
>>> ws.ingest([d / "e.jsonl"]).accepted
0
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from kundresa._errors import FileFormatError, InvalidOptionError
from kundresa._ingest_ga4 import ga4_view_sql, is_ga4
from kundresa._ingest_read import (
    CSV_LINE_LIMIT,
    FORMATS,
    GA4_FIX,
    RAW_PREFIX,
    canonical_mapping,
    check_files,
    check_read_options,
    detect_format,
    duckdb_reason,
    is_ga4_jsonl,
    is_parquet,
    json_lines,
    own_row_column,
    whitespace_table,
)
from kundresa._ingest_sql import (
    DEFAULT_IDENTIFIERS,
    PII_TEXT_FIELDS,
    IdentifierRule,
    canonical_stage,
    flat_stage,
    json_path,
    json_stage,
    lit,
    raw_row_sql,
)
from kundresa._pii import PiiRules, Scrubber, prefilter_sql
from kundresa._results import Result
from kundresa._retention import drop_expired, events_horizon
from kundresa.schema import EVENTS, IDENTITY_KEYS, IDENTITY_LINKS, QUARANTINE

if TYPE_CHECKING:
    from kundresa._store import Store
    from kundresa._workspace import Workspace

__all__ = ["FORMATS", "IdentifierRule", "IngestReport", "ingest_files"]

_BATCH_ROWS = 1_000_000
#: stored text columns besides event, touchpoint and channel that may hold free text
_TEXT_COLUMNS = tuple(c for c in PII_TEXT_FIELDS if c.startswith(("campaign", "utm_")))


@dataclass(frozen=True)
class FileReport:
    """What happened to one file."""

    path: str
    format: str
    rows: int
    accepted: int
    duplicates: int
    quarantined: int
    reasons: tuple[tuple[str, int], ...] = ()
    #: rows of forgotten persons, dropped (``Workspace.forget`` tombstones)
    forgotten: int = 0
    #: rows older than the retention policy's events horizon, dropped (kundresa._retention)
    expired: int = 0


@dataclass(frozen=True)
class IngestReport(Result):
    """Counts of one ingest run: accepted, duplicate (already stored) and quarantined rows.

    >>> r = IngestReport(accepted=2, duplicates=1, quarantined=0, files=())
    >>> r.to_dict()["accepted"]
    2
    """

    accepted: int
    duplicates: int
    quarantined: int
    files: tuple[FileReport, ...] = field(default=())
    merged_persons: int = 0
    #: rows dropped because they carry an identifier of a forgotten person
    forgotten: int = 0
    #: rows dropped because they are older than the retention policy keeps events
    expired: int = 0

    def to_dict(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for f in self.files:
            for r, n in f.reasons:
                reasons[r] = reasons.get(r, 0) + n
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "merged_persons": self.merged_persons,
            "forgotten": self.forgotten,
            "expired": self.expired,
            "reasons": dict(sorted(reasons.items())),
            "files": [
                {
                    "path": f.path,
                    "format": f.format,
                    "rows": f.rows,
                    "accepted": f.accepted,
                    "duplicates": f.duplicates,
                    "quarantined": f.quarantined,
                    "forgotten": f.forgotten,
                    "expired": f.expired,
                    "reasons": dict(f.reasons),
                }
                for f in self.files
            ],
        }

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            [{k: v for k, v in f.items() if k != "reasons"} for f in self.to_dict()["files"]]
        )

    def __str__(self) -> str:
        lines = [
            f"accepted {self.accepted:,}  duplicates {self.duplicates:,}  "
            f"quarantined {self.quarantined:,}"
            + (f"  forgotten {self.forgotten:,} (dropped: tombstones)" if self.forgotten else "")
            + (f"  expired {self.expired:,} (dropped: retention policy)" if self.expired else "")
        ]
        for reason, n in self.to_dict()["reasons"].items():
            lines.append(f"  quarantined {n:,} x {reason}")
        if self.quarantined:
            lines.append("  see them with: kundresa quarantine")
        return "\n".join(lines)


@dataclass
class _Processor:
    """An in-process DuckDB that validates rows before they reach the store.

    Files are staged in chunks of at most a million rows (CSV: whole file, so that DuckDB's
    rejects table sees every line); each chunk is written before the next is read, which
    bounds memory and lets the store's anti-join catch duplicates across chunks.
    """

    identifiers: Sequence[IdentifierRule]
    salt: str
    #: the personal-data rules (kundresa._pii): properties, text columns, quarantined rows
    pii: PiiRules = field(default_factory=PiiRules)
    #: how text timestamps are read (strptime codes; None: epoch digits or ISO 8601)
    timestamp_format: str | None = None
    #: the zone of timestamps written without an offset (None: UTC)
    timezone: str | None = None
    #: constant fields for every row (``--set``): canonical field or ``properties.KEY``
    constants: dict[str, str] = field(default_factory=dict)
    con: duckdb.DuckDBPyConnection = field(init=False)
    _raw_sql: str | None = field(init=False, default=None)
    _src: str = field(init=False, default="")
    #: number repeated rows (a file is being read; the collector's calls are not)
    _occurrences: bool = field(init=False, default=False)
    #: rows dropped because they carry an identifier of a forgotten person (tombstones)
    forgotten: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute("SET enable_progress_bar=false")
        self.con.execute("SET preserve_insertion_order=false")
        self._scrubber = Scrubber(self.pii, self.salt)

    def _stage(self, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE staged AS {sql}")
        if self._occurrences:
            self._number_repeats()
        self._scrub_staged()

    def start_file(self) -> None:
        """Begin a file: repeated rows in it are numbered (:meth:`_number_repeats`)."""
        self._occurrences = True
        self.con.execute("CREATE OR REPLACE TEMP TABLE content_seen (event_id VARCHAR, n BIGINT)")

    def _number_repeats(self) -> None:
        """Rows without their own id that repeat within one file are distinct events (CDNOW
        has 215 such lines: one customer's equal orders on one day): the n-th repeat of a
        content id gets ``-n`` appended, counted across the file's chunks, so loading the
        file again (or another file with the same rows) adds nothing and loses nothing."""
        self.con.execute(
            """
            UPDATE staged SET event_id = staged.event_id || '-' || o.k::VARCHAR
            FROM (
              SELECT s._row,
                     row_number() OVER (PARTITION BY s.event_id ORDER BY s._row) - 1
                     + coalesce(c.n, 0) AS k
              FROM staged s
              LEFT JOIN (SELECT event_id, sum(n) AS n FROM content_seen GROUP BY event_id) c
                ON c.event_id = s.event_id
              WHERE s._reason IS NULL AND s._derived
            ) o
            WHERE staged._row = o._row AND o.k > 0
            """
        )
        self.con.execute(  # 'h-' and 32 hex digits: the content id before the suffix
            "INSERT INTO content_seen SELECT left(event_id, 34) AS base, count(*) FROM staged "
            "WHERE _reason IS NULL AND _derived GROUP BY base"
        )

    def _fix(self, table: str, key: str, fixed: list[dict[str, Any]]) -> None:
        """Overwrite columns of ``table`` with the rows of ``fixed`` (matched on ``key``)."""
        if not fixed:
            return
        cols = [c for c in fixed[0] if c != key]
        self.con.register("pii_fixed", pa.Table.from_pylist(fixed))
        try:
            sets = ", ".join(f'"{c}" = f."{c}"' for c in cols)
            self.con.execute(
                f'UPDATE {table} SET {sets} FROM pii_fixed f WHERE {table}."{key}" = f."{key}"'
            )
        finally:
            self.con.unregister("pii_fixed")

    def _scrub_staged(self) -> None:
        """Apply the personal-data rules to the accepted rows the SQL prefilter flagged
        (``_pii``): properties (a person's traits: ``_person``) and the text columns."""
        if not self.pii.enabled:
            return
        text = ("event", "touchpoint", "channel", *_TEXT_COLUMNS)
        rows = self.con.execute(
            f"SELECT _row, _person, properties, {', '.join(text)} FROM staged "
            "WHERE _pii AND _reason IS NULL"
        ).fetchall()
        sc = self._scrubber
        fixed = []
        for row, person, props, *values in rows:
            new_props = sc.json_text(props, person=bool(person)) if props else props
            new_values = [sc.text(v) if v else v for v in values]
            if new_props is not props or new_values != values:
                fixed.append(
                    {
                        "_row": row,
                        "properties": new_props,
                        **dict(zip(text, new_values, strict=True)),
                    }
                )
        self._fix("staged", "_row", fixed)

    def _flat(self, src: str, mapping: dict[str, str], source: str) -> None:
        cols = {
            r[0]: r[1] for r in self.con.execute(f"DESCRIBE {src}").fetchall() if r[0] != "_row"
        }
        unknown = [m for m in mapping.values() if m not in cols]
        if unknown:
            raise InvalidOptionError(
                "mapping",
                unknown[0],
                fix=f"the file has no such column; its columns are: {', '.join(cols)}",
            )
        self._raw_sql = raw_row_sql(list(cols), "src")
        self._src = src
        self._stage(
            canonical_stage(
                flat_stage(src, cols, mapping, self.identifiers),
                source=source,
                identifiers=self.identifiers,
                salt=self.salt,
                pii=self.pii,
                timestamp_format=self.timestamp_format,
                timezone=self.timezone,
                constants=self.constants,
            )
        )

    def stage_json(
        self,
        chunk: pa.Table,
        source: str,
        mapping: dict[str, str] | None = None,
        *,
        check: bool = True,
    ) -> None:
        """Stage JSON text rows (columns ``_row`` int64, ``_line`` string) into ``staged``.

        The one entry point for JSON events, whether they come from a file or the collector,
        so that both meet the same rules and quarantine reasons. ``mapping`` (canonical field
        -> key or JSON path) is checked against the chunk first (``check``): a mapped key
        that no row has raises :class:`InvalidOptionError` naming the keys the rows do have.
        """
        self._raw_sql = None
        self.con.register("lines_chunk", chunk)
        try:
            if mapping and check:
                self._check_json_mapping(mapping)
            self._stage(
                canonical_stage(
                    json_stage("lines_chunk", self.identifiers, mapping),
                    source=source,
                    identifiers=self.identifiers,
                    salt=self.salt,
                    pii=self.pii,
                    timestamp_format=self.timestamp_format,
                    timezone=self.timezone,
                    constants=self.constants,
                )
            )
        finally:
            self.con.unregister("lines_chunk")

    def _check_json_mapping(self, mapping: dict[str, str]) -> None:
        """Raise when a mapped key occurs in no row of ``lines_chunk``."""
        objects = "FROM lines_chunk WHERE json_valid(_line) AND json_type(_line) = 'OBJECT'"
        for key in mapping.values():
            path = json_path(key)
            hit = self.con.execute(
                f"SELECT count(*) {objects} AND json_exists(_line, ?)", [path]
            ).fetchone()
            if hit and hit[0]:
                continue
            got = self.con.execute(
                f"SELECT DISTINCT unnest(json_keys(_line)) AS k {objects} ORDER BY k LIMIT 51"
            ).fetchall()
            keys = [str(r[0]) for r in got]
            listed = ", ".join(keys[:50]) + (", ..." if len(keys) > 50 else "")
            raise InvalidOptionError(
                "mapping",
                key,
                fix=f"no row has the key {key!r}; the rows' keys are: {listed or '(none)'}",
            )

    def chunks(self, path: Path, fmt: str, mapping: dict[str, str]) -> Iterator[None]:
        """Stage the file chunk by chunk into table ``staged``; yield after each chunk."""
        self.start_file()
        con = self.con
        source = str(path)
        forced_ga4 = fmt == "ga4"
        if fmt in ("jsonl", "ga4") and is_ga4_jsonl(path):
            yield from self._ga4_jsonl(path, mapping, source)
            return
        if forced_ga4:
            if not is_parquet(path):
                raise FileFormatError(source, "is no GA4 export", fix=GA4_FIX)
            fmt = "parquet"
        if fmt in ("jsonl", "json"):
            first = True
            oversized: list[tuple[int, str, str, str, str]] = []
            # the mapping is checked against the first chunk
            for chunk in json_lines(path, fmt, oversized, _BATCH_ROWS):
                self.stage_json(chunk, source, mapping, check=first)
                self.add_rejects(oversized, source)
                oversized.clear()
                first = False
                yield
            return
        if fmt == "txt":
            for table, refused in whitespace_table(path, _BATCH_ROWS):
                con.register("txt_chunk", table)
                con.execute("CREATE OR REPLACE TEMP VIEW src_chunk AS SELECT * FROM txt_chunk")
                self._flat("src_chunk", mapping, source)
                self.add_rejects(
                    [(n, text, "malformed_csv_row", "row", d) for n, text, d in refused], source
                )
                yield
                con.unregister("txt_chunk")
            return
        if fmt == "parquet":
            try:
                pf = pq.ParquetFile(path)
            except (pa.ArrowInvalid, OSError) as exc:
                raise FileFormatError(source, f"cannot be read as Parquet ({exc})") from exc
            offset = 0
            for batch in pf.iter_batches(batch_size=_BATCH_ROWS):
                rows = pa.array(range(offset + 1, offset + batch.num_rows + 1), pa.int64())
                chunk = own_row_column(pa.Table.from_batches([batch])).append_column("_row", rows)
                offset += batch.num_rows
                con.register("parquet_chunk", chunk)
                view = "SELECT * FROM parquet_chunk"
                if is_ga4(chunk.column_names):
                    view = ga4_view_sql("parquet_chunk", chunk.column_names)
                elif forced_ga4:
                    raise FileFormatError(source, "is no GA4 export", fix=GA4_FIX)
                con.execute(f"CREATE OR REPLACE TEMP VIEW src_chunk AS {view}")
                self._flat("src_chunk", mapping, source)
                yield
                con.unregister("parquet_chunk")
            return
        con.execute("DROP TABLE IF EXISTS csv_rejects")
        delim = "\\t" if path.suffix.lower() == ".tsv" else ","
        reader = (
            f"read_csv({lit(source)}, all_varchar=true, header=true, delim=E'{delim}', "
            "store_rejects=true, rejects_table='csv_rejects', rejects_scan='csv_scans', "
            f"max_line_size={CSV_LINE_LIMIT})"
        )
        # Row numbers must follow the file (line 1 is the header): read with insertion order
        # preserved, materialise once, then stage in chunks like the other formats.
        con.execute("SET preserve_insertion_order=true")
        try:
            self._read_csv(reader, source)
        finally:
            con.execute("SET preserve_insertion_order=false")
        # lines DuckDB rejected are not in src_csv: shift later rows past them so that
        # _row is the real line number (the i-th rejected line r shifts rows >= r - i)
        con.execute(
            "UPDATE src_csv SET _row = _row + (SELECT count(*) FROM (SELECT line - "
            "(row_number() OVER (ORDER BY line) - 1) AS t FROM csv_rejects) r "
            "WHERE r.t <= src_csv._row) "
            "WHERE EXISTS (SELECT 1 FROM csv_rejects)"
        )
        last = con.execute("SELECT coalesce(max(_row), 1) FROM src_csv").fetchone()
        end = int(last[0]) if last else 1
        for lo in range(2, max(end, 2) + 1, _BATCH_ROWS):
            con.execute(
                "CREATE OR REPLACE TEMP VIEW src_chunk AS SELECT * FROM src_csv "
                f"WHERE _row BETWEEN {lo} AND {lo + _BATCH_ROWS - 1}"
            )
            self._flat("src_chunk", mapping, source)
            if lo == 2:
                self._csv_rejects(source)
            yield
        con.execute("DROP TABLE IF EXISTS src_csv")

    def _ga4_jsonl(self, path: Path, mapping: dict[str, str], source: str) -> Iterator[None]:
        """A GA4 export in JSON Lines (as ``bq extract`` writes it), read by DuckDB's JSON
        reader (nested params and items as structs), staged in chunks like Parquet."""
        con = self.con
        con.execute("SET preserve_insertion_order=true")
        try:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE ga4_src AS SELECT row_number() OVER () AS _row, * "
                f"FROM read_json({lit(str(path))}, format='newline_delimited', "
                f"maximum_object_size={CSV_LINE_LIMIT})"
            )
        except duckdb.Error as exc:
            reason = duckdb_reason(exc)
            raise FileFormatError(str(path), f"cannot be read as GA4 JSON ({reason})") from None
        finally:
            con.execute("SET preserve_insertion_order=false")
        cols = [r[0] for r in con.execute("DESCRIBE ga4_src").fetchall() if r[0] != "_row"]
        total = int(con.execute("SELECT count(*) FROM ga4_src").fetchone()[0])  # type: ignore[index]
        for lo in range(1, max(total, 1) + 1, _BATCH_ROWS):
            con.execute(
                "CREATE OR REPLACE TEMP VIEW ga4_chunk AS SELECT * FROM ga4_src "
                f"WHERE _row BETWEEN {lo} AND {lo + _BATCH_ROWS - 1}"
            )
            view = ga4_view_sql("ga4_chunk", cols)
            con.execute(f"CREATE OR REPLACE TEMP VIEW src_chunk AS {view}")
            self._flat("src_chunk", mapping, source)
            yield
        con.execute("DROP TABLE IF EXISTS ga4_src")

    def _read_csv(self, reader: str, source: str) -> None:
        """Materialise the CSV as ``src_csv``; when DuckDB's strict reading cannot make out
        the dialect (a stray ``\\r`` mid-line, ragged rows) read it again leniently, so the
        valid rows load and the odd lines go to quarantine; a file that is no CSV at all is a
        one-line :class:`FileFormatError`."""
        sql = "CREATE OR REPLACE TEMP TABLE src_csv AS SELECT row_number() OVER () + 1 AS _row, *"
        try:
            self.con.execute(f"{sql} FROM {reader}")
            return
        except duckdb.Error:
            self.con.execute("DROP TABLE IF EXISTS csv_rejects")
        try:
            self.con.execute(f"{sql} FROM {reader[:-1]}, strict_mode=false)")
        except duckdb.Error as exc:
            raise FileFormatError(
                source,
                f"cannot be read as CSV ({duckdb_reason(exc).rstrip('.')})",
                fix="check that it is text with a header row and commas, or pass --format",
            ) from None

    def _csv_rejects(self, source: str) -> None:
        try:
            rejects = self.con.execute(
                "SELECT line, csv_line, error_type, error_message FROM csv_rejects"
            ).fetchall()
        except duckdb.Error:
            return
        for line, csv_line, error_type, message in rejects:
            self.con.execute(
                "INSERT INTO staged (_row, _raw, _reason, _field, _detail, source) "
                "VALUES (?, ?, 'malformed_csv_row', 'row', ?, ?)",
                [int(line), csv_line, f"{error_type}: {message}; fix the row's columns", source],
            )

    def add_rejects(self, rows: Sequence[tuple[int, str, str, str, str]], source: str) -> None:
        """Add rows refused before staging (``_row, raw, reason, field, detail``; e.g. the
        collector's) to the staged chunk, to be quarantined with it."""
        if rows:
            self.con.executemany(
                "INSERT INTO staged (_row, _raw, _reason, _field, _detail, source) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(*r, source) for r in rows],
            )

    def counts(self) -> tuple[int, dict[str, int]]:
        rows = self.con.execute("SELECT count(*) FROM staged").fetchone()
        reasons = dict(
            self.con.execute(
                "SELECT _reason, count(*) FROM staged WHERE _reason IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
        return (int(rows[0]) if rows else 0), {str(k): int(v) for k, v in reasons.items()}

    def accepted(self) -> Iterator[pa.Table]:
        cols = ", ".join(f'"{n}"' for n in EVENTS.names)
        # first occurrence of an event_id in the chunk wins; later chunks meet the anti-join
        rel = self.con.execute(
            f"SELECT {cols} FROM staged WHERE _reason IS NULL "
            "QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _row) = 1"
        )
        for batch in rel.to_arrow_reader(_BATCH_ROWS):
            yield pa.Table.from_batches([batch]).cast(EVENTS)

    def quarantine(self) -> pa.Table:
        """The staged chunk's rejected rows, their raw row under the personal-data rules
        (``context`` trimmed, PII hashed or dropped; a row that is not JSON is scanned
        as free text)."""
        raw = "s._raw" if self._raw_sql is None else f"coalesce(s._raw, {self._raw_sql})"
        join = "" if self._raw_sql is None else f"LEFT JOIN {self._src} src ON src._row = s._row"
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE rejected AS SELECT s._row, s.source, s._reason, "
            f"s._field, s._detail, {raw} AS raw FROM staged s {join} "
            "WHERE s._reason IS NOT NULL"
        )
        flag = prefilter_sql(self.pii, "raw", "true")
        where = f"""raw IS NOT NULL AND ({flag} OR contains(raw, '"context"'))"""
        sc = self._scrubber
        fixed = []
        for row, text in self.con.execute(
            f"SELECT _row, raw FROM rejected WHERE {where}"
        ).fetchall():
            new = sc.raw(text)
            if new != text:
                fixed.append({"_row": row, "raw": new})
        self._fix("rejected", "_row", fixed)
        t = self.con.execute(
            # one entry per rejected input row (its source and line: identical raw rows on two
            # lines are two entries, as the report counts them); a re-ingest adds none
            "SELECT substr(sha256(to_json([source, _row::VARCHAR, raw, _reason])), 1, 32) "
            "AS quarantine_id, source, _row::BIGINT AS row_number, _reason AS reason, "
            f"_field AS field, _detail AS detail, CASE WHEN strlen(raw) > {RAW_PREFIX} "
            f"THEN left(raw, {RAW_PREFIX}) ELSE raw END AS raw, "
            "now()::TIMESTAMP AS quarantined_at "
            "FROM rejected "
            "QUALIFY row_number() OVER (PARTITION BY quarantine_id ORDER BY _row) = 1"
        ).to_arrow_table()
        return t.cast(QUARANTINE)

    def write_chunk(self, store: Store) -> tuple[int, int]:
        """Write the staged chunk: new events, quarantined rows, identity keys and links.

        Returns (events accepted, identity rows appended). Call :meth:`drop_forgotten` first.
        """
        accepted = sum(store.insert_new("events", b, "event_id") for b in self.accepted())
        q = self.quarantine()
        if q.num_rows:
            store.insert_new("quarantine", q, "quarantine_id")
        keys, links = self.identity()
        if keys.num_rows:
            store.append("identity_keys", keys)
        if links.num_rows:
            store.append("identity_links", links)
        return accepted, keys.num_rows + links.num_rows

    def drop_forgotten(self, store: Store) -> int:
        """Delete staged rows (valid or not) with an identifier key of a tombstone; count
        them in ``forgotten`` and return how many."""
        if not store.exists("forgotten"):
            return 0
        hashes = store.fetch(store.table("forgotten").select("key_hash")).column(0).to_pylist()
        if not hashes:
            return 0
        where = (
            "list_has_any(list_transform(list_concat(coalesce(_keys, []), CASE WHEN _alias_key "
            "IS NULL THEN [] ELSE [_alias_key] END), k -> sha256(? || k)), ?::VARCHAR[])"
        )
        got = self.con.execute(f"SELECT count(*) FROM staged WHERE {where}", [self.salt, hashes])
        row = got.fetchone()
        n = int(row[0]) if row else 0
        if n:
            self.con.execute(f"DELETE FROM staged WHERE {where}", [self.salt, hashes])
        self.forgotten += n
        return n

    def identity(self) -> tuple[pa.Table, pa.Table]:
        keys = (
            self.con.execute(
                "SELECT k AS key, min(ts) AS first_seen, max(ts) AS last_seen FROM "
                "(SELECT unnest(list_concat(_keys, CASE WHEN _alias_key IS NULL THEN [] "
                "ELSE [_alias_key] END)) AS k, ts FROM staged WHERE _reason IS NULL) GROUP BY k"
            )
            .to_arrow_table()
            .cast(IDENTITY_KEYS)
        )
        links = (
            self.con.execute(
                """
            SELECT key_a, key_b, min(ts) AS first_seen, via FROM (
              SELECT person_key AS key_a, unnest(_keys) AS key_b, ts,
                     CASE WHEN type = 'identify' THEN 'identify' ELSE 'event' END AS via
              FROM staged WHERE _reason IS NULL AND len(_keys) > 1
              UNION ALL
              SELECT 'user_id:' || user_id, _alias_key, ts, 'alias'
              FROM staged WHERE _reason IS NULL AND _alias_key IS NOT NULL
              UNION ALL
              -- previousId may be an earlier user id: the link counts only if that key exists
              SELECT 'user_id:' || user_id, 'user_id:' || substr(_alias_key, 14), ts, 'alias'
              FROM staged WHERE _reason IS NULL AND _alias_key IS NOT NULL
            ) WHERE key_a <> key_b GROUP BY key_a, key_b, via
            """
            )
            .to_arrow_table()
            .cast(IDENTITY_LINKS)
        )
        return keys, links

    def close(self) -> None:
        self.con.close()


def _estimate_rows(path: Path, fmt: str) -> int:
    """Rows expected (for the progress bar): exact for Parquet, 0 (unknown) otherwise."""
    if fmt == "parquet":
        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (pa.ArrowInvalid, OSError):
            return 0
    return 0


def ingest_files(
    ws: Workspace,
    paths: Sequence[str | os.PathLike[str]],
    *,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    identifiers: Sequence[IdentifierRule] = DEFAULT_IDENTIFIERS,
    progress: Callable[[str, int, int], None] | None = None,
    timestamp_format: str | None = None,
    timezone: str | None = None,
    constants: dict[str, str] | None = None,
) -> list[FileReport]:
    """Load files into ``ws`` (without stitching; :meth:`Workspace.ingest` stitches after).

    ``progress(stage, done, total)`` is called as rows are written. ``timestamp_format``,
    ``timezone`` and ``constants`` as :func:`check_read_options` checks them.
    """
    constants = check_read_options(timestamp_format, timezone, constants, identifiers)
    mapping = canonical_mapping(mapping or {}, identifiers)
    store = ws.store
    store.ensure("events", EVENTS)
    store.ensure("quarantine", QUARANTINE)
    store.ensure("identity_keys", IDENTITY_KEYS)
    store.ensure("identity_links", IDENTITY_LINKS)
    files = [Path(p) for p in paths]
    check_files(files)
    formats = [detect_format(p, fmt) for p in files]
    proc = _Processor(
        identifiers=identifiers,
        salt=ws.salt,
        pii=ws.pii_rules,
        timestamp_format=timestamp_format,
        timezone=timezone,
        constants=constants,
    )
    horizon = events_horizon(ws)  # older rows are dropped (the retention policy)
    reports: list[FileReport] = []
    try:
        for path, f in zip(files, formats, strict=True):
            total = _estimate_rows(path, f)
            rows = accepted = forgotten = expired = 0
            reasons: Counter[str] = Counter()
            if progress:
                progress(str(path), 0, total)
            for _ in proc.chunks(path, f, mapping):
                dropped = proc.drop_forgotten(store)
                forgotten += dropped
                late = drop_expired(proc, horizon)
                expired += late
                n, chunk_reasons = proc.counts()
                rows += n + dropped + late
                reasons.update(chunk_reasons)
                accepted += proc.write_chunk(store)[0]
                if progress:
                    progress(str(path), rows, max(total, rows))
            quarantined = sum(reasons.values())
            reports.append(
                FileReport(
                    path=str(path),
                    format=f,
                    rows=rows,
                    accepted=accepted,
                    duplicates=rows - quarantined - accepted - forgotten - expired,
                    quarantined=quarantined,
                    reasons=tuple(sorted(reasons.items())),
                    forgotten=forgotten,
                    expired=expired,
                )
            )
    finally:
        proc.close()
    return reports


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
