"""Planted truth: the funnel recovers the generator's step probabilities.

``synthesize(persons=20000, seed=7)``; funnel Product Viewed → Product Added → Checkout
Started → Order Completed, ``entry="best"``, window 56 days (the whole period; the planted
probabilities have no time limit). Tolerance: |observed − planted| ≤ 4 binomial standard
errors of the step's denominator, sqrt(p (1 − p) / n) (false alarm ≈ 6e-5 per comparison).

Two units are checked. (a) The planted person (each event's ``person_key`` mapped to its
planted person through the truth's identifier maps): every step, per persona and overall.
This isolates the funnel from stitching. (b) The stitched person, mapped to its planted
person (and persona) through the identities table: steps 3 and 4. Step 2 is not comparable
there: 1,677 of 7,798 planted entrants view products on a device that is never linked to
them, and that fragment enters the funnel without adding to cart (a stitching limit, not a
funnel one; the test asserts the direction of that bias).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

import pyarrow as pa
import pytest

from kundresa import Workspace
from kundresa.funnel import funnel

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"]


@pytest.fixture
def shop(synthetic_shop: tuple[Workspace, dict[str, Any]]) -> tuple[Workspace, dict[str, Any]]:
    """The session's shared 20,000-person synthetic shop (see conftest)."""
    return synthetic_shop


def _planted_of_key(truth: dict[str, Any]) -> dict[str, str]:
    out = {}
    for kind, table in (
        ("anonymous_id", truth["person_of_anonymous_id"]),
        ("user_id", truth["person_of_user_id"]),
        ("loyalty_card", truth["person_of_loyalty_card"]),
    ):
        out.update({f"{kind}:{ident}": p for ident, p in table.items()})
    return out


def _check(counts: dict[str, list[int]], truth: dict[str, Any], steps: range) -> list[str]:
    bad = []
    planted = truth["funnel"]["step_probabilities"]
    for group, c in counts.items():
        for k in steps:
            p, n = planted[group][k], c[k - 1]
            got = c[k] / n
            tol = 4 * math.sqrt(p * (1 - p) / n)
            print(f"{group:>14} step {k + 1}: {got:.4f} vs {p:.4f} ({got - p:+.4f}, tol {tol:.4f})")
            if abs(got - p) > tol:
                bad.append(f"{group} step {k + 1}: {got:.4f} vs {p:.4f} (tol {tol:.4f})")
    return bad


def _by_persona(result: Any, persona_of: dict[str, str]) -> dict[str, list[int]]:
    agg: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in result.breakdown:
        persona = persona_of.get(row.value)
        if persona is None:
            continue
        for g in (persona, "overall"):
            for i, n in enumerate(row.counts):
                agg[g][i] += n
    return dict(agg)


def test_planted_person_recovers_every_step(shop: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = shop
    key_map = _planted_of_key(truth)
    keys = ws.store.raw.execute("select distinct person_key from events").fetchall()
    assert all(k in key_map for (k,) in keys)
    events = ws.store.to_arrow(ws.table("events"))
    planted = [key_map[k] for k in events.column("person_key").to_pylist()]
    events = events.set_column(
        events.schema.get_field_index("person_id"), "person_id", pa.array(planted, pa.string())
    )
    oracle = Workspace.open(":memory:")
    oracle.events()
    oracle.store.append("events", events)
    r = funnel(oracle, STEPS, window="56d", by="person_id", next_events=0)
    oracle.close()
    counts = _by_persona(r, truth["persona_of_person"])
    assert set(counts) == {"overall", *truth["personas"]}
    assert _check(counts, truth, range(1, 4)) == []


def test_stitched_person_recovers_later_steps(shop: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = shop
    key_map = _planted_of_key(truth)
    ids = ws.store.to_arrow(ws.table("identities")).to_pylist()
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for x in ids:
        p = key_map.get(f"{x['id_type']}:{x['identifier']}")
        if p is not None:
            votes[x["person_id"]][p] += 1
    persona_of = {s: truth["persona_of_person"][c.most_common(1)[0][0]] for s, c in votes.items()}
    r = funnel(ws, STEPS, window="56d", by="person_id", next_events=0)
    counts = _by_persona(r, persona_of)
    assert _check(counts, truth, range(2, 4)) == []
    planted = truth["funnel"]["step_probabilities"]["overall"][1]
    assert counts["overall"][1] / counts["overall"][0] < planted  # fragments dilute step 2
