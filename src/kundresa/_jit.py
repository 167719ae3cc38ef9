"""Optional numba compilation shared by the compiled kernels (funnel, paths).

numba (BSD) is an optional extra (``pip install 'kundresa[fast]'``, also in ``[dev]``): every
compiled kernel has a NumPy twin with identical results, used when numba is missing or
``KUNDRESA_NO_NUMBA=1`` is set (tests compare the two).

>>> import numpy as np
>>> from kundresa.funnel._compiled import _sort_py
>>> fns = compile_all(_sort_py)  # None without numba
>>> fns is None or fns[0](np.array([0, 3]), np.array([3, 1, 2])).tolist() == [1, 2, 3]
True
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["compile_all", "enabled", "require", "run_parts", "threads_for"]

_CACHE: dict[tuple[Callable[..., Any], ...], tuple[Callable[..., Any], ...] | None] = {}


def enabled() -> bool:
    """Whether compiled kernels may run: numba importable and not disabled by
    ``KUNDRESA_NO_NUMBA=1``.

    >>> enabled() in (True, False)
    True
    """
    if os.environ.get("KUNDRESA_NO_NUMBA") == "1":
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def compile_all(*fns: Callable[..., Any]) -> tuple[Callable[..., Any], ...] | None:
    """``fns`` compiled with ``numba.njit(cache=True, nogil=True)`` (once per process), or
    ``None`` when :func:`enabled` is false. Compilation is lazy: the first call of each
    compiled function loads it from numba's on-disk cache or compiles it.

    >>> compile_all() in ((), None)
    True
    """
    if not enabled():
        return None
    if fns not in _CACHE:
        import numba

        _CACHE[fns] = tuple(numba.njit(cache=True, nogil=True)(f) for f in fns)
    return _CACHE[fns]


def threads_for(items: int, per_thread: int) -> int:
    """Threads for a compiled pass over ``items`` (the kernels release the GIL): one per
    core, at most 8, each getting at least ``per_thread`` items; one for small inputs.

    >>> threads_for(10, 1000), threads_for(10**9, 1000) in range(1, 9)
    (1, True)
    """
    if items < 2 * per_thread:
        return 1
    return max(1, min(8, _cores(), items // per_thread))


def _cores() -> int:
    """Cores this process may run on (affinity and cpusets respected where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def require(fns: tuple[Callable[..., Any], ...] | None) -> tuple[Callable[..., Any], ...]:
    """``fns`` from :func:`compile_all`, or a RuntimeError saying how to get numba.

    >>> require((len,))[0]("ab")
    2
    """
    if fns is None:
        raise RuntimeError(
            "numba is not installed (or KUNDRESA_NO_NUMBA=1): pip install 'kundresa[fast]'"
        )
    return fns


_T = TypeVar("_T")
_POOL: tuple[int, ThreadPoolExecutor] | None = None  # (pid, pool): a forked child makes its own
_POOL_LOCK = threading.Lock()
_PREFIX = "kundresa-kernel"


def _after_fork() -> None:  # pragma: no cover - runs in a forked child
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()  # the parent's lock may have been held


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def run_parts(fn: Callable[[int, int], _T], cuts: Sequence[int]) -> list[_T]:
    """``fn(cuts[i], cuts[i + 1])`` for every range, the ranges in parallel on one shared
    thread pool (created once: starting threads per call costs ~0.5 ms, as much as a
    small kernel); a single range runs in the calling thread, and so do all ranges when
    called from inside a part (waiting on the pool from its own workers could deadlock).

    >>> run_parts(lambda a, b: b - a, [0, 3, 10])
    [3, 7]
    """
    if len(cuts) <= 2:
        return [fn(cuts[0], cuts[-1])] if len(cuts) == 2 else []
    if threading.current_thread().name.startswith(_PREFIX):  # nested: no pool
        return [fn(a, b) for a, b in itertools.pairwise(cuts)]
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(), ThreadPoolExecutor(8, thread_name_prefix=_PREFIX))
        pool = _POOL[1]
    return list(pool.map(fn, cuts[:-1], cuts[1:]))
