"""The loyalty models recover the synthetic shop's planted loyalty stage (issue 16, planted truth).

What is planted (``synthesize(..., days=730, loyalty=True)``, see ``kundresa.synth._loyalty``
and ``docs/synth.md``): each customer (a person whose journey ends in a first purchase)
repurchases as a Poisson process with rate ``lambda ~ gamma(r, alpha)`` per week and leaves
after each repeat purchase with probability ``p ~ beta(a, b)`` (BG/NBD), and spends
``z ~ gamma(p, nu)`` on every purchase with ``nu ~ gamma(q, gamma)`` (Gamma-Gamma): the
order's revenue. ``r, alpha, a, b, p, q, gamma`` are per persona (``truth.json``
``loyalty.parameters`` / ``spend_parameters``); per customer the truth holds ``lambda``,
``p``, ``nu``, the drop-out time and whether the customer is alive at the end. Ambassadors:
``Referral Sent`` at a weekly rate per persona and NPS class while alive, ``Review Written``
after a purchase with a probability per persona and class (``ambassadors``).

How it is checked: the shop (8,000 persons, two years) is loaded into a real DuckDB workspace
and stitched; :func:`rfm_summary_sql` computes each person's ``(x, t_x, T, mean repeat
spend)`` with one SQL query on the ``events`` table (independent of the engine's
``kundresa.loyalty.rfm_summary``); each stitched person is mapped to the planted person
through the identities table and the truth's identifier maps (what a perfect stitcher gives;
here every customer maps one to one). Then per persona:

* BG/NBD and Gamma-Gamma fits (``kundresa.loyalty``) recover every planted parameter within
  3 standard errors on the log scale, ``|log(est / true)| <= 3 se(est) / est`` (the fits
  optimise ``log theta`` and the delta method gives ``se(log theta) = se / theta``; a weakly
  identified positive parameter's likelihood is close to quadratic in ``log theta``, far
  from it in ``theta``). 28 checks at 3 SE pass together with probability about 0.93 under
  the planted model; the seed is fixed, so the outcome is too.
* Power: the same check rejects wrong planted values (``WRONG``): for loyal, ``r`` and
  ``alpha`` off by 50 %, the mean purchase rate ``r / alpha`` by 25 %, the mean drop-out
  probability ``a / (a + b)`` by a factor 2 and the expected spend ``p gamma / (q - 1)`` by
  30 %; for wheel_kicker (fewer repeat purchases) factors 2, 1.5, 3 and 1.3. ``a`` and
  ``b`` alone are weakly identified (their SEs are 20-70 %): their ratio is what the data
  pin down.
* P(alive) from each persona's fit ranks the planted still-alive customers above the
  planted dead: AUC (Mann-Whitney rank formula, ties as mid-ranks) >= 0.85 over all
  customers, >= 0.8 within each persona with at least 20 of each, and within 0.01 of the
  AUC of P(alive) under the planted parameters.
* The summary equals the planted one exactly (x) and to 1e-5 weeks (t_x, T), the NPS answers
  are the planted trait, the referral rates and review counts match the planted ones within
  3 SE, promoters refer more than detractors, and the loyalty stage adds no cart or
  checkout event to a person who stopped in the funnel (the funnel truth stays exact).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import rankdata

from kundresa import InvalidOptionError, Workspace
from kundresa.loyalty import ModelFit, fit_bg_nbd, fit_gamma_gamma, p_alive
from kundresa.synth import generate_events, synthesize

from .test_cli import run

PERSONS = 8_000
SEED = 16
DAYS = 730
K = 3.0  # standard errors
PERSONAS = ("impulse", "loyal", "trial_churner", "wheel_kicker")
WEEK_US = 7 * 86_400 * 1_000_000


def rfm_summary_sql(
    ws: Workspace, end: str, purchase_event: str = "Order Completed"
) -> dict[str, np.ndarray[Any, Any]]:
    """Each stitched person's recency-frequency-monetary summary, in weeks, by one DuckDB
    SQL query on the workspace's ``events`` table (the planted truth's conventions).

    ``x`` counts the person's ``purchase_event`` events after the first one (every event,
    not distinct days), ``t_x`` is the last minus the first purchase time, ``T`` the
    observation ``end`` (an ISO timestamp) minus the first purchase, both in weeks of
    604,800 s; ``monetary`` is the mean ``revenue`` of the repeat purchases (the first,
    by ``(ts, event_id)``, left out; 0 when ``x = 0``). Events without a ``person_id``
    (not stitched) are left out. Returns columns ``person_id, x, t_x, T, monetary`` sorted
    by ``person_id``.
    """
    query = f"""
        WITH purchases AS (
            SELECT person_id, ts, revenue,
                   row_number() OVER (PARTITION BY person_id ORDER BY ts, event_id) AS k
            FROM events
            WHERE event = '{purchase_event}' AND person_id IS NOT NULL
        )
        SELECT person_id,
               count(*) - 1 AS x,
               (epoch_us(max(ts)) - epoch_us(min(ts))) / {WEEK_US}.0 AS t_x,
               (epoch_us(TIMESTAMP '{end}') - epoch_us(min(ts))) / {WEEK_US}.0 AS T,
               coalesce(avg(revenue) FILTER (WHERE k > 1), 0.0) AS monetary
        FROM purchases
        GROUP BY person_id
        ORDER BY person_id
    """
    table = ws.sql(query)
    return {name: table.column(name).to_numpy() for name in table.column_names}


def _planted_person(ws: Workspace, truth: dict[str, Any]) -> dict[str, str]:
    """Stitched ``person_id`` -> planted person, where its user ids and loyalty cards all
    name one planted person."""
    rows = ws.sql(
        "SELECT id_type, identifier, person_id FROM identities"
        " WHERE id_type IN ('user_id', 'loyalty_card')"
    ).to_pylist()
    maps = {"user_id": truth["person_of_user_id"], "loyalty_card": truth["person_of_loyalty_card"]}
    named: dict[str, set[str]] = {}
    for row in rows:
        named.setdefault(row["person_id"], set()).add(maps[row["id_type"]][row["identifier"]])
    return {pid: next(iter(s)) for pid, s in named.items() if len(s) == 1}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("loyalty_shop")
    made = synthesize(persons=PERSONS, seed=SEED, out=folder, days=DAYS, loyalty=True)
    truth = json.loads(made.truth_path.read_text())
    ws = Workspace.open(folder / "shop.duckdb")
    report = ws.ingest([made.events_path])
    assert (report.quarantined, report.expired) == (0, 0)
    yield ws, truth
    ws.close()


@pytest.fixture(scope="module")
def customers(shop: tuple[Workspace, dict[str, Any]]) -> dict[str, np.ndarray[Any, Any]]:
    """The SQL summary of every customer, joined with the planted truth (one row each)."""
    return _customers(*shop)


def _customers(ws: Workspace, truth: dict[str, Any]) -> dict[str, np.ndarray[Any, Any]]:
    loyalty = truth["loyalty"]
    summary = rfm_summary_sql(ws, loyalty["conventions"]["observation_end"])
    planted = _planted_person(ws, truth)
    planted_of = np.array([planted.get(p, "") for p in summary["person_id"].tolist()])
    plant = loyalty["customers"]
    row = {p: k for k, p in enumerate(plant["person"])}
    keep = np.array([p in row for p in planted_of.tolist()])
    at = np.array([row[p] for p in planted_of[keep].tolist()], dtype=np.int64)
    out = {name: values[keep] for name, values in summary.items()}
    out["person"] = planted_of[keep]
    out["planted_row"] = at
    for name in ("persona", "x", "t_x", "T", "alive", "lambda", "p", "nu", "death"):
        out[f"planted_{name}"] = np.asarray(plant[name])[at]
    return out


def _persona(c: dict[str, np.ndarray[Any, Any]], name: str) -> dict[str, np.ndarray[Any, Any]]:
    mine = c["planted_persona"] == name
    return {k: v[mine] for k, v in c.items()}


_FITS: dict[str, tuple[ModelFit, ModelFit]] = {}


def _fits(c: dict[str, np.ndarray[Any, Any]], name: str) -> tuple[ModelFit, ModelFit]:
    """BG/NBD and Gamma-Gamma of one persona (fitted once per module)."""
    if name not in _FITS:
        p = _persona(c, name)
        x = p["x"].astype(np.float64)
        _FITS[name] = (fit_bg_nbd(x, p["t_x"], p["T"]), fit_gamma_gamma(x, p["monetary"]))
    return _FITS[name]


def _z(fit: ModelFit, grad_log: dict[str, float], log_est: float, true: float) -> float:
    """Standard errors between ``log(true)`` and the estimate of a log quantity whose
    gradient on the parameter scale is ``grad_log`` (the delta method on the covariance)."""
    names = list(fit.params)
    g = np.array([grad_log.get(n, 0.0) for n in names])
    cov = np.asarray(fit.covariance, dtype=np.float64)
    se = math.sqrt(float(g @ cov @ g))
    return abs(log_est - math.log(true)) / se


def _z_parameter(fit: ModelFit, name: str, true: float) -> float:
    est = fit[name]
    return _z(fit, {name: 1.0 / est}, math.log(est), true)


def _quantity(fit: ModelFit, what: str) -> tuple[float, dict[str, float]]:
    """A derived quantity's log estimate and its gradient (of the log) on the parameters."""
    v = fit.params
    if what == "mean_rate":  # E[lambda] = r / alpha
        return math.log(v["r"] / v["alpha"]), {"r": 1 / v["r"], "alpha": -1 / v["alpha"]}
    if what == "mean_drop":  # E[p] = a / (a + b)
        s = v["a"] + v["b"]
        return math.log(v["a"] / s), {"a": 1 / v["a"] - 1 / s, "b": -1 / s}
    assert what == "mean_spend"  # E[M] = p gamma / (q - 1)
    m = math.log(v["p"] * v["gamma"] / (v["q"] - 1))
    return m, {"p": 1 / v["p"], "q": -1 / (v["q"] - 1), "gamma": 1 / v["gamma"]}


