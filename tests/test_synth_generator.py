"""The synthetic journey generator: shape, determinism, identity rules and planted truth.

The recovery tests count from the events table alone, using the truth file only to map
identifiers to planted persons (what a perfect identity stitcher would give), and compare
with the planted numbers within three standard errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from kundresa.synth._generator import generate_events

SEED = 7
PERSONS = 20_000
STEPS = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
MARKETING = ("search", "review", "email", "social", "referral", "ads", "support")
EXPECTED_COLUMNS = [
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
]


def _sha256(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


@pytest.fixture(scope="module")
def big() -> tuple[pa.Table, dict[str, Any]]:
    return generate_events(PERSONS, SEED)


@pytest.fixture(scope="module")
def frame(big: tuple[pa.Table, dict[str, Any]]) -> dict[str, np.ndarray[Any, Any]]:
    """Columns as numpy arrays plus the planted person index of every event."""
    events, truth = big
    ids = sorted(truth["persona_of_person"])
    index = {p: k for k, p in enumerate(ids)}
    maps = {
        "anonymous_id": truth["person_of_anonymous_id"],
        "previous_id": truth["person_of_anonymous_id"],
        "user_id": truth["person_of_user_id"],
        "loyalty_card": truth["person_of_loyalty_card"],
    }
    person = np.full(events.num_rows, -1, dtype=np.int64)
    holders = np.zeros(events.num_rows, dtype=np.int64)
    for column, mapping in maps.items():
        values = events[column].to_pylist()
        found = np.array([-1 if v is None else index[mapping[v]] for v in values], dtype=np.int64)
        has = found >= 0
        clash = has & (person >= 0) & (person != found)
        assert not clash.any(), f"{column} names another planted person than the rest"
        person = np.where(has, found, person)
        holders += has
    out: dict[str, np.ndarray[Any, Any]] = {
        c: np.asarray(events[c].to_numpy(zero_copy_only=False))
        for c in ("event", "channel", "campaign", "type")
    }
    out["ts"] = events["ts"].cast(pa.int64()).to_numpy()
    out["person"] = person
    out["holders"] = holders
    personas = sorted({truth["persona_of_person"][p] for p in ids})
    persona_of = np.array([personas.index(truth["persona_of_person"][p]) for p in ids])
    out["persona_names"] = np.array(personas)
    out["persona"] = persona_of
    return out


def _first_last(
    f: dict[str, np.ndarray[Any, Any]], mask: np.ndarray[Any, Any], n: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    big = np.iinfo(np.int64).max
    first, last = np.full(n, big), np.full(n, -1, dtype=np.int64)
    np.minimum.at(first, f["person"][mask], f["ts"][mask])
    np.maximum.at(last, f["person"][mask], f["ts"][mask])
    return first, last


def _within(observed: float, planted: float, n: int, k: float = 3.0) -> bool:
    se = math.sqrt(max(planted * (1 - planted), 1e-12) / n)
    return abs(observed - planted) <= k * se


# -- shape and determinism -------------------------------------------------------------------


def test_schema_is_exactly_the_specified_columns() -> None:
    events, _ = generate_events(50, seed=1)
    assert [(f.name, f.type) for f in events.schema] == EXPECTED_COLUMNS


def test_same_seed_gives_identical_bytes_and_truth() -> None:
    a, truth_a = generate_events(400, seed=11)
    b, truth_b = generate_events(400, seed=11)
    assert a.equals(b)
    assert _sha256(a) == _sha256(b)
    assert json.dumps(truth_a, sort_keys=True) == json.dumps(truth_b, sort_keys=True)


def test_different_seed_differs() -> None:
    a, _ = generate_events(400, seed=11)
    b, _ = generate_events(400, seed=12)
    assert _sha256(a) != _sha256(b)


def test_start_and_days_set_the_window() -> None:
    start = dt.date(2025, 3, 1)
    events, truth = generate_events(300, seed=3, start=start, days=21)
    ts = events["ts"]
    assert pc.min(ts).as_py() >= dt.datetime(2025, 3, 1)
    assert pc.max(ts).as_py() < dt.datetime(2025, 3, 22)
    assert truth["start"] == "2025-03-01"
    assert truth["days"] == 21


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"persons": 0, "seed": 1}, "persons"),
        ({"persons": 5, "seed": -1}, "seed"),
        ({"persons": 5, "seed": 1, "days": 3}, "days"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        generate_events(**kwargs)


def test_volume_channels_and_personas(big: tuple[pa.Table, dict[str, Any]]) -> None:
    events, truth = big
    assert events.num_rows >= 500_000
    assert truth["events"] == events.num_rows
    channels = set(pc.unique(events["channel"]).to_pylist())
    assert len(channels) >= 8
    assert channels == {
        "web", "app", "store", "email", "social", "search", "ads", "support", "referral",
        "review",
    }  # fmt: skip
    assert set(truth["personas"]) == {"wheel_kicker", "impulse", "loyal", "trial_churner"}
    assert set(truth["persona_of_person"].values()) == set(truth["personas"])
    assert len(truth["persona_of_person"]) == PERSONS
    shares = {k: v["persons"] / PERSONS for k, v in truth["personas"].items()}
    for name, share in shares.items():
        assert _within(share, truth["personas"][name]["share"], PERSONS)


def test_sorted_unique_and_inside_window(big: tuple[pa.Table, dict[str, Any]]) -> None:
    events, truth = big
    ids = events["event_id"].to_pylist()
    ts = events["ts"].cast(pa.int64()).to_numpy()
    assert len(set(ids)) == len(ids)
    assert (np.diff(ts) >= 0).all()
    ties = np.flatnonzero(np.diff(ts) == 0)
    assert all(ids[k] < ids[k + 1] for k in ties)
    start = dt.datetime.fromisoformat(truth["start"])
    assert events["ts"][0].as_py() >= start
    assert events["ts"][-1].as_py() < start + dt.timedelta(days=truth["days"])


def test_truth_is_json(big: tuple[pa.Table, dict[str, Any]]) -> None:
    _, truth = big
    text = json.dumps(truth, allow_nan=False)
    assert json.loads(text) == truth


def test_properties_are_canonical_json(big: tuple[pa.Table, dict[str, Any]]) -> None:
    events, _ = big
    for text in pc.unique(events["properties"]).to_pylist()[:5000]:
        assert json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")) == text


# -- identities ------------------------------------------------------------------------------


def test_every_event_has_exactly_one_planted_person(frame: dict[str, Any]) -> None:
    # the fixture already asserts that no event names two planted persons
    assert (frame["holders"] >= 1).all()
    assert (frame["person"] >= 0).all()


def test_call_types_carry_the_specified_identifiers(big: tuple[pa.Table, dict[str, Any]]) -> None:
    events, _ = big
    t = events.to_pandas()
    email = t[t.channel == "email"]
    assert email.user_id.notna().all()
    assert email.anonymous_id.isna().all()
    assert email.loyalty_card.isna().all()
    store = t[t.channel == "store"]
    assert store.loyalty_card.notna().all()
    assert store.user_id.isna().all()
    assert store.anonymous_id.isna().all()
    identify = t[t.type == "identify"]
    assert (identify.event == "Identify").all()
    assert identify[["anonymous_id", "user_id", "email"]].notna().all().all()
    assert identify.properties.str.contains('"segment"').all()
    alias = t[t.type == "alias"]
    assert len(alias) > 0
    assert alias[["previous_id", "user_id"]].notna().all().all()
    assert t.previous_id[t.type != "alias"].isna().all()
    assert t.email[t.type != "identify"].isna().all()
    web_app = t[t.channel.isin(["web", "app"]) & (t.type != "alias")]
    assert web_app.anonymous_id.notna().all()
    orders = t[t.event == "Order Completed"]
    assert orders.revenue.notna().all()
    assert (orders.revenue > 0).all()
    assert (orders.currency == "SEK").all()
    assert t.revenue[t.event != "Order Completed"].isna().all()


def test_device_events_after_sign_in_carry_the_user(big: tuple[pa.Table, dict[str, Any]]) -> None:
    events, _ = big
    t = events.select(["ts", "anonymous_id", "user_id"]).to_pandas()
    t = t[t.anonymous_id.notna()]
    signed = t[t.user_id.notna()].groupby("anonymous_id").ts.min()
    after = t.ts > t.anonymous_id.map(signed)
    assert t.user_id[after].notna().all()


def test_identity_truth_matches_the_data(big: tuple[pa.Table, dict[str, Any]]) -> None:
    events, truth = big
    anon = set(pc.unique(events["anonymous_id"]).drop_null().to_pylist())
    anon |= set(pc.unique(events["previous_id"]).drop_null().to_pylist())
    assert anon == set(truth["person_of_anonymous_id"])
    users = set(pc.unique(events["user_id"]).drop_null().to_pylist())
    assert users == set(truth["person_of_user_id"])
    cards = set(pc.unique(events["loyalty_card"]).drop_null().to_pylist())
    assert cards == set(truth["person_of_loyalty_card"])
    with_user = events.filter(pc.is_valid(events["user_id"]))
    linked = set(with_user["anonymous_id"].drop_null().to_pylist())
    linked |= set(with_user["previous_id"].drop_null().to_pylist())
    assert linked == set(truth["identifiable_anonymous_ids"])
    # some devices stay anonymous, most are identifiable; some cards are never linked online
    assert 0.3 < len(linked) / len(anon) < 0.95
    assert 0 < len(truth["identifiable_loyalty_cards"]) < len(cards)
    persons_with_devices = {truth["person_of_anonymous_id"][a] for a in anon}
    assert len(anon) > 1.4 * len(persons_with_devices)  # multi-device persons


# -- planted truth is recovered --------------------------------------------------------------


def test_funnel_step_probabilities_are_recovered(
    big: tuple[pa.Table, dict[str, Any]], frame: dict[str, Any]
) -> None:
    _, truth = big
    n = PERSONS
    first_last = [_first_last(frame, frame["event"] == step, n) for step in STEPS]
    planted = truth["funnel"]["step_probabilities"]
    names = frame["persona_names"]
    report = []
    for k in (1, 2, 3):
        reached_prev = first_last[k - 1][1] >= 0
        later = first_last[k][1] >= first_last[k - 1][0]
        for j, name in enumerate(names):
            mine = reached_prev & (frame["persona"] == j)
            size = int(mine.sum())
            assert size > 100
            observed = float(later[mine].mean())
            report.append((STEPS[k], name, observed, planted[name][k], size))
            assert _within(observed, planted[name][k], size), report[-1]
        overall = float(later[reached_prev].mean())
        assert _within(overall, planted["overall"][k], int(reached_prev.sum()))


def test_reminder_lift_is_recovered(
    big: tuple[pa.Table, dict[str, Any]], frame: dict[str, Any]
) -> None:
    _, truth = big
    n = PERSONS
    hour = 3_600_000_000
    added, _ = _first_last(frame, frame["event"] == "Product Added", n)
    is_order = frame["event"] == "Order Completed"
    has_added = added < np.iinfo(np.int64).max
    order_p, order_t = frame["person"][is_order], frame["ts"][is_order]
    rel = order_t - added[order_p]
    quick = np.zeros(n, dtype=bool)
    quick[order_p[(rel >= 0) & (rel <= hour)]] = True
    bought_later = np.zeros(n, dtype=bool)
    bought_later[order_p[rel > hour]] = True
    reminder = (frame["event"] == "Email Sent") & (frame["campaign"] == "cart_reminder")
    reminded = np.zeros(n, dtype=bool)
    reminded[frame["person"][reminder]] = True
    abandoned = has_added & ~quick
    assert not (reminded & ~abandoned).any()  # only abandoners get the reminder
    share = reminded[abandoned].mean()
    assert _within(float(share), 0.5, int(abandoned.sum()))
    rem, norem = abandoned & reminded, abandoned & ~reminded
    p_rem, p_norem = bought_later[rem].mean(), bought_later[norem].mean()
    planted = truth["reminder_email"]
    assert _within(float(p_rem), planted["p_purchase_reminded"], int(rem.sum()))
    assert _within(float(p_norem), planted["p_purchase_not_reminded"], int(norem.sum()))
    se = math.sqrt(p_rem * (1 - p_rem) / rem.sum() + p_norem * (1 - p_norem) / norem.sum())
    assert abs((p_rem - p_norem) - planted["lift"]) <= 3 * se
    assert planted["lift"] > 0.1


def test_reminder_comes_1_to_24_hours_after_the_abandoned_cart(frame: dict[str, Any]) -> None:
    n = PERSONS
    cart = np.isin(frame["event"], ["Product Added", "Checkout Started"])
    first_added, _ = _first_last(frame, frame["event"] == "Product Added", n)
    reminder = (frame["event"] == "Email Sent") & (frame["campaign"] == "cart_reminder")
    who, when = frame["person"][reminder], frame["ts"][reminder]
    assert len(np.unique(who)) == len(who)  # one reminder per abandoned first cart
    hours = (when - first_added[who]) / 3.6e9
    assert hours.min() >= 1.0
    assert hours.max() <= 24.0
    # the cart session was over at least an hour before the reminder
    sent = np.full(n, np.iinfo(np.int64).max)
    sent[who] = when
    cart_p, cart_t = frame["person"][cart], frame["ts"][cart]
    assert not ((cart_t < sent[cart_p]) & (cart_t > sent[cart_p] - 3_600_000_000)).any()


def test_channel_effects_are_recovered_and_ranked(
    big: tuple[pa.Table, dict[str, Any]], frame: dict[str, Any]
) -> None:
    """Noisy-OR fit by weighted least squares on log P(no entry) per exposure pattern."""
    _, truth = big
    n = PERSONS
    entry, _ = _first_last(frame, frame["event"] == "Product Viewed", n)
    entered = entry < np.iinfo(np.int64).max
    before = frame["ts"] < entry[frame["person"]]
    exposure = np.zeros((n, len(MARKETING)), dtype=bool)
    for c, channel in enumerate(MARKETING):
        hit = before & (frame["channel"] == channel)
        exposure[frame["person"][hit], c] = True
    patterns, inverse, counts = np.unique(exposure, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    rate = np.bincount(inverse, weights=entered, minlength=len(patterns)) / counts
    keep = (counts >= 30) & (rate > 0) & (rate < 1)
    q = 1 - rate[keep]
    x = np.column_stack([np.ones(keep.sum()), patterns[keep].astype(float)])
    w = counts[keep] * q / (1 - q)
    beta = np.linalg.lstsq(x * np.sqrt(w)[:, None], np.log(q) * np.sqrt(w), rcond=None)[0]
    estimated = dict(zip(MARKETING, (1 - np.exp(beta[1:])).tolist(), strict=True))
    planted = truth["channel_effects"]
    base = 1 - math.exp(beta[0])
    assert abs(base - truth["channel_effects_model"]["base"]) < 0.03
    for channel in MARKETING:
        assert abs(estimated[channel] - planted[channel]) < 0.04, (channel, estimated)
    ranked = sorted(MARKETING[:-1], key=lambda c: -estimated[c])
    assert ranked[:5] == sorted(MARKETING[:-1], key=lambda c: -planted[c])[:5]


def test_closing_touch_is_last_before_entry_but_has_no_effect(
    big: tuple[pa.Table, dict[str, Any]], frame: dict[str, Any]
) -> None:
    _, truth = big
    viewed = frame["event"] == "Product Viewed"
    entry, _ = _first_last(frame, viewed, PERSONS)
    touch = np.isin(frame["type"], ["track", "page", "screen"]) & ~viewed
    before = touch & (frame["ts"] < entry[frame["person"]])
    # the last touch before entry: the latest such event per person
    order = np.lexsort((frame["ts"][before], frame["person"][before]))
    persons = frame["person"][before][order]
    last = np.r_[persons[1:] != persons[:-1], True]
    last_channel = frame["channel"][before][order][last]
    closing = np.isin(last_channel, truth["closing_channels"]).mean()
    assert closing > 0.5  # last-touch would credit web/app for most entries
    assert all(truth["channel_effects"][c] == 0.0 for c in truth["closing_channels"])


def test_ropo_truth_matches_a_recount(
    big: tuple[pa.Table, dict[str, Any]], frame: dict[str, Any]
) -> None:
    _, truth = big
    day = 86_400_000_000
    store_order = (frame["event"] == "Order Completed") & (frame["channel"] == "store")
    views = frame["event"] == "Product Viewed"
    view_times: dict[int, list[int]] = {}
    for p, t in zip(frame["person"][views].tolist(), frame["ts"][views].tolist(), strict=True):
        view_times.setdefault(p, []).append(t)
    researched = 0
    for p, t in zip(
        frame["person"][store_order].tolist(), frame["ts"][store_order].tolist(), strict=True
    ):
        researched += any(0 <= t - v <= 30 * day for v in view_times.get(p, []))
    ropo = truth["ropo"]
    assert ropo["store_purchases"] == int(store_order.sum()) > 0
    assert ropo["store_purchases_with_online_research"] == researched
    assert 0.3 < ropo["share"] < 1.0


def test_personas_differ_as_described(big: tuple[pa.Table, dict[str, Any]]) -> None:
    _, truth = big
    length = truth["journey_length"]
    assert length["wheel_kicker"]["median_seconds"] > 5 * length["impulse"]["median_seconds"]
    assert length["wheel_kicker"]["median_touches"] > 2 * length["impulse"]["median_touches"]
    nps = truth["surveys"]
    assert (
        nps["loyal"]["nps_score"] > nps["impulse"]["nps_score"] > nps["trial_churner"]["nps_score"]
    )


def test_trial_users_mostly_churn(
    big: tuple[pa.Table, dict[str, Any]], frame: dict[str, Any]
) -> None:
    _, truth = big
    started = np.unique(frame["person"][frame["event"] == "Trial Started"])
    subscribed = np.unique(frame["person"][frame["event"] == "Subscription Started"])
    assert len(started) > 1000
    assert set(subscribed) <= set(started)
    share = len(subscribed) / len(started)
    assert _within(share, truth["trial"]["subscription_probability"], len(started))
    # feature use decays: more Feature Used events in trial week 1 than in week 2
    use = frame["event"] == "Feature Used"
    first, _ = _first_last(frame, frame["event"] == "Trial Started", PERSONS)
    age = (frame["ts"][use] - first[frame["person"][use]]) / 86_400_000_000
    assert (age < 7).sum() > 2 * ((age >= 7) & (age < 14)).sum()
