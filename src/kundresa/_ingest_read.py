"""Reading input files for ingest: formats by suffix (or content), text opened with a BOM
skipped and gzip damage as one-line errors, JSON lines read with bounded memory, deep JSON
documents split by DuckDB, and whitespace-separated tables (see ``docs/ingest.md``).

>>> detect_format(Path("events.ndjson")), detect_format(Path("CDNOW_master.txt"))
('jsonl', 'txt')
"""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from kundresa._errors import FileFormatError, InvalidOptionError
from kundresa._ingest_ga4 import is_ga4
from kundresa._ingest_sql import DEFAULT_IDENTIFIERS, FLAT_ALIASES, IdentifierRule
from kundresa.schema import MAX_EVENT_BYTES

__all__ = [
    "CSV_LINE_LIMIT",
    "FORMATS",
    "GA4_FIX",
    "LINE_LIMIT",
    "RAW_PREFIX",
    "canonical_mapping",
    "check_files",
    "check_read_options",
    "detect_format",
    "duckdb_reason",
    "gzip_errors",
    "is_ga4_jsonl",
    "is_parquet",
    "json_lines",
    "open_text",
    "own_row_column",
    "whitespace_table",
]

FORMATS = ("csv", "parquet", "jsonl", "json", "txt", "ga4")
_SUFFIX = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".txt": "txt",
}


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The format of ``path`` from ``fmt`` or its suffix (``.gz`` allowed for text formats).

    >>> detect_format(Path("events.ndjson"))
    'jsonl'
    """
    if fmt:
        if fmt not in FORMATS:
            raise InvalidOptionError("format", fmt, allowed=FORMATS)
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIX:
        return _SUFFIX[suffixes[-1]]
    if path.suffix.lower() == ".gz" and _gzip_starts_with_object(path):
        return "jsonl"  # Segment's S3 archives: <time>.events-archive-<...>.gz, JSON lines
    raise FileFormatError(
        str(path),
        f"unsupported suffix {''.join(path.suffixes) or '(none)'!r}",
        fix="use .csv, .parquet, .jsonl, .json or .txt, or pass --format",
    )


def _gzip_starts_with_object(path: Path) -> bool:
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(4096).lstrip().startswith(b"{")
    except (OSError, EOFError, zlib.error):
        return False


def open_text(path: Path) -> Any:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace")
    return path.open("r", encoding="utf-8-sig", errors="replace")  # a BOM is no data


def whitespace_table(
    path: Path, batch_rows: int = 1_000_000
) -> Iterator[tuple[pa.Table, list[tuple[int, str, str]]]]:
    """Yield (rows, refused) chunks of a table whose columns are separated by runs of white
    space (a header line first; CDNOW_master.txt's shape): ``rows`` has ``_row`` (the line
    number) and one text column per header name; ``refused`` is (line, text, detail) of the
    lines with another number of fields (quarantined as ``malformed_csv_row``).

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = f.write_text(" id  date  value\\r\\n 01 19970101  1.5\\r\\n 02 x\\r\\n")
    >>> rows, refused = next(whitespace_table(f))
    >>> rows.to_pylist()
    [{'_row': 2, 'id': '01', 'date': '19970101', 'value': '1.5'}]
    >>> refused
    [(3, '02 x', 'line 3 has 2 fields, the header 3; separate the columns by spaces or tabs')]
    """
    with open_text(path) as fh:
        header: list[str] | None = None
        nums: list[int] = []
        cols: list[list[str]] = []
        refused: list[tuple[int, str, str]] = []
        for number, line in enumerate(fh, 1):
            fields = line.split()
            if not fields:
                continue
            if header is None:
                header = fields
                if len(set(header)) != len(header):
                    raise FileFormatError(
                        str(path), "the header names a column twice", fix="rename the column"
                    )
                cols = [[] for _ in header]
                continue
            if len(fields) != len(header):
                detail = (
                    f"line {number} has {len(fields)} fields, the header {len(header)}; "
                    "separate the columns by spaces or tabs"
                )
                refused.append((number, line.strip(), detail))
            else:
                nums.append(number)
                for c, v in zip(cols, fields, strict=True):
                    c.append(v)
            if len(nums) + len(refused) >= batch_rows:
                yield _text_table(nums, header, cols), refused
                nums, cols, refused = [], [[] for _ in header], []
        if header is None:
            header, cols = [], []
        yield _text_table(nums, header, cols), refused


def _text_table(nums: list[int], header: list[str], cols: list[list[str]]) -> pa.Table:
    data = {"_row": pa.array(nums, pa.int64())}
    data.update({h: pa.array(c, pa.string()) for h, c in zip(header, cols, strict=True)})
    return pa.table(data)


#: a JSON line longer than this (characters) is never read whole: its first
#: :data:`RAW_PREFIX` characters are quarantined as ``event_too_large`` and the rest skipped,
#: so one huge line (a gzip bomb) costs bounded memory
LINE_LIMIT = 1 << 20
#: how much of an oversized line or row quarantine keeps
RAW_PREFIX = 64 * 1024
#: the longest CSV line read (DuckDB's default is 2 MB: a longer line failed the whole file);
#: a row over the event limit is quarantined, its raw text cut to :data:`RAW_PREFIX`
CSV_LINE_LIMIT = 64 << 20


def _read_lines(
    fh: Any, oversized: list[tuple[int, str, str, str, str]]
) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line of ``fh``, lines over :data:`LINE_LIMIT` put into
    ``oversized`` as quarantine rows (their first :data:`RAW_PREFIX` characters) instead."""
    number = 0
    while True:
        line = fh.readline(LINE_LIMIT)
        if not line:
            return
        number += 1
        if len(line) < LINE_LIMIT or line.endswith("\n"):
            yield number, line
            continue
        prefix, size = line[:RAW_PREFIX], len(line)
        while line and not line.endswith("\n"):  # skip the rest, chunk by chunk
            line = fh.readline(LINE_LIMIT)
            size += len(line)
        oversized.append((number, prefix, "event_too_large", "row",
                          f"line {number} is {size:,} characters; the limit of an event is "
                          f"{MAX_EVENT_BYTES:,} bytes (32 KB, as Segment)"))  # fmt: skip


