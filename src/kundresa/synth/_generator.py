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
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from typing import Any, Final

import numpy as np
import pyarrow as pa

from kundresa._errors import InvalidOptionError
from kundresa.synth._truth import (
    _Arrays,
    _truth,
)
from kundresa.synth._world import (
    _CARD,
    _CATEGORIES,
    _CSAT_DOWN,
    _CSAT_OF_NPS,
    _CSAT_UP,
    _EMAIL,
    _EMAILS,
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
    _SUPPORT_TOUCHPOINTS,
    _SURVEY_CSAT,
    _TRIAL_DAYS,
    _TRIAL_DECAY_DAYS,
    _TRIAL_SUBSCRIBE,
    _TRIAL_SUBSCRIBED_USE,
    _USER,
    _VARIANTS,
    _VIEW_ONLY,
    ALIAS_PROBABILITY,
    CHANNEL_EFFECTS,
    DAY,
    ENTRY_BASE,
    FUNNEL_STEPS,
    HOUR,
    MIN_DAYS,
    MINUTE,
    PERSONAS,
    REMINDER_PROBABILITY,
    _Event,
    _Plan,
    _Row,
)

__all__ = ["CHANNEL_EFFECTS", "EVENTS_SCHEMA", "FUNNEL_STEPS", "PERSONAS", "generate_events"]


def _uniform_stream(rng: np.random.Generator, chunk: int = 1 << 16) -> Callable[[], float]:
    """Return a fast ``u()`` giving the rng's uniforms [0, 1) one by one, in a fixed order."""

    def gen() -> Iterator[float]:
        while True:
            yield from rng.random(chunk).tolist()

    return gen().__next__


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _Tables:
    """Event templates (the string columns) and property strings, interned to ints."""

    def __init__(self, weeks: int) -> None:
        self.rows: list[_Row] = []
        self._row_index: dict[_Row, int] = {}
        self.props: list[str] = []
        self._prop_index: dict[str, int] = {}
        self.empty = self.prop({})
        t = self.tmpl
        sek = "SEK"
        self.page = [{n: t("page", "Page Viewed", "web", n) for n in _PAGES}]
        self.page.append({n: t("screen", "Screen Viewed", "app", n) for n in _PAGES})
        self.page_props = {n: self.prop({"path": p}) for n, p in _PAGES.items()}
        self.opened = t("track", "Application Opened", "app", "App")
        self.closing = (self.page[0]["Home"], self.opened)
        self.identify = (t("identify", "Identify", "web"), t("identify", "Identify", "app"))
        self.alias = (t("alias", "Alias", "web"), t("alias", "Alias", "app"))
        plats = ("web", "app")
        self.viewed = tuple(t("track", "Product Viewed", c, "Product") for c in plats)
        self.added = tuple(t("track", "Product Added", c, "Product") for c in plats)
        self.checkout = tuple(t("track", "Checkout Started", c, "Checkout") for c in plats)
        self.ordered = tuple(
            t("track", "Order Completed", c, "Checkout", currency=sek) for c in plats
        )
        # Marketing touch variants: (touch, web landing, app landing), ranges per channel.
        self.variants: list[tuple[int, int, int]] = []
        self.variant_range: dict[str, tuple[int, int]] = {}
        for ch, ev, tp, camp, src, med, cont, term in _VARIANTS:
            assert ch is not None
            assert ev is not None
            utm = (camp, src, med, cont, term)
            first, count = self.variant_range.get(ch, (len(self.variants), 0))
            self.variant_range[ch] = (first, count + 1)
            self.variants.append(
                (
                    t("track", ev, ch, tp, *utm),
                    t("page", "Page Viewed", "web", "Landing", *utm),
                    t("screen", "Screen Viewed", "app", "Landing", *utm),
                )
            )
        # E-mail campaigns: (sent, opened, clicked, web landing, app landing).
        self.email: dict[str, tuple[int, int, int, int, int]] = {}
        campaigns = [(f"newsletter_w{w:02d}", "Newsletter") for w in range(1, weeks + 1)]
        for camp, tp in campaigns + list(_EMAILS):
            src = "newsletter" if camp.startswith("newsletter") else "crm"
            utm = (camp, src, "email", None, None)
            land = "Cart" if camp == "cart_reminder" else "Landing"
            self.email[camp] = (
                t("track", "Email Sent", "email", tp, *utm),
                t("track", "Email Opened", "email", tp, *utm),
                t("track", "Email Clicked", "email", tp, *utm),
                t("page", "Page Viewed", "web", land, *utm),
                t("screen", "Screen Viewed", "app", land, *utm),
            )
        self.newsletters = [self.email[c] for c, _ in campaigns]
        survey = ("track", "Survey Answered", "email")
        self.survey_email = t(*survey, "Feedback request", "feedback_request", "crm", "email")
        self.survey_trial = t(*survey, "Trial feedback", "trial_feedback", "crm", "email")
        self.survey_support = t("track", "Survey Answered", "support", "Support CSAT")
        self.support = [
            t("track", "Support Ticket Opened", "support", s) for s in _SUPPORT_TOUCHPOINTS
        ]
        self.store_visit = [t("track", "Store Visited", "store", name) for _, name in _STORES]
        self.store_order = [
            t("track", "Order Completed", "store", name, currency=sek) for _, name in _STORES
        ]
        self.store_props = [self.prop({"store_id": sid}) for sid, _ in _STORES]
        self.trial_started = t("track", "Trial Started", "app", "Membership")
        self.sub_started = t("track", "Subscription Started", "app", "Membership")
        self.feature = t("track", "Feature Used", "app", "Membership")
        self.feature_props = [self.prop({"feature": f}) for f in _FEATURES]
        self.segment_props = [self.prop({"segment": p}) for p in PERSONAS]
        self.product_props: list[int] = []
        self.product_page_props: list[int] = []
        self.prices: list[float] = []
        self.skus: list[str] = []
        cat_rng = np.random.Generator(np.random.PCG64(20260105))  # the shop's fixed catalogue
        for ci, (cat, lo, hi) in enumerate(_CATEGORIES):
            draws = cat_rng.random(_PRODUCTS_PER_CATEGORY).tolist()
            for j, x in enumerate(draws):
                sku = f"SKU-{ci:02d}{j:03d}"
                price = float(round((lo + x * (hi - lo)) / 100.0) * 100 - 10)
                self.prices.append(price)
                self.skus.append(sku)
                self.product_props.append(
                    self.prop({"category": cat, "price": price, "product_id": sku})
                )
                self.product_page_props.append(self.prop({"path": f"/p/{sku.lower()}"}))

    def tmpl(
        self,
        type_: str,
        event: str,
        channel: str,
        touchpoint: str | None = None,
        campaign: str | None = None,
        source: str | None = None,
        medium: str | None = None,
        content: str | None = None,
        term: str | None = None,
        *,
        currency: str | None = None,
    ) -> int:
        row = (type_, event, channel, touchpoint, campaign, source, medium, content, term, currency)
        code = self._row_index.get(row)
        if code is None:
            code = self._row_index[row] = len(self.rows)
            self.rows.append(row)
        return code

    def prop(self, obj: dict[str, Any]) -> int:
        text = _dumps(obj)
        code = self._prop_index.get(text)
        if code is None:
            code = self._prop_index[text] = len(self.props)
            self.props.append(text)
        return code

    def unique_prop(self, obj: dict[str, Any]) -> int:
        self.props.append(_dumps(obj))
        return len(self.props) - 1


