"""Optional compiled kernel (numba) for the default funnel: one ordered pass over the rows.

Same contract and result as the NumPy :func:`kundresa.funnel._kernel.fast_best` (tested
against it and the brute-force reference: ``tests/test_funnel_compiled.py``); used by it when
numba is installed (``pip install kundresa[fast]``), NumPy otherwise. ADR 0006 point 8.

Per unit, rows in (time, tie) order, steps visited from the last to the first so a row that
matches two consecutive steps never chains with itself: ``best[j]`` is the latest entry time
of a chain reaching step j on an earlier row (the NumPy kernel's ``e_j``); a step-j row with
``best[j-1]`` set extends the chain from that entry and fills step j when within the window.
One pass, no temporaries: about 10x the NumPy kernel's speed on 10M events (bench/funnel.py).

>>> available() in (True, False)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kundresa._jit import compile_all, require, run_parts, threads_for

__all__ = ["available", "best_packed", "best_pass", "decode", "runs"]


def available() -> bool:
    """Whether the compiled kernel can run (numba importable, not disabled by
    ``KUNDRESA_NO_NUMBA=1``)."""
    return _load() is not None


def _load() -> Any:
    """(decode, sort, runs, packed pass, outputs, entered) compiled, or None."""
    return compile_all(_decode_py, _sort_py, _runs_py, _best_packed_py, _outputs_py, _entered_py)


def _runs_py(
    h: Any, v: Any, bits: int, lut: Any
) -> tuple[bool, Any, Any, Any]:  # pragma: no cover - runs compiled
    n = len(h)
    m = 0
    for i in range(n):
        if i == 0 or h[i] != h[i - 1]:
            m += 1
    offsets = np.empty(m + 1, np.int64)
    present = np.zeros(len(lut), np.int64)
    tied = np.zeros(m, np.bool_)
    low = (1 << bits) - 1
    u = -1
    for i in range(n):
        x = v[i]
        present[x & low] += 1
        if i == 0 or h[i] != h[i - 1]:
            if i > 0 and h[i] < h[i - 1]:
                return False, offsets[:0], present, tied
            u += 1
            offsets[u] = i
        else:
            d = (x >> bits) - (v[i - 1] >> bits)
            if d < 0:
                return False, offsets[:0], present, tied
            if d == 0 and lut[x & low] != lut[v[i - 1] & low]:
                tied[u] = True
    offsets[m] = n
    return True, offsets, present, tied


def _sort_py(offsets: Any, v: Any) -> Any:  # pragma: no cover - runs compiled
    n_units = len(offsets) - 1
    w = np.empty(offsets[n_units], np.int64)
    for u in range(n_units):
        a = offsets[u]
        b = offsets[u + 1]
        if b - a > 32:
            w[a:b] = np.sort(v[a:b])
        else:  # insertion sort: a unit has a few rows
            for r in range(a, b):
                x = v[r]
                q = r
                while q > a and w[q - 1] > x:
                    w[q] = w[q - 1]
                    q -= 1
                w[q] = x
    return w


def _decode_py(
    offsets: Any, w: Any, bits: int, table: Any
) -> tuple[Any, Any, Any, Any, Any]:  # pragma: no cover - runs compiled
    n_units = len(offsets) - 1
    n = offsets[n_units]
    gid = np.empty(n, np.int64)
    t = np.empty(n, np.int64)
    mask = np.empty(n, np.int64)
    present = np.zeros(len(table), np.int64)
    tied = np.zeros(n_units, np.bool_)
    low = (1 << bits) - 1
    for u in range(n_units):
        a = offsets[u]
        for r in range(a, offsets[u + 1]):
            x = w[r]
            c = x & low
            gid[r] = u
            t[r] = x >> bits
            mask[r] = table[c]
            present[c] += 1
            if r > a and t[r] == t[r - 1] and mask[r] != mask[r - 1]:
                tied[u] = True
    return gid, t, mask, present, tied


def _outputs_py(m: int, k: int) -> tuple[Any, Any, Any]:  # pragma: no cover - compiled
    # allocated by numba's runtime (malloc), not NumPy: NumPy asks the kernel for huge pages
    # on large arrays, whose faults cost 0.5-2 s of system time at 5M units (measured)
    return np.zeros((m, k), np.bool_), np.full((m, k), -1, np.int64), np.full((m, k), -1, np.int64)


def _entered_py(
    filled: Any, ttc: Any, at: Any
) -> tuple[Any, Any, Any, Any, Any]:  # pragma: no cover - runs compiled
    m, k = filled.shape
    n = 0
    for u in range(m):
        if filled[u, 0]:
            n += 1
    units = np.empty(n, np.int64)
    entry = np.empty(n, np.int64)
    f2 = np.empty((n, k), np.bool_)
    d2 = np.empty((n, k), np.int64)
    a2 = np.empty((n, k), np.int64)
    i = 0
    for u in range(m):
        if filled[u, 0]:
            units[i] = u
            entry[i] = at[u, 0]
            for j in range(k):
                f2[i, j] = filled[u, j]
                d2[i, j] = ttc[u, j]
                a2[i, j] = at[u, j]
            i += 1
    return units, entry, f2, d2, a2


def _best_packed_py(
    offsets: Any,
    v: Any,
    bits: int,
    lut: Any,
    window_us: int,
    u0: int,
    u1: int,
    filled: Any,
    ttc: Any,
    at: Any,
) -> None:  # pragma: no cover - runs compiled
    k = filled.shape[1]
    low = (1 << bits) - 1
    best = np.empty(k, np.int64)
    none = np.iinfo(np.int64).min
    for u in range(u0, u1):
        for j in range(k):
            best[j] = none
        for r in range(offsets[u], offsets[u + 1]):
            x = v[r]
            mk = lut[x & low]
            if mk == 0:
                continue
            ti = x >> bits
            for j in range(k - 1, 0, -1):
                if (mk >> j) & 1 == 0:
                    continue
                e = best[j - 1]
                if e == none:
                    continue
                if e > best[j]:
                    best[j] = e
                d = ti - e
                if d <= window_us:
                    if not filled[u, j]:
                        filled[u, j] = True
                        ttc[u, j] = d
                        at[u, j] = ti
                    elif d < ttc[u, j]:
                        ttc[u, j] = d
            if mk & 1:
                best[0] = ti
                if not filled[u, 0]:
                    filled[u, 0] = True
                    ttc[u, 0] = 0
                    at[u, 0] = ti


def decode(
    offsets: np.ndarray[Any, Any],
    v: np.ndarray[Any, Any],
    bits: int,
    table: np.ndarray[Any, Any],
    *,
    sort: bool = False,
) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Packed per-unit lists (Arrow offsets from 0 + values ``ts << bits | code``) to rows.

    Returns (values, unit code per row, time, step mask = ``table[code]``, rows per code,
    units with two rows of equal time and different masks): the NumPy decode of
    :func:`kundresa.funnel._fastload.load_fast` in one pass. ``sort=True`` first sorts each
    unit's values (a new array; else ``v`` itself is returned), so DuckDB need not.

    >>> if available():
    ...     w, g, t, m, p, tied = decode(np.array([0, 2, 3]), np.array([10, 9, 10]), 1,
    ...                                  np.array([0, 2]), sort=True)
    ...     print(w.tolist(), g.tolist(), t.tolist(), m.tolist(), tied.tolist())
    ... else:
    ...     print([9, 10, 10], [0, 0, 1], [4, 5, 5], [2, 0, 0], [False, False])
    [9, 10, 10] [0, 0, 1] [4, 5, 5] [2, 0, 0] [False, False]
    """
    fns = require(_load())
    decode_fn, sort_fn = fns[0], fns[1]
    offsets = np.ascontiguousarray(offsets, np.int64)
    v = np.ascontiguousarray(v, np.int64)
    w = sort_fn(offsets, v) if sort else v
    rows = decode_fn(offsets, w, int(bits), np.ascontiguousarray(table, np.int64))
    return (w, *rows)


