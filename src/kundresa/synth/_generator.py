"""Synthetic multi-channel customer journeys with planted ground truth.

The world is an electronics and home web shop with physical stores in Sweden. Four personas
(``wheel_kicker``, ``impulse``, ``loyal``, ``trial_churner``) move through marketing touches,
web and app sessions on one to three devices, store visits with a loyalty card, e-mails,
support and surveys. Every quantity an analysis should recover is *planted*: the generator
draws from exactly the probabilities it reports in the truth dictionary.

Causal structure (what the truth means):

* **Funnel entry** (first ``Product Viewed``) is decided once per person, after the person's
  awareness phase, with ``P = 1 - (1 - base) * prod_c (1 - effect_c)`` over the distinct
  channels touched before. Persons who do not enter never view a product and get no new
  marketing channel afterwards. The entry session of most persons opens with a *closing*
  direct visit (typed URL on the web, app opened) that has no effect of its own. The truth
  also holds ``channel_removal_effects``: per channel, the expected entries lost without its
  touches (sum over persons of ``P(entry | S) - P(entry | S without c)``; reach x effect,
  computed from the simulation without drawing anything, so the events do not change).
* **Cart**: after entry a person adds to cart with ``add``. In the add session the person
  starts checkout with ``checkout`` and then orders with ``order``. Everyone else has
  abandoned the cart: with probability 0.5 (randomised) a ``cart_reminder`` e-mail follows
  1-24 h later; the person returns with ``return_reminded`` / ``return_not_reminded`` and a
  return always ends in an order, online (through checkout) or, for loyalty-card holders
  with ``store_return``, in a store (no checkout event). The funnel-step probabilities
  in the truth follow exactly: with ``R = (return_reminded + return_not_reminded) / 2`` and
  ``on = 1 - store_return * card``, ``p2 = add``, ``p3 = c + (1 - c) R on`` and
  ``p4 = (c o + c (1 - o) R + (1 - c) R on) / p3`` (c = checkout, o = order). The reminder
  experiment runs on each person's first cart; repeat purchases (only after a checkout)
  go straight through.
* No other process creates cart, checkout or order events for a person who stopped in the
  funnel; store purchases of persons who never added to cart (ROPO after research, or pure
  offline shoppers) sit outside the chain and do not affect the step probabilities.

The loyalty stage (``loyalty=True``, see ``_loyalty``): every customer repurchases and drops
out under per-persona BG/NBD parameters, spends under Gamma-Gamma ones and refers and reviews
at per-persona rates tied to a planted NPS trait; the journeys themselves then have no
repeat purchases (the BG/NBD process replaces them).

The parts: ``_world`` (the constants and personas), ``_tables`` (event templates and
property strings interned to ints), ``_sim`` (the simulation, one seeded uniform stream),
``_loyalty`` (the loyalty stage, vectorised, its own stream), ``_truth`` (the planted truth
from the simulation's arrays); this module checks the arguments, runs the simulation and
builds the Arrow table.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pyarrow as pa

from kundresa._errors import InvalidOptionError
from kundresa.synth._loyalty import _plant
from kundresa.synth._sim import _Sim
from kundresa.synth._tables import _TEMPLATE_COLUMNS
from kundresa.synth._truth import (
    _Arrays,
    _truth,
)
from kundresa.synth._world import (
    _CARD,
    _EMAIL,
    _PREV,
    _USER,
    CHANNEL_EFFECTS,
    FUNNEL_STEPS,
    MIN_DAYS,
    PERSONAS,
)

__all__ = [
    "CHANNEL_EFFECTS",
    "EVENTS_SCHEMA",
    "FUNNEL_STEPS",
    "PERSONAS",
    "default_start",
    "generate_events",
]
DEFAULT_START: Final = dt.date(2026, 1, 5)


_COLUMNS: Final = (
    ("event_id", pa.string()),
    ("ts", pa.timestamp("us")),
    ("type", pa.string()),
    ("event", pa.string()),
    ("anonymous_id", pa.string()),
    ("user_id", pa.string()),
    ("previous_id", pa.string()),
    ("channel", pa.string()),
    ("touchpoint", pa.string()),
    ("campaign", pa.string()),
    ("utm_source", pa.string()),
    ("utm_medium", pa.string()),
    ("utm_content", pa.string()),
    ("utm_term", pa.string()),
    ("revenue", pa.float64()),
    ("currency", pa.string()),
    ("email", pa.string()),
    ("loyalty_card", pa.string()),
    ("properties", pa.string()),
)
#: The schema of the generated events table.
EVENTS_SCHEMA: Final = pa.schema([pa.field(n, t) for n, t in _COLUMNS])


def default_start(days: int) -> dt.date:
    """The first day of a ``days``-long window by default: 2026-01-05 (a Monday) for up to
    56 days; longer windows start whole weeks earlier so that they end by 2026-03-02, the
    default shop's end (a long horizon lies in the past: an ingest quarantines events
    from the future).

    >>> default_start(56), default_start(730)
    (datetime.date(2026, 1, 5), datetime.date(2024, 2, 26))
    """
    return DEFAULT_START - dt.timedelta(weeks=math.ceil(max(0, days - 56) / 7))


def generate_events(
    persons: int,
    seed: int,
    *,
    start: dt.date | None = None,
    days: int = 56,
    loyalty: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[pa.Table, dict[str, Any]]:
    """Generate seeded multi-channel journeys and the ground truth planted in them.

    Args:
        persons: number of planted persons (about 30 events each in 56 days).
        seed: seed of the ``numpy`` PCG64 generator; the same
            ``(persons, seed, start, days, loyalty)`` always gives a byte-identical table.
        start: first day of the data window (UTC); by default :func:`default_start`.
        days: length of the window in days (at least 14).
        loyalty: plant the loyalty stage (see :mod:`kundresa.synth._loyalty`; meant for a
            long horizon such as ``days=730``): every customer repurchases and drops out
            under per-persona BG/NBD parameters, spends under Gamma-Gamma ones, and sends
            referrals and reviews; truth sections ``loyalty`` and ``ambassadors``.
        progress: called as ``progress(stage, done, total)``: ``"synth:persons"`` with the
            persons simulated so far, then ``"synth:build"`` (total 0: unknown).

    Returns:
        ``(events, truth)``: a ``pyarrow.Table`` of Segment-style calls sorted by
        ``(ts, event_id)`` and a JSON-ready dict with every planted quantity (true person of
        each identifier, personas, channel effects, funnel-step probabilities, reminder
        lift, ROPO, journey lengths; with ``loyalty`` the loyalty and ambassador truth).

    >>> events, truth = generate_events(5, seed=1)
    >>> events.column_names[:4]
    ['event_id', 'ts', 'type', 'event']
    >>> sorted(truth["personas"])
    ['impulse', 'loyal', 'trial_churner', 'wheel_kicker']
    >>> truth["events"] == events.num_rows
    True
    >>> events, truth = generate_events(200, seed=1, days=730, loyalty=True)
    >>> truth["start"], truth["loyalty"]["unit"], truth["loyalty"]["parameters"]["loyal"]
    ('2024-02-26', 'week', {'r': 2.0, 'alpha': 8.0, 'a': 0.4, 'b': 6.0})
    """
    if isinstance(persons, bool) or not isinstance(persons, int) or persons < 1:
        raise InvalidOptionError("persons", persons, fix="pass a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidOptionError("seed", seed, fix="pass a whole number >= 0")
    if isinstance(days, bool) or not isinstance(days, int) or days < MIN_DAYS:
        raise InvalidOptionError("days", days, fix=f"pass a whole number >= {MIN_DAYS}")
    if start is None:
        start = default_start(days)
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise InvalidOptionError("start", start, fix="pass a datetime.date, e.g. date(2026, 1, 5)")
    if not isinstance(loyalty, bool):
        raise InvalidOptionError("loyalty", loyalty, fix="pass True or False")
    sim = _Sim(persons, seed, days, loyalty)
    every = max(1, persons // 200)
    for i in range(persons):
        sim.person(i)
        if progress is not None and (i + 1) % every == 0:
            progress("synth:persons", i + 1, persons)
    if progress is not None:
        progress("synth:persons", persons, persons)
        progress("synth:build", 0, 0)
    return _build(sim, start, days)


def _take(values: list[str], index: np.ndarray[Any, np.dtype[np.int64]]) -> pa.Array:
    """``values[index]`` as an Arrow string array; negative indices become null."""
    idx = pa.array(index, type=pa.int64(), mask=index < 0)
    return pa.array(values, type=pa.string()).take(idx)


def _build(sim: _Sim, start: dt.date, days: int) -> tuple[pa.Table, dict[str, Any]]:
    tb = sim.tables
    n = len(sim.events)
    flat = np.fromiter((x for e in sim.events for x in e), dtype=np.float64, count=5 * n).reshape(
        n, 5
    )
    seconds = flat[:, 0]
    columns = [flat[:, k].astype(np.int64) for k in (1, 2, 3, 4)]  # tmpl, prop, dev, flags
    person = np.repeat(np.arange(sim.persons, dtype=np.int64), sim.counts)
    revenue = np.full(n, np.nan)
    revenue[np.asarray(sim.revenue_at, dtype=np.int64)] = sim.revenue
    stage: dict[str, Any] = {}
    if sim.loyalty:  # the loyalty stage: new rows, and the first purchases' spend
        end = dt.datetime.combine(start + dt.timedelta(days=days), dt.time())
        tmpl, _, dev, flags = columns
        more, stage = _plant(sim, seconds, tmpl, dev, flags, person, revenue, end.isoformat())
        seconds = np.concatenate([seconds, more[0]])
        columns = [np.concatenate([c, m]) for c, m in zip(columns, more[1:5], strict=True)]
        person = np.concatenate([person, more[5]])
        revenue = np.concatenate([revenue, more[6]])
        n = seconds.size
    start_us = (start - dt.date(1970, 1, 1)).days * 86_400_000_000
    ts = np.floor(seconds * 1e6).astype(np.int64)
    order = np.argsort(ts, kind="stable")
    ts = ts[order] + start_us
    tmpl, prop, dev, flags = (c[order] for c in columns)
    person = person[order]
    revenue = revenue[order]
    is_prev = (flags & _PREV) != 0
    anon = np.where(is_prev, -1, dev)
    prev = np.where(is_prev, dev, -1)
    has_user = (flags & _USER) != 0
    has_card = (flags & _CARD) != 0
    ids = [f"{sim.seed:x}-{k:09x}" for k in range(n)]
    tidx = pa.array(tmpl)
    template_cols = {
        name: pa.array([row[j] for row in tb.rows], type=pa.string()).take(tidx)
        for j, name in enumerate(_TEMPLATE_COLUMNS)
    }
    cols: dict[str, pa.Array] = {
        "event_id": pa.array(ids, type=pa.string()),
        "ts": pa.array(ts, type=pa.timestamp("us")),
        **template_cols,
        "anonymous_id": _take(sim.device_ids, anon),
        "user_id": _take(sim.user_ids, np.where(has_user, person, -1)),
        "previous_id": _take(sim.device_ids, prev),
        "revenue": pa.array(revenue, type=pa.float64(), from_pandas=True),
        "email": _take(sim.emails, np.where((flags & _EMAIL) != 0, person, -1)),
        "loyalty_card": _take(sim.cards, np.where(has_card, person, -1)),
        "properties": _take(tb.props, prop),
    }
    table = pa.table([cols[name] for name, _ in _COLUMNS], schema=EVENTS_SCHEMA)
    arrays = _Arrays(ts - start_us, tmpl, dev, anon, prev, person, has_user, has_card)
    truth = _truth(sim, arrays, start, days)
    if sim.loyalty:
        truth["loyalty"], truth["ambassadors"] = stage["loyalty"], stage["ambassadors"]
    return table, truth