_PAGES: Final = {
    "Home": "/",
    "Category": "/kategori",
    "Landing": "/kampanj",
    "Cart": "/kassa/varukorg",
    "Checkout": "/kassa",
    "Product": "/p",
}
_TEMPLATE_COLUMNS: Final = (
    "type",
    "event",
    "channel",
    "touchpoint",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_content",
    "utm_term",
    "currency",
)


class _Sim:
    """Plans and emits every person's journey; holds the compact event buffer."""

    def __init__(self, persons: int, seed: int, days: int) -> None:
        rng = np.random.Generator(np.random.PCG64(seed))
        self.persons = persons
        self.seed = seed
        self.window = days * DAY
        self.scale = days / 56.0
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
                if reach == 4:  # repeat purchases only after a checkout (keeps the chain exact)
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
                k += 1
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
                nps = self._nps(pi)
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


def generate_events(
    persons: int,
    seed: int,
    *,
    start: dt.date = dt.date(2026, 1, 5),
    days: int = 56,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[pa.Table, dict[str, Any]]:
    """Generate seeded multi-channel journeys and the ground truth planted in them.

    Args:
        persons: number of planted persons (about 30 events each).
        seed: seed of the ``numpy`` PCG64 generator; the same ``(persons, seed, start, days)``
            always gives a byte-identical table.
        start: first day of the data window (UTC).
        days: length of the window in days (at least 14).
        progress: called as ``progress(stage, done, total)``: ``"synth:persons"`` with the
            persons simulated so far, then ``"synth:build"`` (total 0: unknown).

    Returns:
        ``(events, truth)``: a ``pyarrow.Table`` of Segment-style calls sorted by
        ``(ts, event_id)`` and a JSON-ready dict with every planted quantity (true person of
        each identifier, personas, channel effects, funnel-step probabilities, reminder
        lift, ROPO, journey lengths).

    >>> events, truth = generate_events(5, seed=1)
    >>> events.column_names[:4]
    ['event_id', 'ts', 'type', 'event']
    >>> sorted(truth["personas"])
    ['impulse', 'loyal', 'trial_churner', 'wheel_kicker']
    >>> truth["events"] == events.num_rows
    True
    """
    if isinstance(persons, bool) or not isinstance(persons, int) or persons < 1:
        raise InvalidOptionError("persons", persons, fix="pass a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidOptionError("seed", seed, fix="pass a whole number >= 0")
    if isinstance(days, bool) or not isinstance(days, int) or days < MIN_DAYS:
        raise InvalidOptionError("days", days, fix=f"pass a whole number >= {MIN_DAYS}")
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise InvalidOptionError("start", start, fix="pass a datetime.date, e.g. date(2026, 1, 5)")
    sim = _Sim(persons, seed, days)
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
    start_us = (start - dt.date(1970, 1, 1)).days * 86_400_000_000
    ts = np.floor(flat[:, 0] * 1e6).astype(np.int64)
    order = np.argsort(ts, kind="stable")
    ts = ts[order] + start_us
    tmpl = flat[order, 1].astype(np.int64)
    prop = flat[order, 2].astype(np.int64)
    dev = flat[order, 3].astype(np.int64)
    flags = flat[order, 4].astype(np.int64)
    person = np.repeat(np.arange(sim.persons, dtype=np.int64), sim.counts)[order]
    revenue = np.full(n, np.nan)
    revenue[np.asarray(sim.revenue_at, dtype=np.int64)] = sim.revenue
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
    return table, _truth(sim, arrays, start, days)