def best_pass(
    gid: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    mask: np.ndarray[Any, Any],
    k: int,
    window_us: int,
) -> tuple[Any, Any, Any, Any, Any] | None:
    """:func:`best_packed` for decoded rows (unit code, time, step mask; sorted by unit and
    time): the rows are packed as ``(t - min t) << k | mask`` with the identity mask table.
    Returns (unit codes, entry time, filled, ttc, at) of the entered units, or None when the
    times do not fit beside ``k`` mask bits (NumPy then).

    >>> if available():
    ...     u, e, f, d, a = best_pass(np.array([4, 4]), np.array([0, 5]), np.array([1, 2]), 2, 10)
    ...     print(u.tolist(), f.tolist(), d.tolist())
    ... else:
    ...     print([4], [[True, True]], [[0, 5]])
    [4] [[True, True]] [[0, 5]]
    """
    gid = np.asarray(gid, np.int64)
    t = np.asarray(t, np.int64)
    t0 = int(t.min())
    if k > 16 or int(t.max()) - t0 >= 1 << (62 - k):
        return None
    new = np.ones(len(gid), bool)
    new[1:] = gid[1:] != gid[:-1]
    starts = np.flatnonzero(new)
    offsets = np.append(starts, len(gid)).astype(np.int64)
    v = ((t - t0) << k) | np.asarray(mask, np.int64)
    lut = np.arange(1 << k, dtype=np.int64)
    units, entry, filled, ttc, at = best_packed(offsets, v, k, lut, k, window_us)
    return gid[starts][units], entry + t0, filled, ttc, np.where(at >= 0, at + t0, -1)