def _planted_quantity(truth: dict[str, Any], persona: str, what: str) -> float:
    b = truth["loyalty"]["parameters"][persona]
    g = truth["loyalty"]["spend_parameters"][persona]
    return {
        "mean_rate": b["r"] / b["alpha"],
        "mean_drop": b["a"] / (b["a"] + b["b"]),
        "mean_spend": g["p"] * g["gamma"] / (g["q"] - 1),
    }[what]


# -- the summary is the plant --------------------------------------------------------------


def test_sql_summary_is_the_planted_summary(
    shop: tuple[Workspace, dict[str, Any]], customers: dict[str, np.ndarray[Any, Any]]
) -> None:
    """Every planted customer is one stitched person whose SQL (x, t_x, T) is the plant's."""
    _, truth = shop
    plant = truth["loyalty"]["customers"]
    assert len(plant["person"]) > 1_500
    assert sorted(customers["person"].tolist()) == sorted(plant["person"])
    assert (customers["x"] == customers["planted_x"]).all()
    assert np.allclose(customers["t_x"], customers["planted_t_x"], rtol=1e-5, atol=1e-5)
    assert np.allclose(customers["T"], customers["planted_T"], rtol=1e-5, atol=1e-5)
    repeat = customers["x"] > 0
    assert (customers["monetary"][repeat] > 0).all()
    assert (customers["monetary"][~repeat] == 0).all()


