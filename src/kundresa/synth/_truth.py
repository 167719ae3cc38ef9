"""The ground truth of a simulated shop, computed from the simulation's own arrays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kundresa.synth._world import (
    _CSAT_DOWN,
    _CSAT_OF_NPS,
    _CSAT_UP,
    _NPS_CUM,
    _PERSONA_LIST,
    _TRIAL_DAYS,
    _TRIAL_DECAY_DAYS,
    _TRIAL_SUBSCRIBE,
    CHANNEL_EFFECTS,
    CLOSING_CHANNELS,
    DAY,
    ENTRY_BASE,
    FUNNEL_STEPS,
    PERSONAS,
    REMINDER_PROBABILITY,
)

if TYPE_CHECKING:
    from kundresa.synth._sim import _Sim
    from kundresa.synth._tables import _Tables


@dataclass(frozen=True)
class _Arrays:
    ts: np.ndarray[Any, np.dtype[np.int64]]  # microseconds since the window start
    tmpl: np.ndarray[Any, np.dtype[np.int64]]
    dev: np.ndarray[Any, np.dtype[np.int64]]
    anon: np.ndarray[Any, np.dtype[np.int64]]
    prev: np.ndarray[Any, np.dtype[np.int64]]
    person: np.ndarray[Any, np.dtype[np.int64]]
    has_user: np.ndarray[Any, np.dtype[np.bool_]]
    has_card: np.ndarray[Any, np.dtype[np.bool_]]


def _truth(sim: _Sim, ev: _Arrays, start: dt.date, days: int) -> dict[str, Any]:
    tb = sim.tables
    pid = [f"P{i + 1:06d}" for i in range(sim.persons)]
    persona = np.asarray(sim.persona, dtype=np.int64)
    reach = np.asarray(sim.reach, dtype=np.int64)
    abandon = np.asarray(sim.abandon, dtype=np.int64)
    dev_person = np.asarray(sim.device_person, dtype=np.int64)

    users = np.unique(ev.person[ev.has_user])
    devices = np.unique(np.concatenate([ev.anon[ev.anon >= 0], ev.prev[ev.prev >= 0]]))
    linked_devs = np.concatenate([ev.anon[ev.has_user & (ev.anon >= 0)], ev.prev[ev.prev >= 0]])
    cards = np.unique(ev.person[ev.has_card])
    linked_cards = np.unique(ev.person[ev.has_card & (ev.has_user | (ev.anon >= 0))])

    # funnel: planted per persona, "overall" weighted by the realised persona mix at step k-1
    def mixed(values: list[float], who: np.ndarray[Any, np.dtype[np.bool_]]) -> float:
        """Mean of per-persona values over the realised persona mix of ``who``."""
        counts = np.bincount(persona[who], minlength=len(_PERSONA_LIST)).tolist()
        if not sum(counts):  # nobody there: fall back to the planted shares
            counts = [p.share for p in _PERSONA_LIST]
        return float(sum(c * v for c, v in zip(counts, values, strict=True)) / sum(counts))

    planted = [p.funnel() for p in _PERSONA_LIST]
    overall = [1.0] + [mixed([f[k] for f in planted], reach >= k) for k in (1, 2, 3)]
    p_rem = mixed([p.return_reminded for p in _PERSONA_LIST], abandon == 1)
    p_norem = mixed([p.return_not_reminded for p in _PERSONA_LIST], abandon == 2)

    return {
        "seed": sim.seed,
        "persons": sim.persons,
        "start": start.isoformat(),
        "days": days,
        "personas": {
            p.name: {
                "share": p.share,
                "description": p.description,
                "persons": int((persona == j).sum()),
            }
            for j, p in enumerate(_PERSONA_LIST)
        },
        "persona_of_person": {pid[i]: PERSONAS[j] for i, j in enumerate(sim.persona)},
        "person_of_user_id": {sim.user_ids[i]: pid[i] for i in users.tolist()},
        "person_of_anonymous_id": {
            sim.device_ids[d]: pid[int(dev_person[d])] for d in devices.tolist()
        },
        "identifiable_anonymous_ids": sorted(sim.device_ids[d] for d in set(linked_devs.tolist())),
        "person_of_loyalty_card": {sim.cards[i]: pid[i] for i in cards.tolist()},
        "identifiable_loyalty_cards": sorted(sim.cards[i] for i in linked_cards.tolist()),
        "channel_effects": dict(CHANNEL_EFFECTS),
        "channel_effects_model": {
            "conversion": FUNNEL_STEPS[0],
            "base": ENTRY_BASE,
            "formula": "P(first Product Viewed) = 1 - (1 - base) * prod_c (1 - effect_c) over"
            " the distinct channels with any event of the person before the first Product"
            " Viewed; persons who never enter get no new marketing channel after the decision",
        },
        "channel_removal_effects": {c: round(v, 6) for c, v in sim.removal_effects.items()},
        "channel_removal_effects_definition": "expected number of entries (first Product"
        " Viewed) lost if the channel's touches were removed: sum over persons whose"
        " pre-decision channel set S contains c of P(entry | S) - P(entry | S without c)"
        " under the planted noisy-OR (exact, from the simulation; what a removal effect"
        " estimates, i.e. reach x effect, unlike the per-person channel_effects)",
        "closing_channels": list(CLOSING_CHANNELS),
        "funnel": {
            "steps": list(FUNNEL_STEPS),
            "step_probabilities": {
                "overall": overall,
                **{p.name: planted[j] for j, p in enumerate(_PERSONA_LIST)},
            },
            "definition": "P(a person who first reached step k-1 has step k later in the"
            " window, any channel incl. store orders)",
            "parameters": {
                p.name: {
                    "add": p.add,
                    "checkout_in_session": p.checkout,
                    "order_in_session": p.order,
                    "return_reminded": p.return_reminded,
                    "return_not_reminded": p.return_not_reminded,
                    "store_return_given_card": p.store_return,
                    "loyalty_card": p.card,
                }
                for p in _PERSONA_LIST
            },
        },
        "reminder_email": {
            "assignment_probability": REMINDER_PROBABILITY,
            "p_purchase_reminded": p_rem,
            "p_purchase_not_reminded": p_norem,
            "lift": p_rem - p_norem,
            "by_persona": {
                p.name: {
                    "p_purchase_reminded": p.return_reminded,
                    "p_purchase_not_reminded": p.return_not_reminded,
                    "lift": p.return_reminded - p.return_not_reminded,
                }
                for p in _PERSONA_LIST
            },
            "definition": "abandoner: has Product Added and no Order Completed within 60 min of"
            " the first one; purchase: any later Order Completed (online or store)",
            "abandoners": {
                "reminded": int((abandon == 1).sum()),
                "not_reminded": int((abandon == 2).sum()),
            },
        },
        "ropo": _ropo(ev, tb),
        "journey_length": _journey_length(sim, ev, persona),
        "surveys": _survey_truth(),
        "trial": {
            "trial_days": _TRIAL_DAYS,
            "subscription_probability": _TRIAL_SUBSCRIBE,
            "feature_use_decay_days": list(_TRIAL_DECAY_DAYS),
        },
        "events": len(ev.ts),
    }


def _ropo(ev: _Arrays, tb: _Tables) -> dict[str, Any]:
    """Store purchases and how many had a web/app product view of the person in 30 days."""
    store_orders = np.isin(ev.tmpl, tb.store_order)
    views = np.isin(ev.tmpl, tb.viewed)
    order = np.lexsort((ev.ts[views], ev.person[views]))
    v_person, v_ts = ev.person[views][order], ev.ts[views][order]
    window = int(30 * DAY * 1_000_000)
    researched = 0
    for p, t in zip(ev.person[store_orders].tolist(), ev.ts[store_orders].tolist(), strict=True):
        lo, hi = np.searchsorted(v_person, p, "left"), np.searchsorted(v_person, p, "right")
        k = int(np.searchsorted(v_ts[lo:hi], t, "right"))  # views at or before the order
        if k and t - int(v_ts[lo + k - 1]) <= window:
            researched += 1
    total = int(store_orders.sum())
    return {
        "store_purchases": total,
        "store_purchases_with_online_research": researched,
        "share": researched / total if total else 0.0,
        "definition": "store Order Completed preceded by a Product Viewed (web/app) of the same"
        " person within 30 days",
    }


def _journey_length(sim: _Sim, ev: _Arrays, persona: np.ndarray[Any, Any]) -> dict[str, Any]:
    """Realised journeys to the first purchase: touches and days, median per persona."""
    touch_types = {"track", "page", "screen"}
    is_touch = np.array([row[0] in touch_types for row in sim.tables.rows])[ev.tmpl]
    is_order = np.isin(ev.tmpl, [*sim.tables.ordered, *sim.tables.store_order])
    big = np.iinfo(np.int64).max
    first = np.full(sim.persons, big)
    first_order = np.full(sim.persons, big)
    np.minimum.at(first, ev.person, ev.ts)
    np.minimum.at(first_order, ev.person[is_order], ev.ts[is_order])
    upto = is_touch & (ev.ts <= first_order[ev.person])
    touches = np.bincount(ev.person[upto], minlength=sim.persons)
    buyers = first_order < big
    days = (first_order - first) / (DAY * 1e6)
    out: dict[str, Any] = {}
    for j, p in enumerate(_PERSONA_LIST):
        mine = buyers & (persona == j)
        any_ = bool(mine.any())
        out[p.name] = {
            "buyers": int(mine.sum()),
            "median_touches": float(np.median(touches[mine])) if any_ else 0.0,
            "median_seconds": round(float(np.median(days[mine])) * 86400, 3) if any_ else 0.0,
        }
    out["definition"] = (
        "realised, persons with an Order Completed: touches = track/page/screen events up to"
        " and including the first order; days = first event to first order"
    )
    return out


def _survey_truth() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p, cum in zip(_PERSONA_LIST, _NPS_CUM, strict=True):
        prob = [cum[0]] + [cum[k] - cum[k - 1] for k in range(1, 11)]
        csat = 0.0
        for nps, q in enumerate(prob):
            base = _CSAT_OF_NPS[nps]
            csat += q * (
                _CSAT_UP * min(5, base + 1)
                + _CSAT_DOWN * max(1, base - 1)
                + (1 - _CSAT_UP - _CSAT_DOWN) * base
            )
        out[p.name] = {
            "nps_score": 100 * (sum(prob[9:]) - sum(prob[:7])),
            "mean_nps": sum(k * q for k, q in enumerate(prob)),
            "mean_csat": csat,
            "p_answer_feedback_survey": p.survey,
        }
    return out
