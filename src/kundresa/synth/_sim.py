"""The simulation of the synthetic shop: :class:`_Sim` plans and emits every person's
journey into a compact event buffer, drawing from one seeded uniform stream in a fixed
order (see :mod:`kundresa.synth._generator` for the causal structure it plants).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from kundresa.synth._loyalty import LOYALTY_STREAM, _latent_nps
from kundresa.synth._tables import _Tables
from kundresa.synth._world import (
    _CARD,
    _CATEGORIES,
    _CSAT_DOWN,
    _CSAT_OF_NPS,
    _CSAT_UP,
    _EMAIL,
    _FEATURES,
    _FIRST,
    _K_ADD,
    _K_DIRECT,
    _K_EMAIL,
    _K_ENTRY,
    _K_EXPO,
    _K_NEWS_CLICK,
    _K_REPEAT,
    _K_RESEARCH,
    _K_RETURN,
    _K_STORE,
    _K_SUB_START,
    _K_SUPPORT,
    _K_SURVEY,
    _K_TRIAL_START,
    _K_TRIAL_USE,
    _LAST,
    _MARKETING,
    _NEWSLETTER_WEEKDAY_OFFSET,
    _NO_ENTRY,
    _NPS_CUM,
    _PERSONA_LIST,
    _PREV,
    _PRODUCTS_PER_CATEGORY,
    _STORES,
    _SURVEY_CSAT,
    _TRIAL_DAYS,
    _TRIAL_DECAY_DAYS,
    _TRIAL_SUBSCRIBE,
    _TRIAL_SUBSCRIBED_USE,
    _USER,
    _VIEW_ONLY,
    ALIAS_PROBABILITY,
    CHANNEL_EFFECTS,
    DAY,
    ENTRY_BASE,
    HOUR,
    MINUTE,
    REMINDER_PROBABILITY,
    _Event,
    _Plan,
)


def _uniform_stream(rng: np.random.Generator, chunk: int = 1 << 16) -> Callable[[], float]:
    """Return a fast ``u()`` giving the rng's uniforms [0, 1) one by one, in a fixed order."""

    def gen() -> Iterator[float]:
        while True:
            yield from rng.random(chunk).tolist()

    return gen().__next__