def runs(
    h: np.ndarray[Any, Any], v: np.ndarray[Any, Any], bits: int, lut: np.ndarray[Any, Any]
) -> tuple[Any, Any, Any] | None:
    """(unit offsets from 0 with one past the end last, rows per code, units with two rows
    of equal time and different masks ``lut[code]``) of rows streamed in (key, time) order,
    or None when they are not in that order: ``h`` (unsigned keys, one per unit) must not
    decrease, and within one key the time ``v >> bits`` must not decrease.

    >>> if available():
    ...     lut = np.arange(4)
    ...     o, p, tied = runs(np.array([3, 3, 9], np.uint64), np.array([5, 6, 1]), 2, lut)
    ...     print(o.tolist(), p.tolist(), tied.tolist(),
    ...           runs(np.array([3, 3], np.uint64), np.array([8, 4]), 2, lut),
    ...           runs(np.array([9, 3], np.uint64), np.array([0, 0]), 2, lut))
    ... else:
    ...     print([0, 2, 3], [0, 2, 1, 0], [True, False], None, None)
    [0, 2, 3] [0, 2, 1, 0] [True, False] None None
    """
    fns = require(_load())
    ok, offsets, present, tied = fns[2](
        np.ascontiguousarray(h, np.uint64),
        np.ascontiguousarray(v, np.int64),
        int(bits),
        np.ascontiguousarray(lut, np.int64),
    )
    return (offsets, present, tied) if ok else None


def best_packed(
    offsets: np.ndarray[Any, Any],
    v: np.ndarray[Any, Any],
    bits: int,
    lut: np.ndarray[Any, Any],
    k: int,
    window_us: int,
) -> tuple[Any, Any, Any, Any, Any]:
    """The outcome of :func:`best_pass` reading the packed stream
    (:class:`~kundresa.funnel._kernel.Packed`) directly: unit ``u`` is rows
    ``offsets[u]:offsets[u + 1]`` of ``v`` (``time << bits | code``, mask ``lut[code]``).
    Returns only the units that entered: (units, entry time, filled, ttc, at), as
    :class:`~kundresa.funnel._kernel.Outcome` holds them. Large inputs run one unit range
    per thread (:func:`kundresa._jit.threads_for`).

    >>> if available():
    ...     u, e, f, d, a = best_packed(np.array([0, 2, 3]), np.array([1, 22, 10]), 2,
    ...                                 np.arange(4), 2, 10)
    ...     print(u.tolist(), e.tolist(), f.tolist(), d.tolist())
    ... else:
    ...     print([0], [0], [[True, True]], [[0, 5]])
    [0] [0] [[True, True]] [[0, 5]]
    """
    fns = require(_load())
    offsets = np.ascontiguousarray(offsets, np.int64)
    v = np.ascontiguousarray(v, np.int64)
    lut = np.ascontiguousarray(lut, np.int64)
    m = len(offsets) - 1
    filled, ttc, at = fns[4](m, int(k))

    def part(u0: int, u1: int) -> None:
        fns[3](offsets, v, int(bits), lut, int(window_us), u0, u1, filled, ttc, at)

    parts = threads_for(len(v), PARALLEL_MIN_ROWS)
    # units are independent and the kernel releases the GIL: one unit range per thread
    run_parts(part, [m * i // parts for i in range(parts + 1)])
    return fns[5](filled, ttc, at)  # type: ignore[no-any-return]


#: rows per thread below which the compiled kernels run in one thread
PARALLEL_MIN_ROWS = 1_000_000
