"""Rule-based attribution models, vectorised over the compact journey arrays.

Every model turns a journey's credit (its conversions, or its value) into weights over its
touches that sum to one, except ``participation``, which gives every distinct channel of a
converting journey the full credit (by definition its credits sum to more than the
conversions). Journeys without touches carry no credit (reported as unattributed).

>>> from kundresa.attribution import Journeys
>>> j = Journeys.from_paths([["search", "social", "web"]], conversions=[1])
>>> dict(zip(j.channels, rule_credits(j, "position").round(2).tolist()))
{'search': 0.4, 'social': 0.2, 'web': 0.4}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from kundresa._errors import InvalidOptionError
from kundresa.attribution._journeys import Journeys

__all__ = ["POSITION_WEIGHTS", "RULE_MODELS", "rule_credits", "touch_weights"]

Array = np.ndarray[Any, Any]

#: (first, last) shares of the position-based family; the middle touches split the rest.
POSITION_WEIGHTS: Final[dict[str, tuple[float, float]]] = {
    "position": (0.4, 0.4),
    "j_shaped": (0.2, 0.6),
    "inverse_j": (0.6, 0.2),
}
RULE_MODELS: Final = (
    "first",
    "last",
    "last_non_direct",
    "linear",
    "participation",
    "time_decay",
    "position",
    "j_shaped",
    "inverse_j",
    "custom",
)


def _position_weights(j: Journeys, first: float, last: float) -> Array:
    lengths = j.lengths
    jot = j.journey_of_touch()
    length = lengths[jot]
    pos = np.arange(len(j.codes)) - j.offsets[:-1][jot]
    is_first = pos == 0
    is_last = pos == length - 1
    w = np.zeros(len(j.codes))
    w[length == 1] = 1.0
    two = length == 2
    total = first + last
    w[two & is_first] = first / total if total else 0.5
    w[two & is_last] = last / total if total else 0.5
    many = length >= 3
    middle = (1.0 - first - last) / np.maximum(length - 2, 1)
    w[many] = middle[many]
    w[many & is_first] = first
    w[many & is_last] = last
    return w


def touch_weights(
    j: Journeys,
    model: str,
    *,
    half_life_seconds: float = 7 * 86400.0,
    direct_channels: Sequence[str] = ("direct",),
    custom: tuple[float, float] = (0.3, 0.3),
) -> Array:
    """Per-touch weights of a rule model; each journey's weights sum to 1.

    ``custom`` is ``(first, last)``: the first and last touch get those shares and the middle
    touches split the rest equally (two touches: first and last in proportion).

    >>> from kundresa.attribution import Journeys
    >>> j = Journeys.from_paths([["a", "b"]], conversions=[1], seconds_before=[[7 * 86400, 0]])
    >>> touch_weights(j, "time_decay").round(3).tolist()
    [0.333, 0.667]
    """
    jot = j.journey_of_touch()
    lengths = j.lengths
    pos = np.arange(len(j.codes)) - j.offsets[:-1][jot]
    if model == "first":
        return np.asarray(pos == 0, dtype=np.float64)
    if model == "last":
        return np.asarray(pos == lengths[jot] - 1, dtype=np.float64)
    if model == "linear":
        out: Array = 1.0 / lengths[jot]
        return out
    if model == "time_decay":
        if not half_life_seconds > 0:
            raise InvalidOptionError("half_life", half_life_seconds, fix="use a positive duration")
        raw = np.exp2(-j.seconds_before / half_life_seconds)
        total = np.bincount(jot, raw, minlength=j.n_journeys)
        return np.asarray(raw / total[jot])
    if model in POSITION_WEIGHTS:
        first_w, last_w = POSITION_WEIGHTS[model]
        return _position_weights(j, first_w, last_w)
    if model == "custom":
        first, last = custom
        if min(first, last) < 0 or first + last > 1:
            raise InvalidOptionError(
                "custom", custom, fix="pass (first, last) shares >= 0 that sum to at most 1"
            )
        return _position_weights(j, first, last)
    if model == "last_non_direct":
        direct = [j.channels.index(c) for c in direct_channels if c in j.channels]
        idx = np.arange(len(j.codes))
        candidate = np.where(np.isin(j.codes, direct), -1, idx)
        best = np.full(j.n_journeys, -1, dtype=np.int64)
        np.maximum.at(best, jot, candidate)
        final = j.offsets[1:] - 1
        best = np.where(best < 0, final, best)
        w = np.zeros(len(j.codes))
        has = lengths > 0
        w[best[has]] = 1.0
        return w
    raise InvalidOptionError("model", model, allowed=RULE_MODELS)


def rule_credits(
    j: Journeys,
    model: str,
    *,
    weight: Array | None = None,
    half_life_seconds: float = 7 * 86400.0,
    direct_channels: Sequence[str] = ("direct",),
    custom: tuple[float, float] = (0.3, 0.3),
) -> Array:
    """Credit per channel (in ``j.channels`` order) under a rule model.

    ``weight`` is the credit of each journey (default: its conversions; pass ``j.value`` for
    revenue).

    >>> from kundresa.attribution import Journeys
    >>> j = Journeys.from_paths([["a", "b"], ["b"]], conversions=[1, 1])
    >>> rule_credits(j, "last").tolist(), rule_credits(j, "participation").tolist()
    ([0.0, 2.0], [1.0, 2.0])
    """
    credit = j.conversions if weight is None else np.asarray(weight, dtype=np.float64)
    jot = j.journey_of_touch()
    n_ch = len(j.channels)
    if model == "participation":
        if n_ch <= 62:
            masks = j.channel_sets()
            return np.array([float(credit[(masks >> i) & 1 == 1].sum()) for i in range(n_ch)])
        key = np.unique(jot * n_ch + j.codes)
        return np.bincount(key % n_ch, credit[key // n_ch], minlength=n_ch)
    w = touch_weights(
        j,
        model,
        half_life_seconds=half_life_seconds,
        direct_channels=direct_channels,
        custom=custom,
    )
    return np.bincount(j.codes, w * credit[jot], minlength=n_ch)