# -- BG/NBD and Gamma-Gamma recover the planted parameters ----------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_bg_nbd_recovers_the_planted_parameters(
    shop: tuple[Workspace, dict[str, Any]],
    customers: dict[str, np.ndarray[Any, Any]],
    persona: str,
) -> None:
    _, truth = shop
    fit, _ = _fits(customers, persona)
    assert fit.converged
    assert not fit.at_boundary
    planted = truth["loyalty"]["parameters"][persona]
    z = {n: round(_z_parameter(fit, n, v), 2) for n, v in planted.items()}
    assert max(z.values()) <= K, (persona, dict(fit.params), dict(fit.standard_errors), z)


@pytest.mark.parametrize("persona", PERSONAS)
def test_gamma_gamma_recovers_the_planted_parameters(
    shop: tuple[Workspace, dict[str, Any]],
    customers: dict[str, np.ndarray[Any, Any]],
    persona: str,
) -> None:
    _, truth = shop
    _, fit = _fits(customers, persona)
    assert fit.converged
    assert not fit.at_boundary
    planted = truth["loyalty"]["spend_parameters"][persona]
    z = {n: round(_z_parameter(fit, n, v), 2) for n, v in planted.items()}
    assert max(z.values()) <= K, (persona, dict(fit.params), dict(fit.standard_errors), z)
    q_est, grad = _quantity(fit, "mean_spend")
    assert _z(fit, grad, q_est, _planted_quantity(truth, persona, "mean_spend")) <= K


