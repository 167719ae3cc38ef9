"""Event templates and property strings of the synthetic shop, interned to ints
(:class:`_Tables`), and the fixed page and column tables they are built from.

Split out of :mod:`kundresa.synth._generator`; the simulation is in ``_sim``.
"""

from __future__ import annotations

import json
from typing import Any, Final

import numpy as np

from kundresa.synth._world import (
    _CATEGORIES,
    _EMAILS,
    _FEATURES,
    _PRODUCTS_PER_CATEGORY,
    _STORES,
    _SUPPORT_TOUCHPOINTS,
    _VARIANTS,
    PERSONAS,
    _Row,
)

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
        # the loyalty stage (kundresa.synth._loyalty): ambassadors
        self.referral_sent = t("track", "Referral Sent", "referral", "Refer a friend")
        self.review_written = t("track", "Review Written", "review", "Product review")
        self.rating_props = [self.prop({"rating": k}) for k in range(1, 6)]
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