def json_lines(
    path: Path,
    fmt: str,
    oversized: list[tuple[int, str, str, str, str]] | None = None,
    batch_rows: int = 1_000_000,
) -> Iterator[pa.Table]:
    """Yield (``_row``, ``_line``) chunks. A ``.json`` file that is one document is split
    into its calls (Segment batch/list/single); otherwise it is read as lines (lines over
    :data:`LINE_LIMIT` go to ``oversized``)."""
    if oversized is None:
        oversized = []
    if fmt == "json":
        with gzip_errors(path), open_text(path) as fh:
            lines = _document_calls(fh.read())
        if lines is not None:
            yield pa.table(
                {
                    "_row": pa.array(range(1, len(lines) + 1), pa.int64()),
                    "_line": pa.array(lines, pa.string()),
                }
            )
            return
    row = 0
    buf: list[str] = []
    nums: list[int] = []
    try:
        with gzip_errors(path), open_text(path) as fh:
            for row, line in _read_lines(fh, oversized):
                s = line.strip()
                if not s:
                    continue
                buf.append(s)
                nums.append(row)
                if len(buf) >= batch_rows:
                    yield pa.table({"_row": pa.array(nums, pa.int64()), "_line": pa.array(buf)})
                    buf, nums = [], []
    except FileFormatError:
        if buf:  # the rows read before a truncated stream ends are loaded, then the error
            yield pa.table({"_row": pa.array(nums, pa.int64()), "_line": pa.array(buf)})
        raise
    if buf or row == 0 or oversized:
        yield pa.table({"_row": pa.array(nums, pa.int64()), "_line": pa.array(buf, pa.string())})


