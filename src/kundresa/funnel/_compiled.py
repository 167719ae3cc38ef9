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

import os
from typing import Any

import numpy as np

__all__ = ["available", "best_pass", "decode"]

_KERNEL: Any = None
_DECODE: Any = None
_SORT: Any = None
_TRIED = False


def available() -> bool:
    """Whether the compiled kernel can run (numba importable, not disabled by
    ``KUNDRESA_NO_NUMBA=1``)."""
    return _load() is not None


def _load() -> Any:
    global _KERNEL, _DECODE, _SORT, _TRIED
    if os.environ.get("KUNDRESA_NO_NUMBA") == "1":
        return None
    if not _TRIED:
        _TRIED = True
        try:
            import numba
        except ImportError:
            return None
        _KERNEL = numba.njit(cache=True, nogil=True)(_best_pass_py)
        _DECODE = numba.njit(cache=True, nogil=True)(_decode_py)
        _SORT = numba.njit(cache=True, nogil=True)(_sort_py)
    return _KERNEL


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


def _best_pass_py(
    gid: Any, t: Any, mask: Any, k: int, window_us: int
) -> tuple[Any, Any, Any, Any]:  # pragma: no cover - runs compiled
    n = len(t)
    m = 0
    for i in range(n):
        if i == 0 or gid[i] != gid[i - 1]:
            m += 1
    units = np.empty(m, np.int64)
    filled = np.zeros((m, k), np.bool_)
    ttc = np.full((m, k), -1, np.int64)
    at = np.full((m, k), -1, np.int64)
    best = np.empty(k, np.int64)
    none = np.iinfo(np.int64).min
    u = -1
    for i in range(n):
        if i == 0 or gid[i] != gid[i - 1]:
            u += 1
            units[u] = gid[i]
            for j in range(k):
                best[j] = none
        mk = mask[i]
        if mk == 0:
            continue
        ti = t[i]
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
    return units, filled, ttc, at


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
    if _load() is None:
        raise RuntimeError("numba is not installed: pip install 'kundresa[fast]'")
    offsets = np.ascontiguousarray(offsets, np.int64)
    v = np.ascontiguousarray(v, np.int64)
    w = _SORT(offsets, v) if sort else v
    rows = _DECODE(offsets, w, int(bits), np.ascontiguousarray(table, np.int64))
    return (w, *rows)


def best_pass(
    gid: np.ndarray[Any, Any],
    t: np.ndarray[Any, Any],
    mask: np.ndarray[Any, Any],
    k: int,
    window_us: int,
) -> tuple[Any, Any, Any, Any]:
    """(unit codes, filled, ttc, at) for every unit run, compiled; see the module doc.

    >>> if available():
    ...     u, f, d, a = best_pass(np.array([0, 0]), np.array([0, 5]), np.array([1, 2]), 2, 10)
    ...     print(f.tolist(), d.tolist())
    ... else:
    ...     print([[True, True]], [[0, 5]])
    [[True, True]] [[0, 5]]
    """
    kern = _load()
    if kern is None:
        raise RuntimeError("numba is not installed: pip install 'kundresa[fast]'")
    return kern(  # type: ignore[no-any-return]
        np.ascontiguousarray(gid, np.int64),
        np.ascontiguousarray(t, np.int64),
        np.ascontiguousarray(mask, np.int64),
        int(k),
        int(window_us),
    )
