"""DuckDB fast load for the default funnel: no global sort, no strings per event.

The general loader (:func:`kundresa.funnel._load.load`) asks the engine for every funnel
event sorted by (unit, ts, event_id) and ships unit ids and event names as strings; on 10M
events that sort and transfer cost most of the time. For the default semantics
(:attr:`FunnelSpec.fast`, ``tie_order="event_id"``, no breakdown) on DuckDB this module
instead runs, around the SQL Ibis compiles for the unit filter:

    SELECT unit, list_sort(list(epoch_us(ts) * 2^B + [codes][p]))
    FROM (SELECT unit, ts, list_position([names], event) AS p FROM (...))
    WHERE p IS NOT NULL GROUP BY unit

one hash aggregation with a small sort per unit, returning one string per *unit* and one
int64 per event (time and a small integer for the event name, packed). The step filter and
code are one list lookup per event (``IN`` and ``CASE`` ran as chains of string comparisons,
35-40% slower). With the compiled decode (:mod:`kundresa.funnel._compiled`, numba) DuckDB
skips ``list_sort`` and each unit's values are sorted in the decode. Within a unit the list
is ordered by (ts, name code); the kernels need (ts, event_id). The two orders differ
only where one unit has events with the same timestamp and different step masks; those units
(usually few) are read again with the exact ``ORDER BY ts, event_id`` and patched in place.
Rows with equal (unit, ts, mask) are interchangeable for the kernels (they read only times
and masks), so the result is identical to the general loader's (tested:
``tests/test_funnel_fastload.py``, ``tests/test_funnel_compiled.py``). Measured in
``bench/funnel.py``; ADR 0006 points 7 and 8.

>>> _name_bits(4), _name_bits(1)
(3, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kundresa.funnel import _compiled
from kundresa.funnel._kernel import COMPILED_MIN_ROWS, I64, Coded, Packed
from kundresa.funnel._spec import FunnelSpec

if TYPE_CHECKING:
    from kundresa._store import Store
    from kundresa._workspace import Workspace

__all__ = [
    "EventsChangedError",
    "HashCollisionError",
    "LazyUnitIds",
    "StreamInvalidError",
    "applies",
    "load_fast",
]

#: packed value = epoch_us * 2**B + code must stay inside int64 (DuckDB raises on overflow,
#: never wraps): with B <= 8, timestamps up to about the year 3100.
MAX_BITS = 8


def _name_bits(n_names: int) -> int:
    """Bits for codes 0..n_names (0 is unused so a code is never 0)."""
    return max(1, int(n_names).bit_length())


def applies(ws: Workspace, spec: FunnelSpec, by: str | None) -> bool:
    """Whether :func:`load_fast` gives the general loader's result for this call."""
    return (
        ws.store.supports("clustered_scan")
        and ws.store.supports("sql_params")
        and spec.fast
        and by is None
        and spec.tie_order == "event_id"
        and _codes_fit(spec)
    )


def _codes_fit(spec: FunnelSpec) -> bool:
    return _codes(spec)[1] <= MAX_BITS


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _codes(spec: FunnelSpec) -> tuple[list[int], int, I64 | None]:
    """(code of each event name, bits per code, code -> mask table or None).

    When every name has its own step mask the mask itself is the code (no table lookup);
    otherwise names are numbered 1.. and looked up.

    >>> _codes(FunnelSpec.build(["A", "B", "A"]))[:2]
    ([5, 2], 3)
    >>> from kundresa.funnel import Step
    >>> c, b, table = _codes(FunnelSpec.build(["A", Step(("B", "C"))]))
    >>> c, b, table.tolist()
    ([1, 2, 3], 2, [0, 1, 2, 2])
    """
    names = spec.event_names
    masks = [sum(1 << s for s, st in enumerate(spec.steps) if nm in st.names) for nm in names]
    if len(set(masks)) == len(masks) and spec.k <= MAX_BITS:  # masks are the codes
        return masks, spec.k, None
    bits = _name_bits(len(names))
    table = np.zeros(1 << bits, np.int64)
    table[1 : len(names) + 1] = masks
    return list(range(1, len(names) + 1)), bits, table


