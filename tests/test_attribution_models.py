"""Attribution models on constructed journeys: published numbers, hand-computed chains,
identities and properties (no engine needed)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kundresa._errors import InvalidOptionError
from kundresa.attribution import Journeys, attribute, markov, rule_credits, shapley, shapley_game
from kundresa.attribution._rules import RULE_MODELS

# -- Shapley -------------------------------------------------------------------------------


def _three_channel_example() -> Journeys:
    """Shares of conversions by channel set F 0.20, O 0.10, L 0.17, F+O 0.17, F+L 0.30,
    O+L 0, F+L+O 0.06 (100 converting journeys)."""
    sets = {("F",): 20, ("O",): 10, ("L",): 17, ("F", "O"): 17, ("F", "L"): 30, ("F", "L", "O"): 6}
    paths = [list(s) for s, n in sets.items() for _ in range(n)]
    return Journeys.from_paths(paths, conversions=[1] * len(paths))


def test_shapley_classic_three_channel_example() -> None:
    """The classic example of Shapley attribution with the coalition value "conversions of
    journeys whose channel set lies inside the coalition" (worth F .20, O .10, L .17,
    F+O .47, F+L .67, O+L .27, F+L+O 1.0) gives F 0.455, O 0.205, L 0.34.

    Source: "Data-driven marketing attribution", Towards Data Science,
    https://towardsdatascience.com/data-driven-marketing-attribution-1a28d2e613a0 (notebook
    github.com/tomgorb/misc, "Data Driven Attribution using Shapley value"); the coalition
    value is the "simplified" one of Zhao, Mahboobi, Bagheri (2018), arXiv:1804.05327.
    """
    j = _three_channel_example()
    sv = shapley(j, coalition="conversions")
    got = dict(zip(j.channels, (sv.credits / 100).round(3).tolist(), strict=True))
    assert got == {"F": 0.455, "L": 0.34, "O": 0.205}
    assert "exact enumeration" in sv.method


def test_shapley_conversions_game_equals_equal_split_over_distinct_channels() -> None:
    """v(S) = sum of unanimity games, so Shapley = each journey's conversions split equally
    among its distinct channels; checked on random data with repeats and values."""
    rng = np.random.default_rng(3)
    names = [f"c{i}" for i in range(7)]
    paths = [list(rng.choice(names, size=rng.integers(1, 6))) for _ in range(400)]
    conv = rng.integers(0, 2, size=400).astype(float)
    value = conv * rng.uniform(10, 100, size=400)
    j = Journeys.from_paths(paths, conversions=conv, value=value)
    for weight in (conv, value):
        expected: dict[str, float] = dict.fromkeys(j.channels, 0.0)
        for p, w in zip(paths, weight, strict=True):
            for c in set(p):
                expected[c] += w / len(set(p))
        got = shapley(j, coalition="conversions", weight=weight).credits
        np.testing.assert_allclose(got, [expected[c] for c in j.channels], rtol=1e-9)
        # the ordered variant sums back to the same credits
        ordered = shapley(j, coalition="conversions", weight=weight).ordered
        np.testing.assert_allclose(ordered.sum(axis=1), got, rtol=1e-9)


def test_shapley_game_matches_permutation_definition() -> None:
    """Exact Shapley of an arbitrary 4-player game against the average over all 24 orders."""
    import itertools

    rng = np.random.default_rng(5)
    v = rng.uniform(0, 1, size=16)
    v[0] = 0.0
    expected = np.zeros(4)
    perms = list(itertools.permutations(range(4)))
    for perm in perms:
        mask = 0
        for p in perm:
            expected[p] += v[mask | 1 << p] - v[mask]
            mask |= 1 << p
    np.testing.assert_allclose(shapley_game(v, 4), expected / len(perms))


def test_shapley_rate_uses_non_converting_journeys() -> None:
    # "w" is in every converting journey but converts no better with it: no credit
    paths = [["a", "w"]] * 10 + [["a"]] * 10 + [["w"]] * 10
    conv = [1] * 5 + [0] * 5 + [1] * 5 + [0] * 5 + [0] * 10
    j = Journeys.from_paths(paths, conversions=conv)
    rate = dict(zip(j.channels, shapley(j, coalition="rate").credits.tolist(), strict=True))
    assert rate == pytest.approx({"a": 10.0, "w": 0.0})
    assert sum(shapley(j, coalition="conversions").credits) == pytest.approx(10.0)


# -- Markov ----------------------------------------------------------------------------------


def test_markov_two_channel_chain_by_hand() -> None:
    """a>b converts, b does not. start->a 1/2, start->b 1/2, a->b 1, b->conv 1/2:
    P = 1/2; without a: 1/4 (RE 1/2); without b: 0 (RE 1); credits 1/3, 2/3."""
    m = markov(Journeys.from_paths([["a", "b"], ["b"]], conversions=[1, 0]))
    assert m.p_conversion == pytest.approx(0.5)
    assert m.removal_effects.tolist() == pytest.approx([0.5, 1.0])
    assert m.credits.tolist() == pytest.approx([1 / 3, 2 / 3])


def test_markov_three_channel_chain_by_hand() -> None:
    """Paths A>B>C (conv), A>C (null), B (conv). Transitions: start A 2/3, B 1/3; A: B 1/2,
    C 1/2; B: C 1/2, conv 1/2; C: conv 1/2, null 1/2. x_C = 1/2, x_B = 3/4, x_A = 5/8,
    P = 2/3. Without A: 1/4 -> RE 5/8; without B: 1/6 -> RE 3/4; without C: 1/3 -> RE 1/2.
    Two conversions split 5:6:4."""
    j = Journeys.from_paths([["A", "B", "C"], ["A", "C"], ["B"]], conversions=[1, 0, 1])
    m = markov(j)
    assert m.p_conversion == pytest.approx(2 / 3)
    re = [Fraction(5, 8), Fraction(3, 4), Fraction(1, 2)]
    assert m.removal_effects.tolist() == pytest.approx([float(x) for x in re])
    total = sum(re)
    assert m.credits.tolist() == pytest.approx([float(2 * x / total) for x in re])


def test_markov_order_two_differs_from_order_one() -> None:
    """a>c converts, b>c does not. Order 1 cannot tell the c's apart (RE a = b = 1/2);
    order 2 sees (a,c) -> conversion and (b,c) -> null (RE a 1, b 0, c 1)."""
    j = Journeys.from_paths([["a", "c"], ["b", "c"]], conversions=[1, 0])
    m1, m2 = markov(j, order=1), markov(j, order=2)
    assert m1.removal_effects.tolist() == pytest.approx([0.5, 0.5, 1.0])
    assert m1.credits.tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert m2.removal_effects.tolist() == pytest.approx([1.0, 0.0, 1.0])
    assert m2.credits.tolist() == pytest.approx([0.5, 0.0, 0.5])
    assert (m1.states, m2.states) == (3, 4)


def test_markov_merges_repeats_and_values() -> None:
    j = Journeys.from_paths([["a", "a", "b"], ["b"]], conversions=[1, 0], value=[40.0, 0.0])
    assert j.paths() == [("a", "b"), ("b",)]
    m = markov(j)
    assert m.value_credits.sum() == pytest.approx(40.0)
    assert m.value_credits.tolist() == pytest.approx([40 / 3, 80 / 3])


_paths = st.lists(
    st.tuples(st.lists(st.sampled_from("abcd"), min_size=1, max_size=5), st.integers(0, 1)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_paths, st.integers(1, 3))
def test_markov_properties(data: list[tuple[list[str], int]], order: int) -> None:
    """Credits sum to conversions; 0 <= RE <= 1; renaming channels permutes the credits;
    doubling every journey changes nothing; a channel only in non-converting journeys that
    is never followed by anything gets RE 0."""
    paths = [p for p, _ in data]
    conv = [c for _, c in data]
    j = Journeys.from_paths(paths, conversions=conv)
    m = markov(j, order)
    if sum(conv) == 0:
        assert m.credits.sum() == 0
        return
    assert m.credits.sum() == pytest.approx(sum(conv))
    assert np.all(m.removal_effects >= -1e-12)
    assert np.all(m.removal_effects <= 1 + 1e-12)
    rename = {"a": "z", "b": "y", "c": "x", "d": "w"}
    jr = Journeys.from_paths([[rename[c] for c in p] for p in paths], conversions=conv)
    mr = markov(jr, order)
    by_name = dict(zip(j.channels, m.credits, strict=True))
    by_new = dict(zip(jr.channels, mr.credits, strict=True))
    for c, v in by_name.items():
        assert by_new[rename[c]] == pytest.approx(v, abs=1e-9)
    m2 = markov(Journeys.from_paths(paths * 2, conversions=conv * 2), order)
    assert m2.removal_effects == pytest.approx(m.removal_effects)
    jn = Journeys.from_paths([*paths, ["q"]], conversions=[*conv, 0])
    assert markov(jn, order).removal_effects[jn.channels.index("q")] == pytest.approx(0.0)


def test_markov_rejects_bad_order() -> None:
    j = Journeys.from_paths([["a"]], conversions=[1])
    with pytest.raises(InvalidOptionError, match="order"):
        markov(j, 0)


# -- rule models ---------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.lists(
                st.tuples(st.sampled_from(["a", "b", "direct", "d"]), st.floats(0, 1e7)),
                min_size=0,
                max_size=6,
            ),
            st.integers(0, 1),
            st.floats(0, 500),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_rule_models_credits_sum_to_conversions(
    data: list[tuple[list[tuple[str, float]], int, float]],
) -> None:
    paths = [[c for c, _ in p] for p, _, _ in data]
    secs = [sorted((s for _, s in p), reverse=True) for p, _, _ in data]
    conv = [c for _, c, _ in data]
    value = [v * c for _, c, v in data]
    j = Journeys.from_paths(paths, conversions=conv, value=value, seconds_before=secs)
    has = j.lengths > 0
    attributable = float(j.conversions[has].sum())
    for model in RULE_MODELS:
        credits = rule_credits(j, model, direct_channels=("direct",))
        if model == "participation":
            distinct = sum(len(set(p)) * c for p, c in zip(paths, conv, strict=True))
            assert credits.sum() == pytest.approx(distinct)
        else:
            assert credits.sum() == pytest.approx(attributable), model
            assert np.all(credits >= -1e-12)
            vcred = rule_credits(j, model, weight=j.value)
            assert vcred.sum() == pytest.approx(float(j.value[has].sum()), rel=1e-9, abs=1e-6)
    r = attribute(j, model="all")
    for m in r.models:
        if m not in ("participation",):
            assert sum(r.credits[m].values()) == pytest.approx(attributable, abs=1e-9), m


def test_rule_models_by_hand() -> None:
    day = 86400.0
    j = Journeys.from_paths(
        [["a", "b", "c", "direct"]],
        conversions=[1],
        seconds_before=[[21 * day, 14 * day, 7 * day, 0]],
    )

    def credit(model: str, **kw: object) -> list[float]:
        return [round(x, 4) for x in rule_credits(j, model, **kw).tolist()]  # type: ignore[arg-type]

    # channels sorted: a, b, c, direct
    assert credit("first") == [1, 0, 0, 0]
    assert credit("last") == [0, 0, 0, 1]
    assert credit("last_non_direct") == [0, 0, 1, 0]
    assert credit("linear") == [0.25] * 4
    assert credit("position") == [0.4, 0.1, 0.1, 0.4]
    assert credit("j_shaped") == [0.2, 0.1, 0.1, 0.6]
    assert credit("inverse_j") == [0.6, 0.1, 0.1, 0.2]
    assert credit("custom", custom=(0.5, 0.1)) == [0.5, 0.2, 0.2, 0.1]
    assert credit("time_decay") == [round(w / 15, 4) for w in (1, 2, 4, 8)]
    assert credit("participation") == [1, 1, 1, 1]


def test_exclusion_and_errors() -> None:
    j = Journeys.from_paths([["web"], ["search", "web"]], conversions=[1, 1])
    r = attribute(j, model="last", exclude_channels=["web"])
    assert r.credits["last"] == {"search": 1.0}
    assert r.unattributed == 1.0
    with pytest.raises(InvalidOptionError, match="model"):
        attribute(j, model="magic")
    with pytest.raises(InvalidOptionError, match="coalition"):
        attribute(j, model="shapley", coalition="nope")
    with pytest.raises(InvalidOptionError, match="custom"):
        rule_credits(j, "custom", custom=(0.8, 0.8))


def test_result_surfaces() -> None:
    j = _three_channel_example()
    r = attribute(j, model=["last", "markov", "shapley", "shapley_ordered"])
    frame = r.to_frame()
    assert list(frame.columns) == ["channel", "last", "markov", "shapley", "shapley_ordered"]
    d = r.to_dict()
    assert d["credits"]["shapley_ordered"]["F"] == pytest.approx(45.5)
    assert sum(r.ordered["F"]) == pytest.approx(45.5)
    assert "F" in str(r)
    fig = r.plot()
    assert len(fig.data) == 4
    with pytest.raises(AttributeError):
        r.conversions = 3  # type: ignore[misc]
