"""The shared kernel thread pool (kundresa._jit.run_parts)."""

from __future__ import annotations

import os
import threading

from kundresa import _jit


def test_nested_run_parts_runs_inline_instead_of_deadlocking() -> None:
    """Sixteen parts, each splitting itself again: with the pool's 8 workers all waiting on
    inner parts queued behind the outer ones this would hang; nested calls run inline."""
    got: list[list[int]] = []

    def outer(a: int, b: int) -> int:
        return sum(_jit.run_parts(lambda c, d: d - c, [a, a + 1, b]))

    worker = threading.Thread(
        target=lambda: got.append(_jit.run_parts(outer, list(range(0, 33, 2)))), daemon=True
    )
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "run_parts deadlocked on a nested call"
    assert got == [[2] * 16]


def test_thread_count_respects_cpu_affinity() -> None:
    """One thread below 2 x per-thread items; else at most 8 and at most the usable cores."""
    assert _jit.threads_for(10, 100) == 1
    cores = _jit._cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    assert _jit.threads_for(10**9, 1) == min(8, cores)