def load_fast(
    ws: Workspace,
    spec: FunnelSpec,
    unit_col: str,
    *,
    compiled: bool | None = None,
    stream: bool | None = None,
) -> tuple[Coded | Packed, Sequence[Any], frozenset[str], pa.Array | None]:
    """(coded events, unit ids, event names present, unit ids as Arrow); see the module doc.

    ``compiled``: decode (and sort) the lists with numba
    (:func:`kundresa.funnel._compiled.decode`), or let DuckDB sort them and decode in NumPy;
    ``None`` picks numba when installed and the events table has at least
    :data:`~kundresa.funnel._kernel.COMPILED_MIN_ROWS` rows (DuckDB's catalog estimate).
    Both give identical arrays.

    ``stream``: first try the clustered stream (:func:`_load_stream`; needs numba), which
    falls back to the grouped lists when the events are not stored clustered; ``None``
    streams whenever the compiled decode is used and the unit is ``person_id`` (the only
    column stitching stores clustered). The stream's unit ids are fetched lazily
    (:class:`LazyUnitIds`; the fourth item is then None).
    """
    names = list(spec.event_names)
    codes, bits, table_mask = _codes(spec)
    ev = ws.events()
    expr = ev.filter(ev[unit_col].notnull(), ev.event.isin(names)).select(
        unit_col, "ts", "event_id", "event"
    )
    inner = ws.store.compile(expr)  # the exact re-read of tied units (_patch)
    everything = ev.filter(ev[unit_col].notnull()).select(unit_col, "ts", "event")
    inner_all = ws.store.compile(everything)
    u = _quote(unit_col)
    when = " ".join(f"WHEN ? THEN {c}" for c in codes)
    code_sql = f"(CASE event {when} END)"
    raw = ws.store
    if compiled is None:
        compiled = _compiled.available() and raw.estimated_rows("events") >= COMPILED_MIN_ROWS
    if stream is None:  # only person_id is stored clustered (by stitching): others fall back
        stream = compiled and unit_col == "person_id"
    if stream:
        got = _load_stream(raw, inner, inner_all, u, code_sql, names, codes, bits, table_mask)
        if got is not None:
            return got
    # Step filter and code by one list lookup per event: DuckDB runs `event IN (...)` and the
    # CASE as chains of string comparisons (measured 35-40% slower in total, 10M events).
    # list_position is NULL for a name not in the list and for a NULL event, as IN drops it.
    packed = f"epoch_us(ts) * {1 << bits} + [{', '.join(map(str, codes))}][__kp]"
    # the compiled decode sorts each unit's few values itself (DuckDB's list_sort: +25-40%)
    listed = f"list({packed})" if compiled else f"list_sort(list({packed}))"
    sql = (
        f"SELECT {u} AS u, {listed} AS l FROM (SELECT {u}, ts, list_position(?, event) AS __kp "
        f"FROM ({inner_all}) f) g WHERE __kp IS NOT NULL GROUP BY {u}"
    )
    table = raw.fetch_sql(sql, [names])
    lists = table.column("l").combine_chunks()
    n_units = len(lists)
    if n_units == 0:
        z = np.zeros(0, np.int64)
        return Coded(z, z, z, z, None, 0), [], frozenset(), pa.array([], pa.string())
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), np.int64)
    v = np.asarray(lists.values.to_numpy(zero_copy_only=False), np.int64)
    v = v[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    if compiled:
        gid, t, mask, names_present, v = _decode_compiled(
            raw, inner, u, code_sql, names, codes, bits, table, table_mask, offsets, v
        )
    else:
        gid, t, mask, names_present, v = _decode_numpy(
            raw, inner, u, code_sql, names, codes, bits, table, table_mask, offsets, v
        )
    units_arrow = table.column("u").combine_chunks()
    return (
        Coded(gid, t, mask, np.zeros(len(v), np.int64), None, n_units),
        units_arrow.to_pylist(),
        names_present,
        units_arrow,
    )


_Decoded = tuple[I64, I64, I64, frozenset[str], I64]


def _decode_numpy(
    raw: Store,
    inner: str,
    u: str,
    code_sql: str,
    names: list[str],
    codes: list[int],
    bits: int,
    table: pa.Table,
    table_mask: I64 | None,
    offsets: I64,
    v: I64,
) -> _Decoded:
    """(unit code per row, time, mask, names present, values, patched) in NumPy."""
    gid = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    low = (1 << bits) - 1
    t = v >> bits
    code = v & low
    present = np.bincount(code, minlength=1 << bits)
    names_present = frozenset(nm for nm, c in zip(names, codes, strict=True) if present[c])
    mask = code if table_mask is None else table_mask[code]
    if len(v) > 1:
        # same unit, same ts, different masks: order by event_id matters -> read exactly
        tied = (np.diff(t) == 0) & (np.diff(mask) != 0) & (np.diff(gid) == 0)
        if tied.any():
            units = np.unique(gid[1:][tied])
            v = v.copy()  # the Arrow buffer is read-only
            ids = table.column("u").take(pa.array(units)).combine_chunks()
            _patch(raw, inner, u, code_sql, names, bits, ids, f"f.{u}", units, offsets, v)
            t = v >> bits
            mask = v & low if table_mask is None else table_mask[v & low]
    return gid, t, mask, names_present, v


def _decode_compiled(
    raw: Store,
    inner: str,
    u: str,
    code_sql: str,
    names: list[str],
    codes: list[int],
    bits: int,
    table: pa.Table,
    table_mask: I64 | None,
    offsets: I64,
    v: I64,
) -> _Decoded:
    """:func:`_decode_numpy` in one compiled pass (same arrays; see ``_compiled.decode``)."""
    lut = np.arange(1 << bits, dtype=np.int64) if table_mask is None else table_mask
    w, gid, t, mask, present, tied = _compiled.decode(offsets, v, bits, lut, sort=True)
    names_present = frozenset(nm for nm, c in zip(names, codes, strict=True) if present[c])
    units = np.flatnonzero(tied)
    if len(units):  # w is our own sorted copy: patch it in place
        ids = table.column("u").take(pa.array(units)).combine_chunks()
        _patch(raw, inner, u, code_sql, names, bits, ids, f"f.{u}", units, offsets, w)
        w, gid, t, mask, _, _ = _compiled.decode(offsets, w, bits, lut)
    return gid, t, mask, names_present, w


def _patch(
    raw: Store,
    inner: str,
    u: str,
    code_sql: str,
    names: list[str],
    bits: int,
    ids: pa.Array,
    key_sql: str,
    units: np.ndarray[Any, Any],
    offsets: np.ndarray[Any, Any],
    v: np.ndarray[Any, Any],
) -> None:
    """Overwrite the rows of ``units`` (keyed ``ids``: their values of ``key_sql``) in ``v``
    with their exact (ts, event_id) order."""
    view = "__kundresa_funnel_tied_units"
    with raw.registered(view, pa.table({"u": ids})):
        sql = (
            f"SELECT {key_sql} AS u, epoch_us(f.ts) * {1 << bits} + {code_sql} AS v "
            f"FROM ({inner}) f SEMI JOIN {view} x ON {key_sql} = x.u "
            f"ORDER BY {key_sql}, f.ts, f.event_id"
        )
        got = raw.fetch_sql(sql, names)
    pos = np.asarray(
        pc.index_in(got.column("u"), value_set=ids).to_numpy(zero_copy_only=False), np.int64
    )
    order = np.argsort(units[pos], kind="stable")  # rows grouped by unit, exact order kept
    lengths = offsets[units + 1] - offsets[units]
    if int(lengths.sum()) != len(pos):  # pragma: no cover - the data changed between queries
        raise RuntimeError("funnel: events changed while reading; run the funnel again")
    first = np.cumsum(lengths) - lengths
    dest = np.repeat(offsets[units] - first, lengths) + np.arange(len(pos))
    v[dest] = np.asarray(got.column("v").to_numpy(zero_copy_only=False), np.int64)[order]


class StreamInvalidError(RuntimeError):
    """A streamed load cannot be used as read: the caller loads again with ``stream=False``."""


class HashCollisionError(StreamInvalidError):
    """Two units of a streamed load have the same 64-bit hash (so they were merged)."""


class EventsChangedError(StreamInvalidError):
    """The events changed between the stream and the lazy id fetch."""


class LazyUnitIds(Sequence[Any]):
    """Unit ids of a streamed load in unit-code order, fetched from the engine on first use
    (a funnel's counts never need them; its drop-off lists do).

    >>> ids = LazyUnitIds(lambda: pa.array(["a", "b"]), 2)
    >>> len(ids), ids[1], ids.arrow().to_pylist()
    (2, 'b', ['a', 'b'])
    """

    def __init__(self, fetch: Callable[[], pa.Array], n: int) -> None:
        self._fetch = fetch
        self._n = n
        self._arrow: pa.Array | None = None
        self._list: list[Any] | None = None

    def __len__(self) -> int:
        return self._n

    def arrow(self) -> pa.Array:
        """All ids as one Arrow array (fetched once)."""
        if self._arrow is None:
            got = self._fetch()
            if len(got) != self._n:  # pragma: no cover - guarded by the fetch itself
                raise EventsChangedError("funnel: events changed while reading; loading them again")
            self._arrow = got
        return self._arrow

    @overload
    def __getitem__(self, i: int) -> Any: ...

    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...

    def __getitem__(self, i: int | slice) -> Any:
        if self._list is None:
            self._list = self.arrow().to_pylist()
        return self._list[i]


def _load_stream(
    raw: Store,
    inner: str,
    inner_all: str,
    u: str,
    code_sql: str,
    names: list[str],
    codes: list[int],
    bits: int,
    table_mask: I64 | None,
) -> tuple[Coded | Packed, Sequence[Any], frozenset[str], pa.Array | None] | None:
    """The funnel events as one ordered stream, no aggregation, or None if not clustered.

    Events stored clustered by ``hash(unit), unit, ts, event_id`` (what stitching writes:
    :data:`kundresa._stitch.CLUSTER_ORDER`) come out of a plain filtered scan in that order
    (DuckDB keeps insertion order for scans, filters and projections): per step event one
    unsigned hash of the unit and one packed ``time, name code`` value. The compiled
    :func:`~kundresa.funnel._compiled.runs` cuts units where the hash changes and *verifies*
    the order (hash never decreasing, time never decreasing within a unit); any other layout
    returns None and the grouped lists are used. Equal timestamps with different steps are
    re-read in their exact ``event_id`` order as in the grouped load. A unit is its hash: two
    units with equal 64-bit hashes would merge (about P**2 / 2**65 for P units): the id fetch
    detects it and raises
    :class:`HashCollisionError`, on which :func:`kundresa.funnel.funnel` loads grouped instead.
    """
    packed = f"epoch_us(ts) * {1 << bits} + [{', '.join(map(str, codes))}][__kp]"
    sql = (
        f"SELECT hash({u}) AS h, {packed} AS v FROM (SELECT {u}, ts, list_position(?, event)"
        f" AS __kp FROM ({inner_all}) f) g WHERE __kp IS NOT NULL"
    )
    got = raw.fetch_sql(sql, [names])
    if got.num_rows == 0:
        return None  # the grouped load handles the empty case
    h = _numpy(got.column("h"), np.uint64)
    v = _numpy(got.column("v"), np.int64)
    del got
    lut = np.arange(1 << bits, dtype=np.int64) if table_mask is None else table_mask
    cut = _compiled.runs(h, v, bits, lut)
    if cut is None:
        return None
    offsets, present, tied = cut
    names_present = frozenset(nm for nm, c in zip(names, codes, strict=True) if present[c])
    unit_h = h[offsets[:-1]]
    del h
    units = np.flatnonzero(tied)
    if len(units):
        if not v.flags.writeable:
            v = v.copy()
        keys = pa.array(unit_h[units], pa.uint64())
        _patch(raw, inner, u, code_sql, names, bits, keys, f"hash(f.{u})", units, offsets, v)
    n_units = len(offsets) - 1
    ids = LazyUnitIds(lambda: _ids_by_hash(raw, inner, u, unit_h), n_units)
    return Packed(offsets, v, bits, lut), ids, names_present, None


def _numpy(col: pa.ChunkedArray, dtype: Any) -> np.ndarray[Any, Any]:
    """A fixed-width Arrow column as one NumPy array (zero-copy for a single chunk)."""
    arr = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype)


def _ids_by_hash(raw: Store, inner: str, u: str, unit_h: np.ndarray[Any, Any]) -> pa.Array:
    """The unit id of every hash in ``unit_h`` (strictly ascending), checking that each hash
    is one unit and that the units did not change since the stream was read.

    One ``DISTINCT (hash, id)`` (cheaper than a GROUP BY with aggregates), sorted by hash
    here: two ids with one hash show up as a repeated hash."""
    got = raw.fetch_sql(f"SELECT DISTINCT hash(f.{u}) AS h, f.{u} AS u FROM ({inner}) f")
    h = _numpy(got.column("h"), np.uint64)
    order = np.argsort(h, kind="stable")
    h = h[order]
    if len(h) > 1 and bool((h[1:] == h[:-1]).any()):
        raise HashCollisionError("funnel: two units share a 64-bit hash; load them grouped instead")
    if not np.array_equal(h, unit_h):
        raise EventsChangedError("funnel: events changed while reading; loading them again")
    ids: pa.Array = got.column("u").take(pa.array(order)).combine_chunks()
    return ids
