"""Attribution against the synthetic generator's planted truth (synthesize(20000, seed=7)).

Planted: entry (first ``Product Viewed``) follows a noisy-OR over the distinct channels
touched before it, effects search .30 > review .22 > email .15 > social .10 > referral .06
> ads .03 (support, web, app, store 0); the entry session opens with a *closing* direct
visit on web or app that has no effect. Journeys: each person's touches before the first
Product Viewed (``first_only``), non-converting persons kept, 90-day lookback (the whole
56-day window, so non-converters' early touches are not cut off).

Tolerances (measured values in comments):
* Shapley (``rate`` coalition): the six marketing channels in exactly the planted order
  (Spearman 1.0).
* Markov order 2 against the planted *removal effects* (truth ``channel_removal_effects``:
  the expected entries lost without a channel's touches, sum over persons touched of
  P(entry | S) - P(entry | S without c) under the planted noisy-OR, i.e. reach x effect):
  Spearman >= 0.9 over the six (measured 0.943: the only error is ads over social) and
  search ranked first (first in both). Planted removal order: search 1707 > email 959 >
  review 772 > social 588 > ads 159 > referral 124; Markov order 2: search 1214 > email
  1177 > review 1030 > ads 998 > social 953 > referral 471. The two planted rankings differ
  (Spearman 0.886 between them, consistent with email reaching more persons than review and ads
  more than referral), and Markov agrees with the removal effects better than with the per-person
  effects, so most of the earlier gap was comparing against the wrong planted quantity.
* Markov order 2 against the per-person effects: Spearman >= 0.7 (measured 0.771: ads over
  social/referral, email over review), search first. Measured on this shop (Spearman over
  the six, per-person / removal): order 1 0.314 / 0.714, order 2 0.771 / 0.943, order 3
  0.771 / 0.943; dropping the closing direct visits (``exclude_channels=["web", "app"]``)
  0.771 per-person at orders 1-3; 30-day instead of 90-day lookback 0.429 / 0.771 / 0.771
  per-person; credits per person reached 0.771 per-person. Repeats are always merged and
  non-converting journeys always kept (the definition). Only order >= 2 (or removing the
  closing visits) matters: order 1 cannot tell that the direct visit follows a marketing
  touch. The remaining error (ads over social) is not a setting: the removal effect is
  computed from the observed flow, which mixes a channel's effect with who it reaches (ads
  reach impulse buyers, who convert anyway). The test asserts that order 2 beats order 1
  and does not pick the best-scoring variant.
* Last touch gives the closing channels (web, app) >= 95 % of the credit (measured 100 %);
  Markov gives them less than half of that (measured 38 %).
* ROPO: the planted share (store orders preceded by a Product Viewed of the same person
  within 30 days, 69.5 %) is recovered within 3 points (measured 70.3 %) among store orders
  of persons linked online (loyalty card identifiable; the other store orders cannot be
  joined to research), with the report's *default* settings (research = Product Viewed).
  Counting any online touch as research (``research_event=None``, CLI
  ``--research-event any``) measures 93.4 %: it counts visits that are not research.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kundresa import Workspace
from kundresa.attribution import attribute, build_journeys, ropo_report

MARKETING = ["search", "review", "email", "social", "referral", "ads"]


def spearman(a: list[float], b: list[float]) -> float:
    ra = np.argsort(np.argsort(-np.asarray(a)))
    rb = np.argsort(np.argsort(-np.asarray(b)))
    n = len(a)
    return float(1 - 6 * ((ra - rb) ** 2).sum() / (n * (n * n - 1)))


@pytest.fixture
def shop(synthetic_shop: tuple[Workspace, dict[str, Any]]) -> tuple[Workspace, dict[str, Any]]:
    """The session's shared 20,000-person synthetic shop (see conftest)."""
    return synthetic_shop


def test_models_rank_planted_channel_effects(shop: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = shop
    effects = truth["channel_effects"]
    model = truth["channel_effects_model"]
    assert model["conversion"] == "Product Viewed"
    j = build_journeys(ws, model["conversion"], first_only=True, lookback="90d")
    r = attribute(j, model=["last", "markov", "shapley"], markov_order=2)
    planted = [effects[c] for c in MARKETING]
    shap = [r.credits["shapley"][c] for c in MARKETING]
    mark = [r.credits["markov"][c] for c in MARKETING]
    assert spearman(shap, planted) == 1.0, dict(zip(MARKETING, shap, strict=True))
    assert spearman(mark, planted) >= 0.7, dict(zip(MARKETING, mark, strict=True))
    # what a removal effect estimates: expected entries lost without the channel
    removal = [truth["channel_removal_effects"][c] for c in MARKETING]
    assert spearman(removal, planted) < 1.0  # the two planted rankings differ
    assert spearman(mark, removal) >= 0.9, dict(zip(MARKETING, mark, strict=True))
    assert spearman(mark, removal) > spearman(mark, planted)
    assert max(MARKETING, key=lambda c: truth["channel_removal_effects"][c]) == "search"
    first_order = attribute(j, model="markov", markov_order=1).credits["markov"]
    assert spearman([first_order[c] for c in MARKETING], planted) < spearman(mark, planted)
    assert max(MARKETING, key=lambda c: r.credits["markov"][c]) == "search"
    closing = truth["closing_channels"]
    last = r.shares("last")
    markov_share = r.shares("markov")
    assert sum(last[c] for c in closing) >= 0.95
    assert sum(markov_share[c] for c in closing) < 0.5 * sum(last[c] for c in closing)
    # last touch gives the planted causes nothing at all
    assert sum(last[c] for c in MARKETING) < 0.01


def test_ropo_share_recovered(shop: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = shop
    planted = truth["ropo"]
    rep = ropo_report(ws)  # the defaults: Order Completed, research = Product Viewed, 30d
    assert rep.offline_conversions == planted["store_purchases"]
    assert abs(rep.share_of_linked - planted["share"]) <= 0.03, (rep.share_of_linked, planted)
    assert rep.researched_online <= planted["store_purchases_with_online_research"]
    any_touch = ropo_report(ws, research_event=None)
    assert any_touch.share_of_linked > planted["share"] + 0.15  # visits are not research