# (persona, quantity, factor): the planted value times factor must be rejected; the factors
# are set by each persona's information (loyal: many repeat purchases per customer)
WRONG = [
    *[
        ("loyal", what, f)
        for what, up in (
            ("r", 1.5),
            ("alpha", 1.5),
            ("mean_rate", 1.25),
            ("mean_drop", 2.0),
            ("mean_spend", 1.3),
        )
        for f in (up, 1 / up)
    ],
    *[
        ("wheel_kicker", what, f)
        for what, up in (
            ("r", 2.0),
            ("alpha", 2.0),
            ("mean_rate", 1.5),
            ("mean_drop", 3.0),
            ("mean_spend", 1.3),
        )
        for f in (up, 1 / up)
    ],
]


@pytest.mark.parametrize(("persona", "what", "factor"), WRONG)
def test_a_wrong_planted_value_is_rejected(
    shop: tuple[Workspace, dict[str, Any]],
    customers: dict[str, np.ndarray[Any, Any]],
    persona: str,
    what: str,
    factor: float,
) -> None:
    """The recovery check has power: the planted value times ``factor`` lies beyond 3 SE,
    while the planted value itself lies within (asserted here too)."""
    _, truth = shop
    bg, gg = _fits(customers, persona)
    if what in ("r", "alpha"):
        true = truth["loyalty"]["parameters"][persona][what]
        assert _z_parameter(bg, what, true) <= K
        assert _z_parameter(bg, what, true * factor) > K
        return
    fit = gg if what == "mean_spend" else bg
    est, grad = _quantity(fit, what)
    true = _planted_quantity(truth, persona, what)
    assert _z(fit, grad, est, true) <= K
    assert _z(fit, grad, est, true * factor) > K


# -- P(alive) ranks the living above the dead -----------------------------------------------


