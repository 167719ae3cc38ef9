"""Markov-chain removal effects, order 1..k, computed exactly (absorbing chain, linear algebra).

States are the last ``order`` channels of a journey (shorter at its start) plus ``start``,
and the absorbing ``conversion`` and ``null``. Transition probabilities are the observed
frequencies over all journeys, converting and not (consecutive repeats already merged). The
probability of conversion from ``start`` solves ``(I - Q) x = r`` where ``Q`` holds the
transient-to-transient probabilities and ``r`` the transient-to-conversion ones. Removing a
channel sends every transition into a state that contains it to ``null``: the same system
without those states. The removal effect is ``1 - P(conversion without c) / P(conversion)``
and conversions are credited in proportion to the removal effects (Anderl et al. 2016,
"Mapping the customer journey: lessons learned from graph-based online attribution
modeling", IJRM 33(3); the definition of the R package ChannelAttribution). No Monte Carlo.

>>> from kundresa.attribution import Journeys
>>> j = Journeys.from_paths([["a", "c"], ["b", "c"]], conversions=[1, 0])
>>> m1, m2 = markov(j, order=1), markov(j, order=2)
>>> m1.removal_effects.tolist(), m2.removal_effects.tolist()
([0.5, 0.5, 1.0], [1.0, 0.0, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kundresa._errors import InvalidOptionError
from kundresa.attribution._journeys import Journeys

__all__ = ["MAX_STATES", "MAX_WORK", "MarkovChain", "markov"]

Array = np.ndarray[Any, Any]
#: Dense linear algebra limit (order k on many channels can exceed it; lower the order).
MAX_STATES = 4000
#: the exact removal effects solve one dense system of the states per channel: at most this
#: many channels x states^3 (about a minute on one core; 1,563 channels from
#: ``channel_column=ts`` ran for hours: issue 14)
MAX_WORK = 2e11


@dataclass(frozen=True, eq=False)
class MarkovChain:
    """The fitted chain: conversion probability, removal effects and credits per channel."""

    order: int
    states: int
    p_conversion: float
    removal_effects: Array
    credits: Array
    value_removal_effects: Array
    value_credits: Array


def _states(j: Journeys, order: int) -> Array:
    """An integer per touch encoding its last ``order`` channels within the journey."""
    base = np.int64(len(j.channels) + 1)
    jot = j.journey_of_touch()
    pos = np.arange(len(j.codes)) - j.offsets[:-1][jot]
    key = np.zeros(len(j.codes), dtype=np.int64)
    for d in range(order):
        shifted = np.zeros(len(j.codes), dtype=np.int64)
        ok = pos >= d
        shifted[d:] = j.codes[: len(j.codes) - d] + 1 if d else j.codes + 1
        key = key * base + np.where(ok, shifted, 0)
    return key


def _members(keys: Array, order: int, n_channels: int) -> Array:
    """Boolean matrix (state x channel): whether the state's window holds the channel."""
    base = n_channels + 1
    out = np.zeros((len(keys), n_channels), dtype=bool)
    k = keys.copy()
    for _ in range(order):
        digit = k % base
        rows = np.nonzero(digit > 0)[0]
        out[rows, digit[rows] - 1] = True
        k //= base
    return out


def _absorb(q: Array, r: Array, keep: Array) -> float:
    """P(absorbed in the target | start) over the transient states ``keep`` (start = 0)."""
    idx = np.nonzero(keep)[0]
    sub = q[np.ix_(idx, idx)]
    x = np.linalg.solve(np.eye(len(idx)) - sub, r[idx])
    return float(x[0])


def markov(j: Journeys, order: int = 1) -> MarkovChain:
    """Fit the order-``order`` chain and compute exact removal effects per channel.

    >>> from kundresa.attribution import Journeys
    >>> m = markov(Journeys.from_paths([["a", "b"], ["b"]], conversions=[1, 0]))
    >>> round(m.p_conversion, 3), m.credits.round(3).tolist()
    (0.5, [0.333, 0.667])
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise InvalidOptionError("order", order, fix="pass a whole number >= 1")
    n_ch = len(j.channels)
    lengths = j.lengths
    has = lengths > 0
    keys = _states(j, order)
    uniq, inv = np.unique(keys, return_inverse=True)
    n_states = len(uniq) + 1  # 0 = start
    if n_states > MAX_STATES:
        raise InvalidOptionError(
            "order", order, fix=f"{n_states:,} states exceed {MAX_STATES:,}; use a lower order"
        )
    if n_ch * float(n_states) ** 3 > MAX_WORK:
        raise InvalidOptionError(
            "channels",
            n_ch,
            fix=f"{n_ch:,} channels over {n_states:,} states are too many for the exact "
            "Markov chain; group channels (channel_column) or lower markov_order",
        )
    state = inv.astype(np.int64) + 1
    jot = j.journey_of_touch()
    pos = np.arange(len(j.codes)) - j.offsets[:-1][jot]
    prev = np.where(pos == 0, 0, np.concatenate([[0], state[:-1]]))
    # transient transitions (counts), then terminal ones per journey's last touch
    counts = (
        np.bincount(prev * n_states + state, minlength=n_states * n_states)
        .astype(np.float64)
        .reshape(n_states, n_states)
    )
    last_state = state[j.offsets[1:][has] - 1]
    conv = j.conversions[has]
    value = j.value[has]
    to_conv = np.bincount(last_state, conv, minlength=n_states)
    to_value = np.bincount(last_state, value * (conv > 0), minlength=n_states)
    to_null = np.bincount(last_state, 1.0 - np.minimum(conv, 1.0), minlength=n_states)
    totals = counts.sum(axis=1) + to_conv + to_null
    totals[totals == 0] = 1.0
    q = counts / totals[:, None]
    r = to_conv / totals
    rv = to_value / totals
    keep_all = np.ones(n_states, dtype=bool)
    p = _absorb(q, r, keep_all)
    pv = _absorb(q, rv, keep_all) if value.any() else 0.0
    member = np.vstack([np.zeros((1, n_ch), dtype=bool), _members(uniq, order, n_ch)])
    re = np.zeros(n_ch)
    rev = np.zeros(n_ch)
    for c in range(n_ch):
        keep = ~member[:, c]
        re[c] = 1.0 - _absorb(q, r, keep) / p if p > 0 else 0.0
        if pv > 0:
            rev[c] = 1.0 - _absorb(q, rv, keep) / pv
    total_conv = float(conv.sum())
    total_value = float((value * (conv > 0)).sum())
    credits = total_conv * re / re.sum() if re.sum() > 0 else np.zeros(n_ch)
    value_credits = total_value * rev / rev.sum() if rev.sum() > 0 else np.zeros(n_ch)
    return MarkovChain(
        order=order,
        states=n_states - 1,
        p_conversion=p,
        removal_effects=re,
        credits=credits,
        value_removal_effects=rev,
        value_credits=value_credits,
    )
