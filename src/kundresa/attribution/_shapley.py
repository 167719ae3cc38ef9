"""Shapley-value attribution over channel sets, exact; and the ordered variant.

Two coalition values:

* ``coalition="conversions"`` (Zhao, Mahboobi, Bagheri 2018, "Shapley value methods for
  attribution modeling in online advertising", arXiv:1804.05327, the "simplified" value):
  ``v(S)`` = conversions of the converting journeys whose channel set lies inside ``S``.
  Computed by full enumeration of the ``2^n`` coalitions (subset-sum transform) for up to
  :data:`MAX_EXACT` channels. This game is a sum of unanimity games, so its Shapley value
  equals splitting each journey's conversions equally among its distinct channels; beyond
  :data:`MAX_EXACT` channels that closed form is used (still exact, no sampling).
* ``coalition="rate"``: for each converting journey with channel set ``T``, the game on the
  subsets of ``T`` with ``v(S)`` = observed conversion rate of journeys whose channel set is
  exactly ``S`` (0 if never observed); the journey's conversions are shared in proportion to
  that game's Shapley values (which sum to ``v(T)``). Uses non-converting journeys, so a
  channel that is everywhere but adds no conversions gets little credit. Exact enumeration
  per set; sets with more than :data:`MAX_EXACT` channels are split equally (reported).

The ordered variant (Zhao et al. 2018, section 3.2) credits each channel at the position of
its first touch in the journey; summing over positions gives the ``conversions`` value.

>>> from kundresa.attribution import Journeys
>>> j = Journeys.from_paths([["F"], ["F", "L"]], conversions=[1, 1])
>>> shapley(j).credits.tolist()
[1.5, 0.5]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from kundresa._errors import InvalidOptionError
from kundresa.attribution._journeys import Journeys

__all__ = ["COALITIONS", "MAX_EXACT", "ShapleyValues", "shapley", "shapley_game"]

Array = np.ndarray[Any, Any]
MAX_EXACT: Final = 15
COALITIONS: Final = ("conversions", "rate")


@dataclass(frozen=True, eq=False)
class ShapleyValues:
    """Credits per channel, the ordered credits (channel x position) and the method used."""

    credits: Array
    ordered: Array
    method: str


def _popcount(x: Array) -> Array:
    out = np.zeros(len(x), dtype=np.int64)
    y = x.copy()
    while y.any():
        out += y & 1
        y >>= 1
    return out


def shapley_game(v: Array, n: int) -> Array:
    """Exact Shapley values of the game ``v`` (indexed by bit mask, ``v[0] = 0``) on ``n``.

    >>> shapley_game(np.array([0.0, 1.0, 1.0, 3.0]), 2).tolist()
    [1.5, 1.5]
    """
    masks = np.arange(1 << n, dtype=np.int64)
    size = _popcount(masks)
    fact = [math.factorial(k) for k in range(n + 1)]
    weight = np.array([fact[s] * fact[n - s - 1] / fact[n] if s < n else 0.0 for s in size])
    out = np.zeros(n)
    for i in range(n):
        bit = np.int64(1) << i
        without = masks[(masks & bit) == 0]
        out[i] = float(np.sum(weight[without] * (v[without | bit] - v[without])))
    return out


def _subset_sums(f: Array, n: int) -> Array:
    """``v[S] = sum of f[T] for T inside S`` (zeta transform, O(n 2^n))."""
    v = f.copy()
    masks = np.arange(1 << n, dtype=np.int64)
    for i in range(n):
        bit = np.int64(1) << i
        has = (masks & bit) != 0
        v[has] += v[masks[has] ^ bit]
    return v


def _ordered(j: Journeys, credit: Array) -> Array:
    """Credit per (channel, position of the channel's first touch), shared equally."""
    n_ch = max(len(j.channels), 1)
    jot = j.journey_of_touch()
    key = jot * n_ch + j.codes
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    fj = jot[first]
    start = np.searchsorted(fj, fj, side="left")
    rank = np.arange(len(first)) - start
    distinct = np.bincount(fj, minlength=j.n_journeys)
    depth = int(rank.max()) + 1 if len(rank) else 1
    out = np.zeros((len(j.channels), depth))
    np.add.at(out, (j.codes[first], rank), credit[fj] / np.maximum(distinct[fj], 1))
    return out


def shapley(
    j: Journeys, *, coalition: str = "conversions", weight: Array | None = None
) -> ShapleyValues:
    """Shapley credits per channel (in ``j.channels`` order).

    >>> from kundresa.attribution import Journeys
    >>> j = Journeys.from_paths([["a"], ["a", "b"], ["b"]], conversions=[1, 1, 0])
    >>> shapley(j, coalition="rate").credits.round(3).tolist()
    [2.0, 0.0]
    """
    if coalition not in COALITIONS:
        raise InvalidOptionError("coalition", coalition, allowed=COALITIONS)
    credit = j.conversions if weight is None else np.asarray(weight, dtype=np.float64)
    n = len(j.channels)
    masks = j.channel_sets()
    conv = credit > 0
    ordered = _ordered(j, credit)
    if coalition == "conversions":
        if n <= MAX_EXACT:
            f = np.bincount(masks[conv], credit[conv], minlength=1 << n).astype(np.float64)
            f[0] = 0.0  # journeys without touches are unattributed
            values = shapley_game(_subset_sums(f, n), n)
            return ShapleyValues(values, ordered, f"exact enumeration of {1 << n:,} coalitions")
        return ShapleyValues(
            ordered.sum(axis=1), ordered, "exact closed form (sum of unanimity games)"
        )
    # rate: conversion rate of journeys with exactly set S, from all journeys
    sets, inv = np.unique(masks, return_inverse=True)
    n_j = np.bincount(inv, minlength=len(sets)).astype(np.float64)
    n_c = np.bincount(inv, j.conversions, minlength=len(sets))
    rate = dict(zip(sets.tolist(), (n_c / n_j).tolist(), strict=True))
    got = np.bincount(inv[conv], credit[conv], minlength=len(sets))
    out = np.zeros(n)
    split = 0
    for s, total in zip(sets.tolist(), got.tolist(), strict=True):
        if total == 0 or s == 0:
            continue
        members = [i for i in range(n) if s >> i & 1]
        k = len(members)
        if k > MAX_EXACT:
            out[members] += total / k
            split += 1
            continue
        sub = np.zeros(1 << k)
        for m in range(1, 1 << k):
            full = sum(1 << members[b] for b in range(k) if m >> b & 1)
            sub[m] = rate.get(full, 0.0)
        phi = shapley_game(sub, k)
        out[members] += total * phi / sub[-1]
    method = "exact enumeration per channel set"
    if split:
        method += f"; {split} sets over {MAX_EXACT} channels split equally"
    return ShapleyValues(out, ordered, method)