def _auc(score: np.ndarray[Any, Any], positive: np.ndarray[Any, Any]) -> float:
    """Mann-Whitney AUC: P(score of a positive > score of a negative), ties count 1/2."""
    ranks = rankdata(score)
    n1, n0 = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def test_p_alive_ranks_the_planted_living_above_the_dead(
    shop: tuple[Workspace, dict[str, Any]], customers: dict[str, np.ndarray[Any, Any]]
) -> None:
    _, truth = shop
    scores = np.zeros(customers["x"].size)
    alive = customers["planted_alive"].astype(bool)
    per: dict[str, float] = {}
    for name in PERSONAS:
        mine = customers["planted_persona"] == name
        fit, _ = _fits(customers, name)
        scores[mine] = p_alive(
            fit, customers["x"][mine], customers["t_x"][mine], customers["T"][mine]
        )
        if alive[mine].sum() >= 20 and (~alive[mine]).sum() >= 20:
            per[name] = _auc(scores[mine], alive[mine])
    overall = _auc(scores, alive)
    assert overall >= 0.85, overall
    # as good as knowing the planted parameters
    planted = np.zeros_like(scores)
    for name in PERSONAS:
        mine = customers["planted_persona"] == name
        true = ModelFit("bg_nbd", truth["loyalty"]["parameters"][name], {}, 0.0, 0, 0, True)
        planted[mine] = p_alive(
            true, customers["x"][mine], customers["t_x"][mine], customers["T"][mine]
        )
    assert abs(overall - _auc(planted, alive)) <= 0.01
    assert len(per) >= 3
    assert min(per.values()) >= 0.8, per
    assert _auc(scores, ~alive) == pytest.approx(1 - overall)  # the formula itself


def test_dead_customers_have_made_their_last_purchase(
    customers: dict[str, np.ndarray[Any, Any]],
) -> None:
    """A planted death is the last repeat purchase; the living are alive beyond ``T``."""
    dead = ~customers["planted_alive"].astype(bool)
    assert np.allclose(customers["planted_death"][dead], customers["t_x"][dead], rtol=1e-5)
    assert (customers["x"][dead] >= 1).all()
    assert (customers["planted_death"][~dead] > customers["T"][~dead]).all()


# -- ambassadors ---------------------------------------------------------------------------


def _per_planted(
    ws: Workspace, truth: dict[str, Any], query: str
) -> dict[str, list[dict[str, Any]]]:
    planted = _planted_person(ws, truth)
    out: dict[str, list[dict[str, Any]]] = {}
    for row in ws.sql(query).to_pylist():
        if row["person_id"] in planted:
            out.setdefault(planted[row["person_id"]], []).append(row)
    return out