GA4_FIX = "export the GA4 events table (event_name, event_timestamp, user_pseudo_id, ...)"


def is_parquet(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


def is_ga4_jsonl(path: Path) -> bool:
    """Whether the first JSON line of ``path`` is a GA4 export row."""
    try:
        with gzip_errors(path), open_text(path) as fh:
            for _ in range(1000):  # the first non-empty line, read 1 MiB at most
                line = fh.readline(LINE_LIMIT)
                if not line:
                    return False
                if line.strip():
                    row = json.loads(line)
                    return isinstance(row, dict) and is_ga4(row)
    except (ValueError, RecursionError, FileFormatError, OSError):
        return False
    return False


def own_row_column(table: pa.Table) -> pa.Table:
    """A file's own ``_row`` column renamed ``_row_1`` (``_row_2``, ...), as DuckDB's CSV
    reader renames a duplicate, so the line number kundresa adds is not ambiguous (Parquet
    raised ``ArrowInvalid``); the column then lands in ``properties`` under that name.

    >>> own_row_column(pa.table({"_row": [7], "_row_1": [8]})).column_names
    ['_row_2', '_row_1']
    """
    names = table.column_names
    if "_row" not in names:
        return table
    n = 1
    while f"_row_{n}" in names:
        n += 1
    return table.rename_columns([f"_row_{n}" if c == "_row" else c for c in names])


def _document_calls(text: str) -> list[str] | None:
    """The calls of a ``.json`` document (a Segment batch, whose ``context`` and
    ``integrations`` each call inherits, a list, or one call) as JSON text; None when it is
    not one JSON document (then it is read as lines). A document nested deeper than Python's
    parser goes is split by DuckDB's (:func:`_split_deep`).

    >>> _document_calls('{"batch": [{"event": "A"}], "context": {"ip": "x"}}')
    ['{"context":{"ip":"x"},"event":"A"}']
    >>> _document_calls('{"a": 1} {"a": 2}') is None
    True
    """
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and isinstance(doc.get("batch"), list):
            items = doc["batch"]
            shared = {k: doc[k] for k in ("context", "integrations") if k in doc}
            if shared:
                items = [{**shared, **i} if isinstance(i, dict) else i for i in items]
        elif isinstance(doc, list):
            items = doc
        else:
            items = [doc]
        return [json.dumps(i, separators=(",", ":")) for i in items]
    except json.JSONDecodeError:
        return None
    except RecursionError:  # nested deeper than Python's parser goes: DuckDB splits it
        return _split_deep(text)


def _split_deep(text: str) -> list[str] | None:
    """The calls of a JSON document nested deeper than Python's parser allows, split by
    DuckDB's (a list, a ``{"batch": [...]}`` payload or one call) as JSON text; None when it
    is not JSON at all."""
    con = duckdb.connect()
    try:
        kind = con.execute("SELECT json_type(?::JSON)", [text]).fetchone()
        if kind is None:
            return None
        if kind[0] == "ARRAY":
            path = "$[*]"
        elif con.execute("SELECT json_type(?::JSON, '$.batch')", [text]).fetchone() == ("ARRAY",):
            path = "$.batch[*]"
        else:
            return [text]
        got = con.execute(f"SELECT unnest(json_extract(?::JSON, '{path}'))::VARCHAR", [text])
        return [str(r[0]) for r in got.fetchall()]
    except duckdb.Error:
        return None
    finally:
        con.close()


@contextlib.contextmanager
def gzip_errors(path: Path) -> Iterator[None]:
    """A gzip name on what is not gzip, or a stream cut short, as a one-line error."""
    try:
        yield
    except gzip.BadGzipFile:
        raise FileFormatError(
            str(path), "is not gzip", fix="rename it without .gz, or compress it with gzip"
        ) from None
    except (EOFError, zlib.error) as exc:
        raise FileFormatError(
            str(path),
            f"is truncated or damaged ({exc})",
            fix="copy the whole file again",
        ) from None


def check_files(paths: Sequence[Path]) -> None:
    """Raise a one-line :class:`FileFormatError` for a path that is missing or a folder.

    >>> check_files([Path("/nonexistent/e.csv")])
    Traceback (most recent call last):
    ...
    kundresa.FileFormatError: /nonexistent/e.csv: no such file; check the path
    """
    for path in paths:
        if not path.exists():
            raise FileFormatError(str(path), "no such file", fix="check the path")
        if path.is_dir():
            raise FileFormatError(str(path), "is a directory", fix="name the files in it")


def duckdb_reason(exc: BaseException) -> str:
    """The first line of a DuckDB error without its class prefix.

    >>> duckdb_reason(ValueError("Invalid Input Error: bad line\\nLINE 1: ..."))
    'bad line'
    """
    return str(exc).splitlines()[0].split(": ", 1)[-1]


def canonical_mapping(
    mapping: dict[str, str], identifiers: Sequence[IdentifierRule], option: str = "mapping"
) -> dict[str, str]:
    """``mapping`` with identifier names as the stages key them (``email`` -> ``id_email``);
    a field that is not canonical is an error listing those that are.

    >>> canonical_mapping({"ts": "when", "email": "mail"}, DEFAULT_IDENTIFIERS)
    {'ts': 'when', 'id_email': 'mail'}
    >>> canonical_mapping({"evnt": "what"}, ())
    Traceback (most recent call last):
    ...
    kundresa.InvalidOptionError: mapping: 'evnt' is not allowed; use one of: event_id, ts, ...
    """
    ids = {r.name: "id_" + r.name for r in identifiers}
    fields = [n for n in FLAT_ALIASES if n != "library"]
    out: dict[str, str] = {}
    for key, column in mapping.items():
        name = ids.get(key, key)
        if name not in fields and name not in ids.values():
            raise InvalidOptionError(option, key, allowed=[*fields, *ids])
        out[name] = column
    return out


def check_read_options(
    timestamp_format: str | None = None,
    timezone: str | None = None,
    constants: dict[str, str] | None = None,
    identifiers: Sequence[IdentifierRule] = DEFAULT_IDENTIFIERS,
) -> dict[str, str]:
    """Validate how files are read (raises :class:`InvalidOptionError` naming the option and
    the fix); returns ``constants`` keyed as the stages key them.

    >>> check_read_options("%Y%m%d", "Europe/Stockholm", {"event": "Order Completed"})
    {'event': 'Order Completed'}
    >>> check_read_options("%Q")
    Traceback (most recent call last):
    ...
    kundresa.InvalidOptionError: --timestamp-format: '%Q' is not allowed; ...
    """
    con = duckdb.connect() if timestamp_format is not None or timezone is not None else None
    try:
        if con is not None and timestamp_format is not None:
            try:
                con.execute("SELECT try_strptime('2026', ?)", [timestamp_format])
            except duckdb.Error as exc:
                raise InvalidOptionError(
                    "--timestamp-format",
                    timestamp_format,
                    fix=f"{str(exc).split(': ', 2)[-1].rstrip(': ')}; use strptime codes "
                    "such as %Y%m%d or '%d/%m/%Y %H:%M'",
                ) from None
        if con is not None and timezone is not None:
            try:
                con.execute("SELECT TIMESTAMP '2026-01-01' AT TIME ZONE ?", [timezone])
            except duckdb.Error:
                raise InvalidOptionError(
                    "--timezone", timezone, fix="use an IANA zone name such as Europe/Stockholm"
                ) from None
    finally:
        if con is not None:
            con.close()
    out: dict[str, str] = {}
    for key, value in (constants or {}).items():
        if key.startswith("properties.") and len(key) > len("properties."):
            out[key] = value
            continue
        if key in ("ts", "properties", "event_id"):
            raise InvalidOptionError(
                "--set", key, fix="set a field such as event=... or properties.KEY=..."
            )
        out.update(canonical_mapping({key: value}, identifiers, "--set"))
    return out