class _Sim:
    """Plans and emits every person's journey; holds the compact event buffer."""

    def __init__(self, persons: int, seed: int, days: int, loyalty: bool = False) -> None:
        rng = np.random.Generator(np.random.PCG64(seed))
        self.persons = persons
        self.seed = seed
        self.window = days * DAY
        self.scale = days / 56.0
        #: the loyalty mode (``_loyalty``): journeys as long as the 8-week shop's, nobody
        #: repurchases here, and each person's NPS is a trait drawn from its own stream
        #: (and, so that two years stay light: a newsletter every 4th week, the subscribed
        #: members' app use drawn weekly instead of daily)
        self.loyalty = loyalty
        self.nps_of: list[int] = []
        self.newsletter_weeks, self.use_days = (4, 7) if loyalty else (1, 1)
        if loyalty:
            self.scale = min(1.0, self.scale)
            trait = np.random.Generator(np.random.PCG64([seed, LOYALTY_STREAM, 1]))
            self.nps_u: list[float] = trait.random(persons).tolist()
        self.tables = _Tables(math.ceil(days / 7) + 1)
        self.u = _uniform_stream(rng)
        salt_dev, salt_card = (int(x) for x in rng.integers(0, 2**62, size=2))
        self.salt_dev, self.salt_card = salt_dev, salt_card % 10**10
        self.customer_no = (rng.permutation(persons) + 1).tolist()
        shares = np.cumsum([p.share for p in _PERSONA_LIST])
        self.cum_share = (shares / shares[-1]).tolist()
        self.events: list[_Event] = []
        self.revenue_at: list[int] = []
        self.revenue: list[float] = []
        self.counts: list[int] = []
        self.device_ids: list[str] = []
        self.device_person: list[int] = []
        self.persona: list[int] = []
        self.reach: list[int] = []  # 0 none, 1 viewed, 2 added, 3 checkout, 4 order after checkout
        self.abandon: list[int] = []  # 0 no cart abandonment, 1 reminded, 2 not reminded
        self.user_ids: list[str] = []
        self.cards: list[str] = []
        self.emails: list[str] = []
        self.orders = 0
        #: sum over persons of P(entry | S) - P(entry | S without c), S = channels touched
        self.removal_effects: dict[str, float] = dict.fromkeys(CHANNEL_EFFECTS, 0.0)

    def _poisson(self, lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, self.u()
        while p > limit:
            k += 1
            p *= self.u()
        return k

    def person(self, i: int) -> None:
        u, tb, W, sc = self.u, self.tables, self.window, self.scale  # noqa: N806
        r, pi = u(), 0
        while pi < 3 and r >= self.cum_share[pi]:
            pi += 1
        P = _PERSONA_LIST[pi]  # noqa: N806
        self.persona.append(pi)
        if self.loyalty:
            self.nps_of.append(_latent_nps(pi, self.nps_u[i]))
        cust = self.customer_no[i]
        self.user_ids.append(f"u-{cust:06d}")
        self.cards.append(f"{(cust * 7919 + self.salt_card) % 10**10:010d}")
        self.emails.append(
            f"{_FIRST[int(u() * len(_FIRST))]}.{_LAST[int(u() * len(_LAST))]}{cust}@example.com"
        )
        r = u()
        ndev = 1 if r < P.devices[0] else 2 if r < P.devices[0] + P.devices[1] else 3
        dev0 = len(self.device_ids)
        for k in range(ndev):
            x = ((dev0 + k + 1) * 0x9E3779B97F4A7C15 ^ self.salt_dev) & 0xFFFFFFFFFFFFFFFF
            self.device_ids.append(f"a-{x:016x}")
            self.device_person.append(i)
        plat = [1 if u() < P.app_first else 0] + [1 if u() < 0.6 else 0 for _ in range(ndev - 1)]
        # sessions on a device before it signs in (-1 = never signs in)
        signin_after = [
            (0 if u() < 0.6 else 1 + int(u() * 3)) if u() < (0.9 if pl else 0.65) else -1
            for pl in plat
        ]
        acct = u() < P.account
        sub = acct and u() < P.subscriber
        card = u() < P.card
        link = card and u() < P.card_link
        cat = int(u() * len(_CATEGORIES))
        target = cat * _PRODUCTS_PER_CATEGORY + int(u() * _PRODUCTS_PER_CATEGORY)
        home_store = int(u() * len(_STORES))

        plan: list[_Plan] = []
        add = plan.append

        def post_purchase(t: float, store: int, offline: bool = False) -> None:
            # offline: a store purchase of a person outside the funnel; the CRM follows up
            # only subscribers (no new channel for persons who did not enter the funnel)
            if offline and not sub:
                return
            e = tb.email
            add((t + (30 + u() * 10) * MINUTE, len(plan), _K_EMAIL, 0, e["thank_you"][0], store))
            t2 = t + 2 * DAY + u() * 3 * HOUR
            add((t2, len(plan), _K_EMAIL, 0, e["how_to"][0], store))
            if u() < 0.4:
                add((t2 + u() * DAY, len(plan), _K_EMAIL, 0, e["how_to"][1], store))
            t3 = t + 7 * DAY + u() * 3 * HOUR
            add((t3, len(plan), _K_EMAIL, 0, e["feedback_request"][0], store))
            if u() < P.survey:
                add((t3 + (1 + u() * 47) * HOUR, len(plan), _K_SURVEY, 0, 0, store))
            if not offline and u() < P.support:
                t4 = t + (1 + u() * 9) * DAY
                dv = int(u() * ndev)
                add((t4, len(plan), _K_SUPPORT, dv, int(u() * 3), 0))
                add((t4 + (1 + u() * 23) * HOUR, len(plan), _K_SURVEY, dv, 2, 0))

        # -- awareness: marketing touches, then one entry decision ---------------------------
        limit_add = W - 5 * DAY
        limit_entry = limit_add - DAY
        aware_limit = limit_entry - 2 * HOUR
        t0 = min(u() * P.aware_start * W, aware_limit)
        lo, hi = P.aware_days
        aware_end = min(t0 + (lo + u() * (hi - lo)) * sc * DAY, aware_limit)
        keep = 1.0 - ENTRY_BASE
        touched: list[str] = []  # distinct channels in the entry noisy-OR
        t_dec, last_expo = t0, -1
        for ch, p_exposed in zip(_MARKETING, P.exposure, strict=True):
            if u() >= p_exposed:
                continue
            keep *= 1.0 - CHANNEL_EFFECTS[ch]
            touched.append(ch)
            n = 1
            while n < 5 and u() < P.more_touches:
                n += 1
            for _ in range(n):
                t = t0 + u() * (aware_end - t0)
                dv = int(u() * ndev)
                if ch == "support":
                    add((t, len(plan), _K_SUPPORT, dv, int(u() * 3), 0))
                else:
                    first, count = tb.variant_range[ch]
                    add((t, len(plan), _K_EXPO, dv, first + int(u() * count), _NO_ENTRY))
                if t >= t_dec:
                    t_dec, last_expo = t, (len(plan) - 1 if ch != "support" else -1)
        if sub:
            keep *= 1.0 - CHANNEL_EFFECTS["email"]
            touched.append("email")
            for w, codes in enumerate(tb.newsletters):
                if w % self.newsletter_weeks:
                    continue
                t = _NEWSLETTER_WEEKDAY_OFFSET + w * 7 * DAY + u() * 2 * HOUR
                if t >= W:
                    break
                if w == 0 and t >= t_dec:
                    t_dec, last_expo = t, -1
                add((t, len(plan), _K_EMAIL, 0, codes[0], 0))
                if u() < 0.35:
                    t += (10 + u() * 600) * MINUTE
                    add((t, len(plan), _K_EMAIL, 0, codes[1], 0))
                    if u() < 0.3:
                        add((t + u() * 5 * MINUTE, len(plan), _K_NEWS_CLICK, int(u() * ndev), w, 0))
        if P.name == "trial_churner":  # the trial starts in the awareness phase
            t_welcome = self._plan_trial(plan, ndev, t0 + u() * (aware_end - t0))
            if not sub:
                keep *= 1.0 - CHANNEL_EFFECTS["email"]
                touched.append("email")
            if t_welcome >= t_dec:
                t_dec, last_expo = t_welcome, -1
        enter = u() >= keep
        for ch in touched:  # expected entries lost without ch: keep / (1 - e_ch) - keep
            self.removal_effects[ch] += keep / (1.0 - CHANNEL_EFFECTS[ch]) - keep

        # -- background: direct visits, store visits, the trial ------------------------------
        for _ in range(self._poisson(P.direct_visits)):
            add((t0 + u() * (W - HOUR - t0), len(plan), _K_DIRECT, int(u() * ndev), 0, 0))
        if card and u() < 0.25:
            add((u() * (W - HOUR), len(plan), _K_STORE, 0, 0, 0))

        reach, abandon = 0, 0
        if not enter:
            if card and u() < P.store_offline:
                t = u() * (W - 2 * HOUR)
                add((t, len(plan), _K_STORE, 0, 1, 0))
                post_purchase(t, 1, offline=True)
        else:
            reach = 1
            adds = u() < P.add
            flow = _VIEW_ONLY
            if adds:
                flow = (2 if u() < P.order else 1) if u() < P.checkout else 0
            in_entry = adds and u() < P.add_in_entry_session
            if P.continue_entry and last_expo >= 0:
                t_entry, _, _, dv, a, _ = plan[last_expo]
                plan[last_expo] = (t_entry, last_expo, _K_EXPO, dv, a, flow if in_entry else 3)
            else:
                lo, hi = P.entry_delay_hours
                t_entry = min(t_dec + (lo + u() * (hi - lo)) * HOUR, limit_entry)
                dv = int(u() * ndev)
                add((t_entry, len(plan), _K_ENTRY, dv, 0, flow if in_entry else _VIEW_ONLY))
            lo, hi = P.research_days
            r_end = min(t_entry + (lo + u() * (hi - lo)) * sc * DAY, limit_add)
            t_add = t_entry
            if adds and not in_entry:
                t_add = min(max(r_end, t_entry + (1 + u() * 23) * HOUR), limit_add)
                r_end = t_add
            if not in_entry and r_end - t_entry > 2 * HOUR:
                n_lo, n_hi = (int(x) for x in P.research_sessions)
                span = r_end - t_entry - 2 * HOUR
                for _ in range(n_lo + int(u() * (n_hi - n_lo + 1))):
                    t = t_entry + HOUR + u() * span
                    first, count = tb.variant_range["review"]
                    review = first + int(u() * count) if u() < 0.25 else -1
                    add((t, len(plan), _K_RESEARCH, int(u() * ndev), review, 0))
                if card and u() < P.store_visit:
                    add((t_entry + HOUR + u() * span, len(plan), _K_STORE, 0, 0, 0))
            if not adds:
                if card and u() < P.store_no_cart:
                    t = min(r_end + (1 + u() * 71) * HOUR, W - 2 * HOUR)
                    add((t, len(plan), _K_STORE, 0, 1, 0))
                    post_purchase(t, 1)
            else:
                reach = 2
                if not in_entry:
                    add((t_add, len(plan), _K_ADD, int(u() * ndev), 0, flow))
                t_order = -1.0
                if flow == 2:
                    reach, t_order = 4, t_add
                    post_purchase(t_add, 0)
                else:
                    reach = 3 if flow == 1 else 2
                    reminded = u() < REMINDER_PROBABILITY
                    abandon = 1 if reminded else 2
                    t_ref = t_add + (1.5 + u() * 22.5) * HOUR
                    codes = tb.email["cart_reminder"]
                    if reminded:
                        add((t_ref, len(plan), _K_EMAIL, 0, codes[0], 0))
                    p_ret = P.return_reminded if reminded else P.return_not_reminded
                    click = False
                    if u() < p_ret:
                        t_ret = t_ref + min(-math.log(1.0 - u()) * 10 * HOUR, 3 * DAY) + 5 * MINUTE
                        t_order = t_ret
                        if card and u() < P.store_return:
                            reach = 4 if flow == 1 else 2
                            add((t_ret, len(plan), _K_STORE, 0, 1, 0))
                            post_purchase(t_ret, 1)
                        else:
                            reach = 4
                            click = reminded and u() < 0.5
                            if click:
                                t_open = t_ret - (1 + u() * 9) * MINUTE
                                add((t_open, len(plan), _K_EMAIL, 0, codes[1], 0))
                            dv = int(u() * ndev)
                            add((t_ret, len(plan), _K_RETURN, dv, int(click), int(flow == 0)))
                            post_purchase(t_ret, 0)
                    if reminded and not click and u() < 0.5:
                        t_open = t_ref + (5 + u() * 715) * MINUTE
                        add((t_open, len(plan), _K_EMAIL, 0, codes[1], 0))
                if reach == 4 and not self.loyalty:  # only after a checkout (the chain is exact)
                    for _ in range(self._poisson(P.repeat)):
                        lo_t = t_order + DAY
                        if lo_t >= W - 2 * HOUR:
                            break
                        t = lo_t + u() * (W - 2 * HOUR - lo_t)
                        if card and u() < P.repeat_store:
                            add((t, len(plan), _K_STORE, 0, 1, 0))
                            post_purchase(t, 1)
                        else:
                            add((t, len(plan), _K_REPEAT, int(u() * ndev), 0, 2))
                            post_purchase(t, 0)
        if not plan:
            add((u() * (W - HOUR), 0, _K_DIRECT, 0, 0, 0))
        self.reach.append(reach)
        self.abandon.append(abandon)
        n0 = len(self.events)
        self._emit(sorted(plan), i, dev0, plat, signin_after, acct, card, link, target, home_store)
        self.counts.append(len(self.events) - n0)

    def _plan_trial(self, plan: list[_Plan], ndev: int, t_start: float) -> float:
        """Plan the membership trial; return the time of the welcome e-mail."""
        u, W, e = self.u, self.window, self.tables.email  # noqa: N806
        add = plan.append
        add((t_start, len(plan), _K_TRIAL_START, 0, 0, 0))
        t_welcome = t_start + (2 + u() * 18) * MINUTE
        add((t_welcome, len(plan), _K_EMAIL, 0, e["trial_welcome"][0], 0))
        tau = _TRIAL_DECAY_DAYS[0] + u() * (_TRIAL_DECAY_DAYS[1] - _TRIAL_DECAY_DAYS[0])
        for k in range(1, _TRIAL_DAYS):
            if u() < math.exp(-k / tau):
                add((t_start + k * DAY + (u() - 0.5) * 12 * HOUR, len(plan), _K_TRIAL_USE, 0, 0, 0))
        t_end = t_start + _TRIAL_DAYS * DAY
        if u() < _TRIAL_SUBSCRIBE:
            add((t_end + u() * 6 * HOUR, len(plan), _K_SUB_START, 0, 0, 0))
            k = _TRIAL_DAYS + 1
            while t_start + k * DAY < W:
                if u() < _TRIAL_SUBSCRIBED_USE:
                    t = t_start + k * DAY + (u() - 0.5) * 12 * HOUR
                    add((t, len(plan), _K_TRIAL_USE, int(u() * ndev), 0, 0))
                k += self.use_days
        add((t_end + DAY, len(plan), _K_EMAIL, 0, e["trial_feedback"][0], 0))
        if u() < 0.3:
            add((t_end + DAY + (1 + u() * 47) * HOUR, len(plan), _K_SURVEY, 0, 1, 0))
        return t_welcome

    def _emit(
        self,
        plan: list[_Plan],
        i: int,
        dev0: int,
        plat: list[int],
        signin_after: list[int],
        acct: bool,
        card: bool,
        link: bool,
        target: int,
        home_store: int,
    ) -> None:
        u, tb, W, pi = self.u, self.tables, self.window, self.persona[i]  # noqa: N806
        emit = self.events.append
        empty = tb.empty
        signed = [False] * len(plat)
        seen = [0] * len(plat)
        busy = [-1.0] * len(plat)  # time of the last event on each device
        signed_at = [math.inf] * len(plat)
        events = self.events
        n0, overlap = len(events), False
        state = [acct, False]  # account known, card linked online
        n_cat = _PRODUCTS_PER_CATEGORY
        cat0 = target - target % n_cat

        def sign_in(t: float, dl: int) -> float:
            state[0] = True
            signed_at[dl] = min(signed_at[dl], t)
            signed[dl] = True
            if u() < ALIAS_PROBABILITY:
                emit((t, tb.alias[plat[dl]], empty, dev0 + dl, _USER | _PREV))
            else:
                flags = _USER | _EMAIL
                if link:
                    flags |= _CARD
                    state[1] = True
                emit((t, tb.identify[plat[dl]], tb.segment_props[pi], dev0 + dl, flags))
            return t + 1 + u() * 5

        def views(t: float, n: int, d: int, pl: int, flags: int) -> float:
            for k in range(n):
                prod = target if k == n - 1 else cat0 + int(u() * n_cat)
                emit((t, tb.page[pl]["Product"], tb.product_page_props[prod], d, flags))
                t += 1 + u() * 4
                emit((t, tb.viewed[pl], tb.product_props[prod], d, flags))
                t += 20 + u() * 130
            return t

        def order(t: float, tmpl: int, d: int, flags: int, store: int) -> None:
            self.orders += 1
            qty = 2 if u() < 0.1 else 1
            obj: dict[str, Any] = {
                "order_id": f"o-{self.orders:07d}",
                "product_id": tb.skus[target],
                "quantity": qty,
            }
            if store >= 0:
                obj["store_id"] = _STORES[store][0]
            self.revenue_at.append(len(self.events))
            self.revenue.append(tb.prices[target] * qty)
            emit((t, tmpl, tb.unique_prop(obj), d, flags))

        def cart(t: float, flow: int, dl: int, flags: int) -> float:
            d, pl = dev0 + dl, plat[dl]
            if not signed[dl]:
                t = sign_in(t, dl)
                flags = _USER
            emit((t, tb.added[pl], tb.product_props[target], d, flags))
            t += 30 + u() * 90
            if flow >= 1:
                emit((t, tb.page[pl]["Checkout"], tb.page_props["Checkout"], d, flags))
                t += 2 + u() * 8
                emit((t, tb.checkout[pl], tb.product_props[target], d, flags))
                t += 60 + u() * 150
                if flow == 2:
                    order(t, tb.ordered[pl], d, flags, -1)
            return t

        for t, _, kind, dl, a, b in plan:
            if t >= W:
                continue
            if kind == _K_EMAIL:  # a: template, b: follows a store purchase
                if state[0] and (not b or state[1]):
                    emit((t, a, empty, -1, _USER))
                continue
            if kind == _K_STORE:  # a: 1 = purchase
                store = home_store if u() < 0.8 else int(u() * len(_STORES))
                emit((t, tb.store_visit[store], tb.store_props[store], -1, _CARD))
                if a:
                    order(t + (5 + u() * 15) * MINUTE, tb.store_order[store], -1, _CARD, store)
                continue
            if kind == _K_SURVEY:  # a: 0 purchase feedback, 1 trial, 2 support CSAT
                nps = self.nps_of[i] if self.loyalty else self._nps(pi)
                csat = self._csat(nps)
                if a == 2:
                    tmpl, obj = tb.survey_support, {"csat": csat}
                    d, flags = (-1, _USER) if state[0] else (dev0 + dl, 0)
                elif state[0] and (not b or state[1]):
                    tmpl = tb.survey_trial if a == 1 else tb.survey_email
                    obj = {"csat": csat, "nps": nps} if u() < _SURVEY_CSAT else {"nps": nps}
                    d, flags = -1, _USER
                else:
                    continue
                emit((t, tmpl, tb.prop(obj), d, flags))
                continue
            if kind == _K_SUPPORT:
                d, flags = (-1, _USER) if state[0] else (dev0 + dl, 0)
                emit((t, tb.support[a], empty, d, flags))
                continue
            # -- device sessions ------------------------------------------------------------
            d, pl = dev0 + dl, plat[dl]
            overlap = overlap or t < busy[dl]
            if kind == _K_NEWS_CLICK:
                emit((t, tb.newsletters[a][2], empty, -1, _USER))
                t += 2 + u() * 10
            if not signed[dl] and state[0] and 0 <= signin_after[dl] <= seen[dl]:
                t = sign_in(t, dl)
            seen[dl] += 1
            flags = _USER if signed[dl] else 0
            page = tb.page[pl]
            if kind == _K_EXPO:  # a: variant, b: entry flow or -1
                touch, web_landing, app_landing = tb.variants[a]
                emit((t, touch, empty, d, flags))
                t += 2 + u() * 10
                emit((t, app_landing if pl else web_landing, tb.page_props["Landing"], d, flags))
                t += 10 + u() * 60
                if b < 0:
                    for _ in range(int(u() * 3)):
                        emit((t, page["Category"], tb.page_props["Category"], d, flags))
                        t += 10 + u() * 90
                else:
                    t = views(t, 1 + int(u() * 3), d, pl, flags)
                    if b != _VIEW_ONLY:
                        cart(t, b, dl, flags)
            elif kind == _K_NEWS_CLICK:
                codes = tb.newsletters[a]
                emit((t, codes[4] if pl else codes[3], tb.page_props["Landing"], d, flags))
                t += 10 + u() * 60
                for _ in range(int(u() * 3)):
                    emit((t, page["Category"], tb.page_props["Category"], d, flags))
                    t += 10 + u() * 90
            elif kind in (_K_TRIAL_START, _K_TRIAL_USE, _K_SUB_START):
                if kind == _K_TRIAL_START and not signed[dl]:
                    t = sign_in(t, dl)
                    flags = _USER
                emit((t, tb.opened, empty, d, flags))
                t += 2 + u() * 10
                if kind == _K_TRIAL_START:
                    emit((t, tb.trial_started, empty, d, flags))
                    t += 20 + u() * 60
                elif kind == _K_SUB_START:
                    emit((t, tb.sub_started, empty, d, flags))
                    t += 20 + u() * 60
                for _ in range(1 + int(u() * 4)):
                    feature = tb.feature_props[int(u() * len(_FEATURES))]
                    emit((t, tb.feature, feature, d, flags))
                    t += 15 + u() * 120
            elif kind == _K_RETURN:  # a: came through the reminder e-mail, b: needs checkout
                codes = tb.email["cart_reminder"]
                if a:
                    emit((t - 30.0, codes[2], empty, -1, _USER))
                    emit((t, codes[4] if pl else codes[3], tb.page_props["Cart"], d, flags))
                else:
                    emit((t, tb.closing[pl], tb.page_props["Home"], d, flags))
                    t += 3 + u() * 20
                    emit((t, page["Cart"], tb.page_props["Cart"], d, flags))
                t += 20 + u() * 60
                if not signed[dl]:
                    t = sign_in(t, dl)
                    flags = _USER
                if b:
                    emit((t, page["Checkout"], tb.page_props["Checkout"], d, flags))
                    t += 2 + u() * 8
                    emit((t, tb.checkout[pl], tb.product_props[target], d, flags))
                    t += 60 + u() * 150
                order(t, tb.ordered[pl], d, flags, -1)
            else:  # direct visit, entry, research, add-to-cart or repeat purchase session
                if kind == _K_RESEARCH and a >= 0:
                    touch, web_landing, app_landing = tb.variants[a]
                    emit((t, touch, empty, d, flags))
                    t += 2 + u() * 10
                    emit(
                        (t, app_landing if pl else web_landing, tb.page_props["Landing"], d, flags)
                    )
                else:
                    emit((t, tb.closing[pl], tb.page_props["Home"], d, flags))
                t += 3 + u() * 30
                if kind == _K_DIRECT:
                    for _ in range(int(u() * 3)):
                        emit((t, page["Category"], tb.page_props["Category"], d, flags))
                        t += 10 + u() * 90
                elif kind == _K_RESEARCH:
                    t = views(t, 2 + int(u() * 5), d, pl, flags)
                else:
                    t = views(t, 1 + int(u() * 3), d, pl, flags)
                    if b != _VIEW_ONLY:
                        cart(t, b, dl, flags)
            busy[dl] = max(busy[dl], events[-1][0])
        if overlap:  # a session overlapped an earlier one that signed in: mark its later events
            for k in range(n0, len(events)):
                t, tm, pr, d, fl = events[k]
                dl = d - dev0
                if 0 <= dl < len(plat) and not fl & _USER and t > signed_at[dl]:
                    events[k] = (t, tm, pr, d, fl | _USER)

    def _nps(self, pi: int) -> int:
        weights = _NPS_CUM[pi]
        r, k = self.u(), 0
        while k < 10 and r >= weights[k]:
            k += 1
        return k

    def _csat(self, nps: int) -> int:
        r = self.u()
        shift = 1 if r < _CSAT_UP else -1 if r < _CSAT_UP + _CSAT_DOWN else 0
        return min(5, max(1, _CSAT_OF_NPS[nps] + shift))
