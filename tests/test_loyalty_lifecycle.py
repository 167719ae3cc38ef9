"""Lifecycle and stickiness on both engines: the vendors' vectors, a pure-Python reference on
random small logs (hypothesis, derandomised, and one seeded log on DuckDB and Spark), the
breakdowns and the one-line errors.

Sources of the rules quoted in the tests:
- PostHog, lifecycle insight: https://posthog.com/docs/product-analytics/lifecycle ("new:
  first time the person is seen (created) in the period; returning: active in the previous
  period too; resurrecting: inactive in the previous period; dormant: active in the previous
  period but not in this one", shown below zero), and its usage-metric definitions
  https://raw.githubusercontent.com/PostHog/posthog/master/products/data_modeling/skills/modeling-product-usage-metrics/SKILL.md
  ("Lifecycle ... per interval: new / returning / resurrecting / dormant").
- PostHog, stickiness insight: https://posthog.com/docs/product-analytics/stickiness
  ("distribution: users by # of active intervals").
- Amplitude, lifecycle chart:
  https://amplitude.com/docs/analytics/charts/lifecycle/lifecycle-interpret ("a current user
  ... logged the specified event in the current interval and also in the previous usage
  interval"; "a dormant user is one who didn't log the event ... but who had logged the
  specified event during the previous time period"; "The Pulse chart shows the ratio of
  incoming (new and resurrected) users to outgoing (dormant) users"), and
  https://help.amplitude.com/hc/en-us/articles/228838627-Lifecycle (user definitions).
- Amplitude, stickiness:
  https://amplitude.com/docs/analytics/charts/stickiness/stickiness-interpret ("non-cumulative
  ... the percentage of users who triggered the event ... on the exact number of days";
  "cumulative ... on at least the number of days"; "a user can appear in more than one
  bucket ... for each week (or month) in the time frame").
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kundresa import InvalidOptionError, NotFoundError, Workspace
from kundresa.loyalty import LifecycleResult, lifecycle, stickiness
from tests import lifecycle_reference as ref

T0 = dt.datetime(2026, 1, 5, 12)  # a Monday
Event = tuple[str, dt.datetime, str, str]


def _write(
    events: Sequence[Event], folder: Path, extra: dict[str, list[Any]] | None = None
) -> Path:
    rows = []
    for k, (user, ts, kind, name) in enumerate(events):
        row = {"event_id": f"e{k:05d}", "ts": ts, "type": kind, "user_id": user,
               "event": name if kind != "identify" else None}  # fmt: skip
        for key, values in (extra or {}).items():
            row[key] = values[k]
        rows.append(row)
    path = folder / "events.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _load(
    make: Callable[..., Workspace], tmp_path: Path, events: Sequence[Event], **kw: Any
) -> Workspace:
    ws = make("lc")
    report = ws.ingest([_write(events, tmp_path, **kw)])
    assert report.quarantined == 0
    return ws


def _statuses(r: LifecycleResult) -> list[list[str]]:
    """Per period, the statuses with a person in them."""
    return [[s for s in r.statuses if row[s]] for row in r.rows]


def _counts(r: LifecycleResult) -> dict[tuple[str, str], int]:
    return {(row["period"], s): abs(row[s]) for row in r.rows for s in r.statuses if row[s]}


def _day(d: int, hour: int = 12) -> dt.datetime:
    return T0 + dt.timedelta(days=d, hours=hour - 12)


# -- the vendors' vectors --------------------------------------------------------------------


def test_vector_active_days_0_1_3(make_workspace: Callable[..., Workspace], tmp_path: Path) -> None:
    """Created day 0, active on days {0, 1, 3}: day 0 new, day 1 returning, day 2 dormant,
    day 3 resurrecting, day 4 dormant (PostHog lifecycle insight,
    https://posthog.com/docs/product-analytics/lifecycle: new in the creation period,
    returning after an active period, resurrecting after an inactive one, dormant in the
    period after the last activity, counted below zero). Amplitude
    (https://amplitude.com/docs/analytics/charts/lifecycle/lifecycle-interpret): new,
    current, dormant, resurrected ("active before the previous interval"), dormant."""
    events = [("u1", _day(d), "track", "Page Viewed") for d in (0, 1, 3)]
    ws = _load(make_workspace, tmp_path, events)
    posthog = lifecycle(ws, period="day", date_to=(T0 + dt.timedelta(days=4)).date())
    assert _statuses(posthog) == [
        ["new"],
        ["returning"],
        ["dormant"],
        ["resurrecting"],
        ["dormant"],
    ]
    assert [row["dormant"] for row in posthog.rows] == [0, 0, -1, 0, -1]  # counted negative
    assert [row["period"] for row in posthog.rows] == [f"2026-01-0{5 + d}" for d in range(5)]
    amplitude = lifecycle(ws, period="day", mode="amplitude", date_to="2026-01-09")
    assert _statuses(amplitude) == [["new"], ["current"], ["dormant"], ["resurrected"], ["dormant"]]
    # pulse = (new + resurrected) / |dormant|, Amplitude's Pulse view; None without dormant
    assert amplitude.pulse() == (None, None, 0.0, None, 0.0)
    assert ws.engine in ("duckdb", "spark")
    assert posthog.engine == ws.engine
    # without date_to, the periods run from the first to the last active one
    assert len(lifecycle(ws, period="day").rows) == 4
    # bounds beyond the data are clamped to it (the last dormant period included)
    assert len(lifecycle(ws, period="day", date_from="1900-01-01", date_to="2100-01-01").rows) == 5


def test_vector_created_before_first_activity(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """A person created in period t-1 (an identify call on Monday of week 1) whose first
    event (touchpoint) is in t (week 2) is resurrecting in PostHog mode (not the creation
    period, not active in t-1) and new in Amplitude mode ("resurrected must have been active
    before the previous interval, otherwise new",
    https://help.amplitude.com/hc/en-us/articles/228838627-Lifecycle)."""
    events = [
        ("u1", _day(0), "identify", ""),
        ("u1", _day(8), "track", "Order Completed"),
        ("u2", _day(1), "track", "Order Completed"),  # a plain new person in week 1
    ]
    ws = _load(make_workspace, tmp_path, events)
    posthog = lifecycle(ws, period="week")
    assert [row["period"] for row in posthog.rows] == ["2026-01-05", "2026-01-12"]
    assert _statuses(posthog) == [["new"], ["resurrecting", "dormant"]]
    amplitude = lifecycle(ws, period="week", mode="amplitude")
    assert _statuses(amplitude) == [["new"], ["new", "dormant"]]
    # created at the first activity instead, both vendors call it new
    assert _statuses(lifecycle(ws, created="first_activity")) == [["new"], ["new", "dormant"]]
    # first identify: u1 identified in week 1; u2 never identified falls back to its first event
    assert _statuses(lifecycle(ws, created="first_identify"))[1] == ["resurrecting", "dormant"]


# -- against the reference -------------------------------------------------------------------


def _random_log(rng: random.Random, persons: int, days: int) -> list[Event]:
    """Tie-heavy: whole hours, several events a day, identify calls before activity."""
    events: list[Event] = []
    for u in range(persons):
        user = f"u{u}"
        if rng.random() < 0.3:
            events.append((user, _day(rng.randrange(days), rng.choice((0, 9))), "identify", ""))
        for _ in range(rng.randrange(1, 8)):
            name = rng.choice(("Page Viewed", "Order Completed"))
            events.append(
                (user, _day(rng.randrange(days), rng.choice((9, 9, 13, 23))), "track", name)
            )
    return events


def _check(
    ws: Workspace, events: list[Event], period: str, mode: str, created: str, event: str
) -> None:
    got = _counts(
        lifecycle(ws, event, period=period, mode=mode, created=created, date_to="2030-01-01")
    )
    want = ref.lifecycle(events, period, mode, created, event)
    assert got == want, (period, mode, created, event)


def _check_stickiness(ws: Workspace, events: list[Event], period: str, event: str) -> None:
    r = stickiness(ws, event, period=period)
    got = {
        (row["period"], row["days_active"]): row["persons"] for row in r.by_period if row["persons"]
    }
    assert got == ref.stickiness(events, period, event)


RULES = (
    ("posthog", "first_event"),
    ("posthog", "first_identify"),
    ("posthog", "first_activity"),
    ("amplitude", "first_event"),
)


def test_reference_on_both_engines(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """One seeded tie-heavy log of 40 persons over 75 days: every period, mode, creation rule
    and activity event equals the pure-Python reference, on DuckDB and on Spark."""
    events = _random_log(random.Random(16), 40, 75)
    ws = _load(make_workspace, tmp_path, events)
    for period in ("day", "week", "month"):
        for mode, created in RULES:
            _check(ws, events, period, mode, created, "any")
    _check(ws, events, "week", "posthog", "first_event", "Order Completed")
    _check(ws, events, "week", "amplitude", "first_event", "Order Completed")
    for period in ("week", "month"):
        _check_stickiness(ws, events, period, "any")
    _check_stickiness(ws, events, "week", "Order Completed")


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**20),
    persons=st.integers(1, 12),
    days=st.integers(1, 70),
    period=st.sampled_from(("day", "week", "month")),
    mode=st.sampled_from(("posthog", "amplitude")),
    created=st.sampled_from(("first_event", "first_identify", "first_activity")),
)
def test_property_engine_equals_reference(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int, persons: int, days: int, period: str, mode: str, created: str,
) -> None:  # fmt: skip
    """DuckDB against the reference on random small logs (hypothesis, derandomised)."""
    events = _random_log(random.Random(seed), persons, days)
    folder = tmp_path_factory.mktemp("lc")
    with Workspace.open(folder / "w.duckdb") as ws:
        ws.ingest([_write(events, folder)])
        _check(ws, events, period, mode, created, "any")
        if period != "day":
            _check_stickiness(ws, events, period, "any")
        r = lifecycle(ws, period=period, mode=mode, created=created)
        for row in r.rows:  # the invariants of every row
            assert row["dormant"] <= 0
            assert row["active"] == sum(row[s] for s in r.statuses[:3])
            incoming = row[r.statuses[0]] + row[r.statuses[2]]
            want = None if not row["dormant"] else round(incoming / -row["dormant"], 6)
            assert row["pulse"] == want


# -- stickiness --------------------------------------------------------------------------------


def test_stickiness_modes(make_workspace: Callable[..., Workspace], tmp_path: Path) -> None:
    """Week of 2026-01-05: a on 3 days (twice on Monday), b on 1, c on 7; week 2: a on 1.
    PostHog (https://posthog.com/docs/product-analytics/stickiness): persons active on
    exactly k days; Amplitude
    (https://amplitude.com/docs/analytics/charts/stickiness/stickiness-interpret): the share of
    active users on exactly k days, or "at least" with cumulative; a user counts in each
    week they were active."""
    days = {"a": (0, 0, 2, 4, 7), "b": (3,), "c": tuple(range(7))}
    events = [(u, _day(d, 9 + i), "track", "Page Viewed") for u, ds in days.items()
              for i, d in enumerate(ds)]  # fmt: skip
    ws = _load(make_workspace, tmp_path, events)
    posthog = stickiness(ws)
    assert posthog.max_days_active == 7
    assert len(posthog.rows) == 7
    assert [r["value"] for r in posthog.rows] == [2, 0, 1, 0, 0, 0, 1]  # 4 person-weeks
    assert [r["value"] for r in stickiness(ws, cumulative=True).rows] == [4, 2, 2, 1, 1, 1, 1]
    amp = stickiness(ws, mode="amplitude")
    assert [r["value"] for r in amp.rows] == [0.5, 0, 0.25, 0, 0, 0, 0.25]
    amp_cum = stickiness(ws, mode="amplitude", cumulative=True)
    assert [r["value"] for r in amp_cum.rows] == [1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
    first = [r for r in posthog.by_period if r["period"] == "2026-01-05"]
    assert [r["persons"] for r in first] == [1, 0, 1, 0, 0, 0, 1]
    # date_from bounds the periods: only week 2
    assert [r["persons"] for r in stickiness(ws, date_from="2026-01-12").rows][:2] == [1, 0]
    month = stickiness(ws, period="month")
    assert month.max_days_active == 31
    # January: a on 4 distinct days, b on 1, c on 7
    assert [r["persons"] for r in month.rows if r["persons"]] == [1, 1, 1]
    assert [r["days_active"] for r in month.rows if r["persons"]] == [1, 4, 7]


# -- breakdowns ----------------------------------------------------------------------------------


def test_breakdown_by_column_and_property(
    make_workspace: Callable[..., Workspace], tmp_path: Path
) -> None:
    """``by`` takes the value on the person's first activity event: a column or
    properties.KEY; the groups add up to the totals."""
    events = [
        (u, _day(d), "track", "Page Viewed") for u, d in (("a", 0), ("a", 8), ("b", 1), ("c", 9))
    ]
    extra = {
        "channel": ["web", "email", "app", "web"],
        "properties": ['{"plan": "pro"}', '{"plan": "free"}', '{"plan":"free", "n": 2}', None],
    }
    ws = _load(make_workspace, tmp_path, events, extra=extra)
    r = lifecycle(ws, by="channel")
    assert r.groups == ("app", "web")
    web = [row for row in r.by_group if row["group"] == "web"]
    assert [(row["new"], row["returning"], row["dormant"]) for row in web] == [(1, 0, 0), (1, 1, 0)]
    for i, total in enumerate(r.rows):  # groups add up
        rows = [row for row in r.by_group if row["period"] == total["period"]]
        assert sum(row["new"] for row in rows) == total["new"]
        assert len(rows) == 2
        assert i < 2
    p = lifecycle(ws, by="properties.plan")
    assert p.groups == ("(none)", "free", "pro")
    s = stickiness(ws, by="properties.plan")
    assert {row["group"] for row in s.by_group} == {"(none)", "free", "pro"}


def test_breakdown_by_persona(make_workspace: Callable[..., Workspace], tmp_path: Path) -> None:
    """With a journey map, the groups are its personas (the map's persona rules)."""
    from kundresa.maps import new_map

    jm = new_map("shop")
    rule = jm.personas[0].select
    assert rule is not None
    events = [("a", _day(0), "track", "Page Viewed"), ("b", _day(1), "track", "Page Viewed")]
    ws = _load(make_workspace, tmp_path, events)
    r = lifecycle(ws, journey_map=jm)
    assert r.groups == ("(none)",)
    assert sum(row["new"] for row in r.by_group) == 2
    assert r.settings["map"] == jm.title


# -- errors ----------------------------------------------------------------------------------------


def test_errors_are_one_line(make_workspace: Callable[..., Workspace], tmp_path: Path) -> None:
    ws = _load(make_workspace, tmp_path, [("a", _day(0), "track", "Page Viewed")])
    cases: list[tuple[Callable[[], Any], type[Exception], str]] = [
        (lambda: lifecycle(ws, period="year"), InvalidOptionError, "period: 'year'"),
        (lambda: lifecycle(ws, mode="mixpanel"), InvalidOptionError, "posthog, amplitude"),
        (lambda: lifecycle(ws, created="signup"), InvalidOptionError, "created: 'signup'"),
        (lambda: lifecycle(ws, "Order Complete"), NotFoundError, "event: 'Order Complete'"),
        (lambda: lifecycle(ws, by="colour"), InvalidOptionError, "properties.KEY"),
        (lambda: lifecycle(ws, date_from="5 Jan"), InvalidOptionError, "YYYY-MM-DD"),
        (
            lambda: lifecycle(ws, date_from="2026-02-01", date_to="2026-01-01"),
            InvalidOptionError,
            "date_to",
        ),
        (lambda: stickiness(ws, period="day"), InvalidOptionError, "week, month"),
    ]
    for call, kind, text in cases:
        with pytest.raises(kind) as info:
            call()
        message = str(info.value)
        assert text in message, message
        assert "\n" not in message, message


def test_empty_workspace(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace("empty")
    r = lifecycle(ws)
    assert r.rows == ()
    assert str(r) == "no activity"
    assert stickiness(ws).rows == ()
