"""The loyalty stage of the synthetic shop (``loyalty=True``): repeat purchase, drop-out,
spend, referrals and reviews under planted parameters, drawn vectorised with numpy.

Each person's journey (``_sim``) ends in at most one purchase: the *first* purchase, online
or in a store. In the loyalty mode every such customer then

* repurchases as a Poisson process with rate ``lambda ~ gamma(r, alpha)`` per week and, after
  each repeat purchase, drops out for good with probability ``p ~ beta(a, b)`` (BG/NBD, Fader,
  Hardie & Lee 2005; the first purchase starts the clock and never ends a life);
* spends ``z ~ gamma(p, nu)`` (shape ``p``, rate ``nu``) on every purchase, the first
  included, with ``nu ~ gamma(q, gamma)`` (Gamma-Gamma, Fader & Hardie 2013): the order's
  ``revenue`` is ``z``;
* while alive, sends referrals (``Referral Sent``) as a Poisson process whose weekly rate
  is the persona's times the person's NPS class (promoters refer most), and writes a review
  (``Review Written``, ``properties.rating`` 1..5 following the person's NPS) after a
  purchase with a per-persona, per-class probability.

The parameters are per persona (:data:`LOYALTY_PARAMETERS`). The draws use their own
generator (seeded from the shop's seed), after the journeys; the journeys themselves are
those of the shop, except that nobody repurchases there (the BG/NBD process replaces the
shop's Poisson repeat purchases) and a person's NPS is a trait (every survey answer of the
person is their one planted NPS, drawn from the persona's NPS weights).

Repeat purchases keep the funnel's planted truth: only customers who reached checkout before
their first purchase (and bought online) repurchase online (a session: home, product view,
add to cart, checkout, order, on the device of the first order); everyone else, and online
customers whose loyalty card is linked to their account with the persona's
``repeat_store`` probability, buys in a store. Referrals and reviews carry the identifier
of the person's purchases (the user on the first order's device, or the loyalty card), so
every event of a customer's loyalty stage stitches to the one person; customers who never
entered the online funnel (pure store shoppers) neither refer nor review (no new channel
after their entry decision, as the channel-effect truth requires).

>>> _latent_nps(2, 0.0), _latent_nps(2, 0.999)
(0, 10)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from kundresa.synth._world import (
    _CARD,
    _NPS_CUM,
    _STORES,
    _USER,
    DAY,
    MINUTE,
    PERSONAS,
)

if TYPE_CHECKING:
    from kundresa.synth._sim import _Sim

WEEK: Final = 7 * DAY
#: the loyalty generator's stream: ``PCG64([seed, LOYALTY_STREAM])``
LOYALTY_STREAM: Final = 0x4C4F59

# Per persona, in weeks and SEK: BG/NBD r alpha a b | Gamma-Gamma p q gamma | P(repeat in a
# store | linked card) | referrals per alive week of a promoter | P(review | purchase) of a
# promoter. Classes scale the last two (_CLASS_REFERRAL, _CLASS_REVIEW).
_LOYALTY_TABLE: Final = """
name           r    alpha  a    b    p    q    gamma  repeat_store  referral  review
wheel_kicker   0.9  20     0.6  4.0  7.0  4.5  600    0.5           0.010     0.20
impulse        0.6  12     1.2  2.5  3.0  3.0  400    0.1           0.015     0.08
loyal          2.0  8      0.4  6.0  5.0  4.0  300    0.25          0.012     0.06
trial_churner  0.5  15     1.5  1.5  4.0  3.5  250    0.1           0.005     0.10
"""
NPS_CLASSES: Final = ("detractor", "passive", "promoter")
_CLASS_REFERRAL: Final = (0.05, 0.3, 1.0)  # multiplier of the promoter's rate
_CLASS_REVIEW: Final = (0.9, 0.6, 1.0)  # detractors write angry reviews
#: review rating (1..5) of an NPS answer 0..10, before a shift of -1/0/+1 (0.15/0.6/0.25)
_RATING_OF_NPS: Final = (1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5)
_RATING_SHIFT: Final = (0.15, 0.25)  # P(-1), P(+1)


@dataclass(frozen=True)
class _Planted:
    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float
    repeat_store: float
    referral: float
    review: float


def _parse(text: str) -> dict[str, _Planted]:
    rows = [line.split() for line in text.strip().splitlines()]
    keys = rows[0][1:]
    return {
        row[0]: _Planted(**dict(zip(keys, map(float, row[1:]), strict=True))) for row in rows[1:]
    }


LOYALTY_PARAMETERS: Final = _parse(_LOYALTY_TABLE)
assert tuple(LOYALTY_PARAMETERS) == PERSONAS


def _latent_nps(pi: int, r: float) -> int:
    """The NPS (0..10) of persona ``pi`` at uniform ``r`` (the persona's NPS weights)."""
    weights, k = _NPS_CUM[pi], 0
    while k < 10 and r >= weights[k]:
        k += 1
    return k


def _nps_class(nps: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0 detractor (0..6), 1 passive (7, 8), 2 promoter (9, 10)."""
    return np.where(nps >= 9, 2, np.where(nps >= 7, 1, 0))


def _column(name: str) -> npt.NDArray[np.float64]:
    """A planted parameter per persona index."""
    return np.array([getattr(LOYALTY_PARAMETERS[p], name) for p in PERSONAS], dtype=np.float64)


I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass
class _Rows:
    """Event rows in the generator's buffer layout (seconds since the window start)."""

    t: list[F64]
    tmpl: list[I64]
    prop: list[I64]
    dev: list[I64]
    flags: list[I64]
    person: list[I64]
    revenue: list[F64]

    def add(
        self,
        t: F64,
        tmpl: I64 | int,
        prop: I64 | int,
        dev: I64 | int,
        flags: I64 | int,
        person: I64,
        revenue: F64 | None = None,
    ) -> None:
        n = t.size
        self.t.append(t)
        for target, value in (
            (self.tmpl, tmpl),
            (self.prop, prop),
            (self.dev, dev),
            (self.flags, flags),
        ):
            target.append(np.broadcast_to(np.asarray(value, dtype=np.int64), (n,)))
        self.person.append(person)
        self.revenue.append(np.full(n, np.nan) if revenue is None else revenue)

    def arrays(self) -> tuple[F64, I64, I64, I64, I64, I64, F64]:
        return (
            np.concatenate(self.t),
            np.concatenate(self.tmpl),
            np.concatenate(self.prop),
            np.concatenate(self.dev),
            np.concatenate(self.flags),
            np.concatenate(self.person),
            np.concatenate(self.revenue),
        )


def _arrival_times(rng: np.random.Generator, x: I64, n: I64, span: F64) -> tuple[F64, I64]:
    """The first ``x`` of ``n`` uniform arrivals on ``(0, span)``, per customer, sorted.

    Uniform order statistics from exponential spacings: with ``E_1 .. E_(n+1)`` standard
    exponentials and ``S_k`` their partial sums, ``U_(k) = S_k / S_(n+1)``; only the first
    ``x`` spacings are drawn, ``S_(n+1) - S_x`` is one gamma(n - x + 1) variate. Returns the
    times (flat, customer after customer) and the owner (row index) of each.
    """
    owner = np.repeat(np.arange(x.size), x)
    e = rng.exponential(1.0, int(x.sum()))
    cum = np.cumsum(e)
    ends = np.cumsum(x)
    before = np.concatenate([[0.0], cum])[ends - x]  # partial sum before each customer
    partial = cum - before[owner]
    s_x = np.where(x > 0, np.concatenate([[0.0], cum])[ends] - before, 0.0)
    rest = rng.gamma(np.maximum(n - x, 0) + 1.0)
    total = s_x + rest
    return span[owner] * partial / total[owner], owner


def _plant(
    sim: _Sim,
    t: F64,
    tmpl: I64,
    dev: I64,
    flags: I64,
    person: I64,
    revenue: F64,
    end: str,
) -> tuple[tuple[F64, I64, I64, I64, I64, I64, F64], dict[str, Any]]:
    """The loyalty stage of every customer; ``revenue`` (the journeys' orders) is updated in
    place with the planted spend of the first purchase. Returns the new event rows and the
    truth sections ``loyalty`` and ``ambassadors``."""
    tb, W = sim.tables, sim.window  # noqa: N806
    rng = np.random.Generator(np.random.PCG64([sim.seed, LOYALTY_STREAM]))
    persona = np.asarray(sim.persona, dtype=np.int64)
    reach = np.asarray(sim.reach, dtype=np.int64)
    nps = np.asarray(sim.nps_of, dtype=np.int64)
    klass = _nps_class(nps)

    online_orders = np.asarray(tb.ordered, dtype=np.int64)
    store_orders = np.asarray(tb.store_order, dtype=np.int64)
    is_order = np.isin(tmpl, online_orders) | np.isin(tmpl, store_orders)
    at = np.flatnonzero(is_order)
    who = person[at]
    if np.unique(who).size != who.size:  # the journeys end in at most one purchase
        raise AssertionError("a journey has two purchases in the loyalty mode")
    at = at[np.argsort(who, kind="stable")]
    cust = person[at]  # customers, by person index
    m = cust.size
    first = t[at]
    online = np.isin(tmpl[at], online_orders) & (reach[cust] == 4)
    platform = np.where(tmpl[at] == online_orders[1], 1, 0)
    device = dev[at]
    store_index = np.zeros(int(tmpl.max(initial=0)) + 1, dtype=np.int64)
    store_index[store_orders] = np.arange(store_orders.size)
    store_of_first = store_index[tmpl[at]]  # meaningful where the first order is a store's
    linked = np.zeros(sim.persons, dtype=bool)
    linked[person[((flags & _CARD) != 0) & (((flags & _USER) != 0) | (dev >= 0))]] = True

    pc = persona[cust]
    T = (W - first) / WEEK  # noqa: N806
    lam = rng.gamma(_column("r")[pc], 1.0 / _column("alpha")[pc])
    p_drop = rng.beta(_column("a")[pc], _column("b")[pc])
    leave = rng.geometric(p_drop).astype(np.int64)  # the repeat purchase after which they leave
    nu = rng.gamma(_column("q")[pc], 1.0 / _column("gamma")[pc])
    arrivals = rng.poisson(lam * T).astype(np.int64)  # in (0, T] if never leaving
    x = np.minimum(arrivals, leave)
    alive = leave > arrivals
    rel, owner = _arrival_times(rng, x, arrivals, T)  # weeks after the first purchase
    t_x = np.zeros(m)
    np.maximum.at(t_x, owner, rel)
    beyond = rng.gamma(np.maximum(leave - arrivals, 1).astype(np.float64), 1.0 / lam)
    death = np.where(alive, T + beyond, t_x)  # weeks after the first purchase

    # spend: every purchase, the first included
    p_sp = _column("p")[pc]
    revenue[at] = np.maximum(np.round(rng.gamma(p_sp, 1.0 / nu), 2), 0.01)
    spend = np.maximum(np.round(rng.gamma(p_sp[owner], 1.0 / nu[owner]), 2), 0.01)

    rows = _Rows([], [], [], [], [], [], [])
    t_rep = np.minimum(first[owner] + rel * WEEK, W - 1.0)
    in_store = ~online[owner] | (
        linked[cust[owner]] & (rng.random(owner.size) < _column("repeat_store")[pc[owner]])
    )
    k = owner.size
    product = rng.integers(0, len(tb.skus), k)
    store = np.where(online[owner], rng.integers(0, len(tb.store_visit), k), store_of_first[owner])
    start_no = sim.orders
    order_props = np.array(
        [
            tb.unique_prop(
                {
                    "order_id": f"o-{start_no + j + 1:07d}",
                    "product_id": tb.skus[int(pr)],
                    "quantity": 1,
                }
                | ({"store_id": _STORES[s][0]} if st else {})
            )
            for j, (pr, s, st) in enumerate(
                zip(product.tolist(), store.tolist(), in_store.tolist(), strict=True)
            )
        ],
        dtype=np.int64,
    )
    sim.orders += k
    who_rep = cust[owner]
    # store: a visit 5-20 minutes before the order, carrying the card
    s_ = in_store
    visit = t_rep[s_] - (5 + rng.random(int(s_.sum())) * 15) * MINUTE
    st = store[s_]
    rows.add(
        visit,
        np.asarray(tb.store_visit)[st],
        np.asarray(tb.store_props)[st],
        -1,
        _CARD,
        who_rep[s_],
    )
    rows.add(t_rep[s_], store_orders[st], order_props[s_], -1, _CARD, who_rep[s_], spend[s_])
    # online: home, product page and view, add, checkout page and start, order (4-16 min)
    o_ = ~in_store
    pl, d = platform[owner][o_], device[owner][o_]
    span = (4 + rng.random(int(o_.sum())) * 12) * MINUTE
    t_o, pr = t_rep[o_], product[o_]
    session = (
        (1.0, np.asarray(tb.closing)[pl], tb.page_props["Home"]),
        (
            0.9,
            np.array([tb.page[0]["Product"], tb.page[1]["Product"]])[pl],
            np.asarray(tb.product_page_props)[pr],
        ),
        (0.88, np.asarray(tb.viewed)[pl], np.asarray(tb.product_props)[pr]),
        (0.6, np.asarray(tb.added)[pl], np.asarray(tb.product_props)[pr]),
        (
            0.4,
            np.array([tb.page[0]["Checkout"], tb.page[1]["Checkout"]])[pl],
            tb.page_props["Checkout"],
        ),
        (0.38, np.asarray(tb.checkout)[pl], np.asarray(tb.product_props)[pr]),
    )
    for before, code, prop in session:
        rows.add(t_o - before * span, code, prop, d, _USER, who_rep[o_])
    rows.add(t_o, online_orders[pl], order_props[o_], d, _USER, who_rep[o_], spend[o_])

    # ambassadors: referrals while alive, reviews after purchases (customers who entered)
    eligible = reach[cust] >= 1
    ident_dev = np.where(online, device, -1)
    ident_flags = np.where(online, _USER, _CARD)
    ref_rate = _column("referral")[pc] * np.asarray(_CLASS_REFERRAL)[klass[cust]]
    alive_weeks = np.minimum(death, T)
    n_ref = np.where(eligible, rng.poisson(ref_rate * alive_weeks), 0)
    r_owner = np.repeat(np.arange(m), n_ref)
    t_ref = first[r_owner] + rng.random(r_owner.size) * alive_weeks[r_owner] * WEEK
    t_ref = np.minimum(t_ref, W - 1.0)
    rows.add(
        t_ref, tb.referral_sent, tb.empty, ident_dev[r_owner], ident_flags[r_owner], cust[r_owner]
    )
    # maybe a review of each purchase (the first ones, then the repeats), 1-14 days later
    buy_owner = np.concatenate([np.arange(m), owner])
    buy_t = np.concatenate([first, t_rep])
    rev_p = _column("review")[pc] * np.asarray(_CLASS_REVIEW)[klass[cust]]
    writes = eligible[buy_owner] & (rng.random(buy_owner.size) < rev_p[buy_owner])
    t_rev = buy_t + (1 + rng.random(buy_owner.size) * 13) * DAY
    writes &= t_rev < W
    shift_u = rng.random(buy_owner.size)
    base = np.asarray(_RATING_OF_NPS)[nps[cust[buy_owner]]]
    shift = np.where(shift_u < _RATING_SHIFT[0], -1, np.where(shift_u > 1 - _RATING_SHIFT[1], 1, 0))
    rating = np.clip(base + shift, 1, 5)
    wo = buy_owner[writes]
    rows.add(
        t_rev[writes],
        tb.review_written,
        np.asarray(tb.rating_props)[rating[writes] - 1],
        ident_dev[wo],
        ident_flags[wo],
        cust[wo],
    )

    n_rev = np.bincount(wo, minlength=m)
    referrals = np.zeros(sim.persons, dtype=np.int64)
    referrals[cust] = n_ref
    reviews = np.zeros(sim.persons, dtype=np.int64)
    reviews[cust] = n_rev
    may = np.zeros(sim.persons, dtype=bool)
    may[cust] = eligible
    truth = {
        "loyalty": _loyalty_truth(
            sim, cust, pc, first, T, x, t_x, lam, p_drop, nu, alive, death, end
        ),
        "ambassadors": _ambassador_truth(sim, persona, nps, klass, may, referrals, reviews),
    }
    return rows.arrays(), truth


def _r6(values: F64) -> list[float]:
    return [float(f"{v:.6g}") for v in values.tolist()]


def _loyalty_truth(
    sim: _Sim,
    cust: I64,
    pc: I64,
    first: F64,
    T: F64,  # noqa: N803
    x: I64,
    t_x: F64,
    lam: F64,
    p_drop: F64,
    nu: F64,
    alive: npt.NDArray[np.bool_],
    death: F64,
    end: str,
) -> dict[str, Any]:
    by_persona = {}
    for j, name in enumerate(PERSONAS):
        mine = pc == j
        by_persona[name] = {
            "customers": int(mine.sum()),
            "alive_at_end": int(alive[mine].sum()),
            "repeaters": int((x[mine] > 0).sum()),
            "repeat_purchases": int(x[mine].sum()),
        }
    return {
        "model": "bg_nbd",
        "spend_model": "gamma_gamma",
        "unit": "week",
        "parameters": {
            name: {k: getattr(LOYALTY_PARAMETERS[name], k) for k in ("r", "alpha", "a", "b")}
            for name in PERSONAS
        },
        "spend_parameters": {
            name: {k: getattr(LOYALTY_PARAMETERS[name], k) for k in ("p", "q", "gamma")}
            for name in PERSONAS
        },
        "repeat_store": {name: LOYALTY_PARAMETERS[name].repeat_store for name in PERSONAS},
        "conventions": {
            "purchase_event": "Order Completed",
            "person": "the planted person (truth persona_of_person); the orders of a customer"
            " carry the user_id (online) or the loyalty card (store), linked to one person",
            "first_purchase": "the customer's first Order Completed; it starts the clock",
            "x": "repeat purchases: every Order Completed after the first, each counted"
            " (distinct_days = false: the planted process runs in continuous time)",
            "t_x": "time of the last repeat purchase minus the first purchase, in weeks"
            " (0 when x = 0)",
            "T": "observation end minus the first purchase, in weeks",
            "observation_end": end,
            "distinct_days": False,
            "monetary": "mean revenue of the repeat purchases (the first excluded, as Fader &"
            " Hardie 2013 and lifetimes); the first purchase is a Gamma-Gamma draw too",
            "week_seconds": WEEK,
            "death": "weeks from the first purchase to the drop-out (the repeat purchase"
            " after which the customer leaves); beyond T for customers alive at the end",
        },
        "definition": "BG/NBD: purchase rate lambda ~ gamma(r, alpha) per week (shape r, rate"
        " alpha); after each repeat purchase the customer leaves with probability p ~ beta(a,"
        " b). Gamma-Gamma: every purchase's revenue z ~ gamma(p, nu) (shape p, rate nu), nu ~"
        " gamma(q, gamma), so E[z] = p / nu and E[mean spend] = p gamma / (q - 1)",
        "by_persona": by_persona,
        "customers": {
            "person": [f"P{i + 1:06d}" for i in cust.tolist()],
            "persona": [PERSONAS[j] for j in pc.tolist()],
            "first_purchase": _r6(first / WEEK),
            "T": _r6(T),
            "x": x.tolist(),
            "t_x": _r6(t_x),
            "lambda": _r6(lam),
            "p": _r6(p_drop),
            "nu": _r6(nu),
            "alive": alive.tolist(),
            "death": _r6(death),
        },
    }


def _ambassador_truth(
    sim: _Sim,
    persona: I64,
    nps: I64,
    klass: I64,
    eligible: npt.NDArray[np.bool_],
    referrals: I64,
    reviews: I64,
) -> dict[str, Any]:
    by_persona = {}
    for j, name in enumerate(PERSONAS):
        mine = persona == j
        by_persona[name] = {
            "persons": int(mine.sum()),
            "eligible_customers": int(eligible[mine].sum()),
            "promoters": int((klass[mine] == 2).sum()),
            "referrers": int((referrals[mine] > 0).sum()),
            "reviewers": int((reviews[mine] > 0).sum()),
            "referrals": int(referrals[mine].sum()),
            "reviews": int(reviews[mine].sum()),
        }
    return {
        "referral_rate_per_week": {
            name: {
                c: LOYALTY_PARAMETERS[name].referral * f
                for c, f in zip(NPS_CLASSES, _CLASS_REFERRAL, strict=True)
            }
            for name in PERSONAS
        },
        "review_probability_per_purchase": {
            name: {
                c: LOYALTY_PARAMETERS[name].review * f
                for c, f in zip(NPS_CLASSES, _CLASS_REVIEW, strict=True)
            }
            for name in PERSONAS
        },
        "nps_classes": {"detractor": "0-6", "passive": "7-8", "promoter": "9-10"},
        "rating": "Review Written properties.rating = clip(base(nps) + shift, 1, 5), base ="
        f" {list(_RATING_OF_NPS)} for nps 0..10, shift -1/0/+1 with"
        f" {_RATING_SHIFT[0]}/{1 - sum(_RATING_SHIFT):.2f}/{_RATING_SHIFT[1]}",
        "definition": "each person's NPS is a planted trait (every Survey Answered nps of the"
        " person is it); eligible customers (who entered the online funnel) send Referral"
        " Sent (channel referral) as a Poisson process at the rate of their persona and NPS"
        " class per week between the first purchase and the drop-out (or the end), and"
        " write a Review Written (channel review) 1-14 days after a purchase with the"
        " probability of their persona and class (if before the end)",
        "by_persona": by_persona,
        "persons": {
            "person": [f"P{i + 1:06d}" for i in range(sim.persons)],
            "nps": nps.tolist(),
            "eligible": eligible.tolist(),
            "referrals": referrals.tolist(),
            "reviews": reviews.tolist(),
        },
    }
