"""Optional compiled (numba) Sankey counts: :func:`kundresa.paths._kernel.flow_counts` in
two passes over the selected paths instead of NumPy's per-step arrays and bit words.

Same contract and result as the NumPy path (tested against it and the pure-Python reference:
``tests/test_paths_properties.py``); used when numba is installed (``kundresa[fast]``).
Pass 1 counts each step's labels (for the top-K ranking, done in Python on the tiny count
table); pass 2 maps labels through the per-step top-K table and counts nodes, links and
unique persons, a person being counted once per node or link by remembering the last person
seen there (a "stamp"), so no per-person sets and no sort are needed.

>>> from kundresa._jit import enabled
>>> enabled() in (True, False)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kundresa._jit import compile_all, require, run_parts, threads_for

__all__ = ["available", "flow_links", "flow_nodes"]


def available() -> bool:
    """Whether the compiled Sankey kernels can run (numba, not ``KUNDRESA_NO_NUMBA=1``).

    >>> available() in (True, False)
    True
    """
    return _load() is not None


def _load() -> Any:
    return compile_all(_nodes_py, _links_py)


def _nodes_py(
    label: Any, base: Any, room: Any, backwards: bool, steps: int, w: int
) -> Any:  # pragma: no cover - runs compiled
    counts = np.zeros((steps, w), np.int64)
    for p in range(len(base)):
        b = base[p]
        r = room[p]
        for k in range(steps):
            d = steps - 1 - k if backwards else k
            if r < d:
                counts[k, 0] += 1
            else:
                counts[k, label[b - d if backwards else b + d] + 1] += 1
    return counts


def _links_py(
    label: Any, base: Any, room: Any, backwards: bool, lut: Any, persons: Any
) -> tuple[Any, Any, Any, Any]:  # pragma: no cover - runs compiled
    # flat arrays and one loop per path (nodes and the link into each node): ~30% faster
    # than 2-D/3-D indexing with a separate link loop (measured, 240k paths)
    steps, w = lut.shape
    nl = max(steps - 1, 0)
    counts = np.zeros(steps * w, np.int64)
    node_persons = np.zeros(steps * w, np.int64)
    node_seen = np.full(steps * w, -1, np.int64)
    links = np.zeros(nl * w * w, np.int64)
    link_persons = np.zeros(nl * w * w, np.int64)
    link_seen = np.full(nl * w * w, -1, np.int64)
    flat = lut.ravel()
    sign = -1 if backwards else 1
    for p in range(len(base)):
        b = base[p]
        r = room[p]
        who = persons[p]
        prev = 0
        for k in range(steps):
            d = steps - 1 - k if backwards else k
            c = 0
            if r >= d:
                c = flat[k * w + label[b + sign * d] + 1]
            i = k * w + c
            counts[i] += 1
            if c != 0:
                if node_seen[i] != who:
                    node_seen[i] = who
                    node_persons[i] += 1
                if k > 0 and prev != 0:
                    x = ((k - 1) * w + prev) * w + c
                    links[x] += 1
                    if link_seen[x] != who:
                        link_seen[x] = who
                        link_persons[x] += 1
            prev = c
    return (
        counts.reshape(steps, w),
        node_persons.reshape(steps, w),
        links.reshape(nl, w, w),
        link_persons.reshape(nl, w, w),
    )


def flow_nodes(
    label: np.ndarray[Any, Any],
    base: np.ndarray[Any, Any],
    room: np.ndarray[Any, Any],
    *,
    backwards: bool,
    steps: int,
    width: int,
) -> np.ndarray[Any, Any]:
    """Paths per step and shifted label code (0 absent, label + 1): ``steps x width``.

    A path's step ``k`` is row ``base + k`` (``base - (steps - 1 - k)`` when ``backwards``)
    if ``room`` (rows available) allows, else absent.

    >>> if available():
    ...     c = flow_nodes(np.array([0, 1, 1]), np.array([0, 2]), np.array([1, 0]),
    ...                    backwards=False, steps=2, width=4)
    ...     print(c.tolist())
    ... else:
    ...     print([[0, 1, 1, 0], [1, 0, 1, 0]])
    [[0, 1, 1, 0], [1, 0, 1, 0]]
    """
    fns = require(_load())
    return fns[0](  # type: ignore[no-any-return]
        np.ascontiguousarray(label, np.int64),
        np.ascontiguousarray(base, np.int64),
        np.ascontiguousarray(room, np.int64),
        bool(backwards),
        int(steps),
        int(width),
    )


def flow_links(
    label: np.ndarray[Any, Any],
    base: np.ndarray[Any, Any],
    room: np.ndarray[Any, Any],
    *,
    backwards: bool,
    lut: np.ndarray[Any, Any],
    persons: np.ndarray[Any, Any],
) -> tuple[Any, Any, Any, Any]:
    """(node counts, node persons, link counts, link persons) with every step's shifted
    codes mapped through ``lut[step]`` (top-K and "other"); code 0 (absent) never links and
    counts no person. ``persons``: the person of every path, each person's paths contiguous
    (large inputs run in one thread per core, split between persons).

    >>> if available():
    ...     lut = np.tile(np.arange(4), (2, 1))
    ...     n, npers, lk, lp = flow_links(np.array([0, 1, 0, 1]), np.array([0, 2]),
    ...                                   np.array([1, 1]), backwards=False, lut=lut,
    ...                                   persons=np.array([7, 7]))
    ...     print(n.tolist(), npers.tolist(), int(lk[0, 1, 2]), int(lp[0, 1, 2]))
    ... else:
    ...     print([[0, 2, 0, 0], [0, 0, 2, 0]], [[0, 1, 0, 0], [0, 0, 1, 0]], 2, 1)
    [[0, 2, 0, 0], [0, 0, 2, 0]] [[0, 1, 0, 0], [0, 0, 1, 0]] 2 1
    """
    fns = require(_load())
    label = np.ascontiguousarray(label, np.int64)
    base = np.ascontiguousarray(base, np.int64)
    room = np.ascontiguousarray(room, np.int64)
    lut = np.ascontiguousarray(lut, np.int64)
    persons = np.ascontiguousarray(persons, np.int64)
    steps, w = lut.shape
    # every thread has its own (steps - 1) x w x w link arrays (3): at most ~64 MB each
    memory_ok = 3 * 8 * max(steps - 1, 1) * w * w <= 64 * 2**20
    parts = threads_for(len(base), PARALLEL_MIN_PATHS) if memory_ok else 1
    cuts = _person_cuts(persons, parts)

    def part(a: int, b: int) -> tuple[Any, Any, Any, Any]:
        return fns[1](label, base[a:b], room[a:b], bool(backwards), lut, persons[a:b])  # type: ignore[no-any-return]

    # the kernel releases the GIL: one thread per part, parts cut between persons so that
    # each person's unique counts stay within one part, then the parts' counts are summed
    got = run_parts(part, cuts)
    if len(got) == 1:
        return got[0]
    return tuple(sum(x[i] for x in got) for i in range(4))


#: paths per thread below which the Sankey kernel runs in one thread
PARALLEL_MIN_PATHS = 100_000


def _person_cuts(persons: np.ndarray[Any, Any], parts: int) -> list[int]:
    """Up to ``parts`` contiguous ranges of paths ``[cuts[i], cuts[i + 1])``, cut only where
    the person changes (paths of one person are contiguous).

    >>> _person_cuts(np.array([1, 1, 2, 2, 2, 3]), 2)
    [0, 5, 6]
    >>> _person_cuts(np.array([1, 1, 1]), 2)
    [0, 3]
    """
    n = len(persons)
    cuts = [0]
    for i in range(1, parts):
        c = max(n * i // parts, cuts[-1])
        while 0 < c < n and persons[c] == persons[c - 1]:
            c += 1
        if cuts[-1] < c < n:
            cuts.append(c)
    cuts.append(n)
    return cuts