def test_survey_answers_are_the_planted_nps(shop: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = shop
    amb = truth["ambassadors"]["persons"]
    trait = dict(zip(amb["person"], amb["nps"], strict=True))
    rows = _per_planted(
        ws,
        truth,
        "SELECT person_id, CAST(json_extract(properties, '$.nps') AS INTEGER) AS nps FROM events"
        " WHERE event = 'Survey Answered' AND json_extract(properties, '$.nps') IS NOT NULL"
        " AND person_id IN (SELECT person_id FROM identities"
        " WHERE id_type IN ('user_id', 'loyalty_card'))",
    )
    assert len(rows) > 500
    assert all(r["nps"] == trait[p] for p, answers in rows.items() for r in answers)


def test_referrals_and_reviews_are_the_planted_ones(
    shop: tuple[Workspace, dict[str, Any]], customers: dict[str, np.ndarray[Any, Any]]
) -> None:
    """Counts per person are the truth's; referral rates per persona and NPS class and the
    number of reviews match the planted rates within 3 SE (Poisson / binomial sums)."""
    ws, truth = shop
    amb = truth["ambassadors"]
    index = {p: k for k, p in enumerate(amb["persons"]["person"])}
    counts = _per_planted(
        ws,
        truth,
        "SELECT person_id, event, count(*) AS n FROM events"
        " WHERE event IN ('Referral Sent', 'Review Written') GROUP BY ALL",
    )
    seen = {(p, r["event"]): r["n"] for p, rows in counts.items() for r in rows}
    for col, event in (("referrals", "Referral Sent"), ("reviews", "Review Written")):
        planted = {
            p: n for p, n in zip(amb["persons"]["person"], amb["persons"][col], strict=True) if n
        }
        assert planted == {p: n for (p, e), n in seen.items() if e == event}
    # referral rates: sum of referrals / sum of alive weeks, per persona and class
    nps = np.asarray(amb["persons"]["nps"])[[index[p] for p in customers["person"].tolist()]]
    klass = np.where(nps >= 9, "promoter", np.where(nps >= 7, "passive", "detractor"))
    eligible = np.asarray(amb["persons"]["eligible"])[[index[p] for p in customers["person"]]]
    refs = np.asarray(amb["persons"]["referrals"])[[index[p] for p in customers["person"]]]
    weeks = np.minimum(customers["planted_death"], customers["T"])
    checked = 0
    for name in PERSONAS:
        for c, rate in amb["referral_rate_per_week"][name].items():
            mine = (customers["planted_persona"] == name) & (klass == c) & eligible
            expected = rate * float(weeks[mine].sum())
            if expected >= 10:
                checked += 1
                assert abs(refs[mine].sum() - expected) <= K * math.sqrt(expected), (name, c)
    assert checked >= 4
    # promoters refer more than detractors (share of referrers among eligible customers)
    for name in ("loyal", "wheel_kicker"):
        mine = (customers["planted_persona"] == name) & eligible
        share = {
            c: float((refs[mine & (klass == c)] > 0).mean()) for c in ("promoter", "detractor")
        }
        assert share["promoter"] > 2 * share["detractor"], (name, share)


def test_review_counts_and_ratings_follow_the_plant(
    shop: tuple[Workspace, dict[str, Any]],
) -> None:
    """Expected reviews = sum over purchases of P(review) x P(written before the end: it
    comes 1-14 days later); ratings are 1..5 and rise with the NPS class."""
    ws, truth = shop
    amb = truth["ambassadors"]
    end_us = truth["days"] * 86_400 * 1_000_000
    start = truth["start"]
    purchases = _per_planted(
        ws,
        truth,
        f"SELECT person_id, epoch_us(ts) - epoch_us(TIMESTAMP '{start}') AS t FROM events"
        " WHERE event = 'Order Completed'",
    )
    persons = amb["persons"]
    persona = truth["persona_of_person"]
    reviews = _per_planted(
        ws,
        truth,
        "SELECT person_id, CAST(json_extract(properties, '$.rating') AS INTEGER) AS rating"
        " FROM events WHERE event = 'Review Written'",
    )
    day = 86_400 * 1_000_000
    expected = {name: [0.0, 0.0] for name in PERSONAS}  # mean, variance
    observed = dict.fromkeys(PERSONAS, 0)
    ratings: dict[str, list[int]] = {"promoter": [], "passive": [], "detractor": []}
    for k, p in enumerate(persons["person"]):
        nps = persons["nps"][k]
        c = "promoter" if nps >= 9 else "passive" if nps >= 7 else "detractor"
        name = persona[p]
        if persons["eligible"][k]:
            q = amb["review_probability_per_purchase"][name][c]
            for row in purchases.get(p, []):
                w = q * min(1.0, max(0.0, (end_us - row["t"] - day) / (13 * day)))
                expected[name][0] += w
                expected[name][1] += w * (1 - w)
        observed[name] += persons["reviews"][k]
        ratings[c] += [r["rating"] for r in reviews.get(p, [])]
    for name in PERSONAS:
        mean, var = expected[name]
        assert abs(observed[name] - mean) <= K * math.sqrt(var) + 1, (name, observed, expected)
    assert all(1 <= r <= 5 for rs in ratings.values() for r in rs)
    means = {c: float(np.mean(rs)) for c, rs in ratings.items()}
    assert means["promoter"] > means["passive"] > means["detractor"], means


# -- the rest of the shop's truth holds ----------------------------------------------------


def test_no_cart_or_checkout_after_a_funnel_stop(shop: tuple[Workspace, dict[str, Any]]) -> None:
    """Repeat purchases online only for customers who had a checkout before their first
    order, so the planted funnel-step probabilities stay exact."""
    ws, _ = shop
    rows = ws.sql(
        """
        WITH firsts AS (
            SELECT person_id,
                   min(ts) FILTER (WHERE event = 'Order Completed') AS first_order,
                   min(ts) FILTER (WHERE event = 'Checkout Started') AS first_checkout
            FROM events GROUP BY person_id
        )
        SELECT count(*) AS n FROM events e JOIN firsts f USING (person_id)
        WHERE e.event IN ('Product Added', 'Checkout Started') AND e.ts > f.first_order
          AND (f.first_checkout IS NULL OR f.first_checkout > f.first_order)
        """
    ).to_pylist()
    assert rows[0]["n"] == 0


def test_the_shop_is_two_years_in_the_past(shop: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = shop
    assert (truth["days"], truth["start"]) == (DAYS, "2024-02-26")
    span = ws.sql("SELECT min(ts) AS lo, max(ts) AS hi FROM events").to_pylist()[0]
    assert str(span["lo"]) >= "2024-02-26"
    assert str(span["hi"]) < "2026-02-25"
    assert truth["loyalty"]["conventions"]["observation_end"] == "2026-02-25T00:00:00"


def test_cli_synth_loyalty(tmp_path: Path) -> None:
    """``kundresa synth --days 730 --loyalty`` writes and loads the loyalty shop (nothing
    quarantined: the window lies in the past); without ``--loyalty`` there is no stage."""
    db = tmp_path / "w.duckdb"
    args = ("synth", "--persons", "300", "--seed", "2", "--days", "730", "--db", str(db))
    out = json.loads(run(*args, "--loyalty", "--json", cwd=tmp_path).stdout)
    truth = json.loads(Path(out["synth"]["truth_path"]).read_text())
    assert out["ingest"]["quarantined"] == 0
    assert out["info"]["events"] == truth["events"]
    assert truth["loyalty"]["customers"]["person"]
    assert set(truth["ambassadors"]["by_persona"]) == set(PERSONAS)
    plain = json.loads(
        run(*args[:-1], str(tmp_path / "p.duckdb"), "--no-ingest", "--json", cwd=tmp_path).stdout
    )
    assert "loyalty" not in json.loads(Path(plain["synth"]["truth_path"]).read_text())


# -- the option itself ---------------------------------------------------------------------


def test_the_default_shop_is_unchanged() -> None:
    """The loyalty option left the default output byte for byte as it was (row content and
    truth pinned from before the option existed; other planted-truth tests rely on it)."""
    events, truth = generate_events(400, seed=11)
    rows = json.dumps(events.to_pylist(), default=str, sort_keys=True)
    assert hashlib.sha256(rows.encode()).hexdigest() == (
        "bb72d60658c9fa79b5f4a225cd8a1b333f9af85da849c66592c4054c69a88f14"
    )
    assert hashlib.sha256(json.dumps(truth, sort_keys=True).encode()).hexdigest() == (
        "b0f7e2414346c574b77711744f6c9cec0efa7872662965febcfa433002f77ba4"
    )
    assert "loyalty" not in truth


def test_the_loyalty_shop_is_seeded() -> None:
    a, truth_a = generate_events(300, seed=5, days=730, loyalty=True)
    b, truth_b = generate_events(300, seed=5, days=730, loyalty=True)
    c, _ = generate_events(300, seed=6, days=730, loyalty=True)
    assert a.equals(b)
    assert json.dumps(truth_a, sort_keys=True) == json.dumps(truth_b, sort_keys=True)
    assert not a.equals(c)
    assert truth_a["events"] == a.num_rows


def test_a_bad_loyalty_names_the_field() -> None:
    with pytest.raises(InvalidOptionError, match="loyalty"):
        generate_events(5, seed=1, loyalty="yes")  # type: ignore[arg-type]


def test_every_loyalty_event_has_exactly_one_planted_person() -> None:
    """As in the default shop: an event's identifiers all name one planted person, and
    every event has one (the loyalty stage's rows carry the user or the card)."""
    events, truth = generate_events(1_500, seed=4, days=730, loyalty=True)
    maps = {
        "anonymous_id": truth["person_of_anonymous_id"],
        "previous_id": truth["person_of_anonymous_id"],
        "user_id": truth["person_of_user_id"],
        "loyalty_card": truth["person_of_loyalty_card"],
    }
    owner: list[str | None] = [None] * events.num_rows
    for column, mapping in maps.items():
        for k, value in enumerate(events[column].to_pylist()):
            if value is None:
                continue
            assert owner[k] in (None, mapping[value]), (column, k)
            owner[k] = mapping[value]
    assert None not in owner
    stage = {"Referral Sent", "Review Written"}
    assert stage <= set(events["event"].to_pylist())


# -- the engine's analyses on the plant -----------------------------------------------------


def test_the_engine_summary_is_the_sql_summary(
    shop: tuple[Workspace, dict[str, Any]], customers: dict[str, np.ndarray[Any, Any]]
) -> None:
    """Differential: ``kundresa.loyalty.rfm_summary`` (Ibis, in the engine) against the
    independent SQL of :func:`rfm_summary_sql` on the same customers. The engine works in
    whole UTC days (CDNOW's convention: an order's date), the SQL in exact timestamps, so
    ``x`` and the revenue are equal, ``t_x`` and ``T`` within one day (1/7 week) and the
    engine's ``T`` is a whole number of days; the mean repeat spend is equal wherever the
    first day holds one order (the engine takes the day's smallest value as the first)."""
    from kundresa.loyalty import rfm_summary

    ws, truth = shop
    end = dt.datetime.fromisoformat(truth["loyalty"]["conventions"]["observation_end"])
    last_day = (end - dt.timedelta(microseconds=1)).date()
    engine = rfm_summary(ws, calibration_end=last_day, distinct_days=False).to_frame()
    engine = engine.set_index("person_id").loc[customers["person_id"].tolist()]
    assert (engine["x"].to_numpy() == customers["x"]).all()
    assert np.abs(engine["t_x"].to_numpy() - customers["t_x"]).max() < 1 / 7
    assert np.abs(engine["T"].to_numpy() - customers["T"]).max() < 1 / 7
    days = engine["T"].to_numpy() * 7
    assert np.allclose(days, np.round(days), atol=1e-9)
    spend = ws.sql(
        "SELECT person_id, sum(revenue) AS r FROM events WHERE event = 'Order Completed'"
        " GROUP BY ALL"
    ).to_pylist()
    revenue = {row["person_id"]: row["r"] for row in spend}
    assert np.allclose(engine["revenue"], [revenue[p] for p in engine.index])
    same = np.isclose(engine["monetary"].to_numpy(), customers["monetary"], rtol=1e-9)
    assert same.mean() > 0.99, same.mean()


def test_ambassadors_are_the_planted_ones(shop: tuple[Workspace, dict[str, Any]]) -> None:
    """``kundresa.loyalty.ambassadors`` counts exactly the planted referrers and reviewers
    (truth ``ambassadors.persons``: every planted person is one stitched person), and every
    ambassador it finds is a referrer, a reviewer or a planted promoter."""
    from kundresa.loyalty import ambassadors

    ws, truth = shop
    persons = truth["ambassadors"]["persons"]
    got = ambassadors(ws).overall
    assert got["referrers"] == sum(1 for n in persons["referrals"] if n)
    assert got["reviewers"] == sum(1 for n in persons["reviews"] if n)
    assert got["referrers"] > 100
    assert got["reviewers"] > 100
    either = sum(1 for a, b in zip(persons["referrals"], persons["reviews"], strict=True) if a or b)
    assert either <= got["ambassadors"] <= either + got["promoters"]
