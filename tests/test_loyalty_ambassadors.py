"""Ambassadors (kundresa.loyalty.ambassadors) and the loyalty stage of map measure, on
hand-built data with every signal, on both engines (DuckDB == Spark). The planted per-persona
rates of the synthetic shop are checked by the lead after the merge of issue 16."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kundresa import InvalidOptionError, Workspace
from kundresa.loyalty import ambassadors
from kundresa.maps import JourneyMap, measure_map

T0 = dt.datetime(2026, 3, 2, 10)
H = dt.timedelta(hours=1)
FAN = '{"segment": "fan"}'

# (user, hours after T0, event, properties)
ROWS: list[tuple[str, int, str, str | None]] = [
    ("a", 0, "Order Completed", FAN),
    ("a", 120, "Order Completed", FAN),  # day 5: a repeat buyer
    ("a", 130, "Referral Sent", FAN),
    ("b", 24, "Order Completed", FAN),
    ("b", 30, "Review Written", FAN),
    ("b", 40, "Survey Answered", '{"nps": 10, "segment": "fan"}'),
    ("b", 50, "Survey Answered", '{"nps": 5}'),  # the latest answer: a detractor
    ("c", 3, "Survey Answered", '{"nps": 9}'),  # a promoter who never bought
    ("d", 1, "Order Completed", None),
    ("d", 2, "Order Completed", None),  # the same day: not a repeat on distinct days
    ("d", 4, "Survey Answered", '{"nps": 7}'),  # passive
    ("e", 5, "Survey Answered", '{"nps": "10"}'),  # a number as text counts
    ("f", 6, "Survey Answered", '{"nps": 11}'),  # out of 0..10: no answer
    ("f", 7, "Page Viewed", None),
    ("g", 8, "Survey Answered", '{"csat": 4}'),  # no nps
]

MAP = JourneyMap.from_dict(
    {"kundresa_map": 2, "title": "Loyal", "goal": "G", "type": "current", "owner": "",
     "language": "en",
     "personas": [{"id": "fan", "name": "Fan", "select": {"where": {"segment": "fan"}}}],
     "stages": [
         {"id": "buy", "name": "Buy", "match": {"events": ["Order Completed"]}},
         {"id": "advocate", "name": "Advocate",
          "match": {"events": ["Referral Sent", "Review Written", "Survey Answered"]}},
     ],
     "measurement": {"conversion": {"events": ["Order Completed"]},
                     "survey": {"events": ["Survey Answered"], "nps": "nps"}}}
)  # fmt: skip


@pytest.fixture
def ws(make_workspace: Callable[..., Workspace], tmp_path: Path) -> Workspace:
    path = tmp_path / "events.parquet"
    rows = [
        {"event_id": f"e{i:03d}", "user_id": u, "ts": T0 + h * H, "type": "track",
         "event": e, "properties": p}
        for i, (u, h, e, p) in enumerate(ROWS)
    ]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows), path)
    w = make_workspace("amb")
    w.ingest([path])
    return w


def test_hand_computed(ws: Workspace) -> None:
    """Persons a..g (7). Ambassadors: a (referral), b (review), c and e (promoters) = 4.
    Respondents (latest valid answer): b 5, c 9, d 7, e 10 -> promoters 2, detractors 1,
    NPS 100 (2 - 1) / 4 = 25; SE = 100 sqrt((0.5 + 0.25 - 0.25^2) / 4) = 41.458, 95 %:
    25 -/+ 1.95996 SE = -56.26 .. 106.26, clipped to 100. Buyers a, b, d; repeat (distinct
    days) a; ambassador buyers a, b."""
    r = ambassadors(ws)
    o = r.overall
    assert (o["persons"], o["ambassadors"], o["referrers"], o["reviewers"]) == (7, 4, 1, 1)
    assert (o["promoters"], o["detractors"], o["respondents"]) == (2, 1, 4)
    assert r.share == round(4 / 7, 6)
    assert o["nps"] == 25.0
    se = 100 * math.sqrt((0.5 + 0.25 - 0.25**2) / 4)
    assert o["nps_low"] == pytest.approx(25 - 1.959964 * se, abs=1e-3)
    assert o["nps_high"] == 100.0
    assert (o["buyers"], o["repeat_buyers"], o["ambassador_buyers"]) == (3, 1, 2)
    assert (o["share_of_buyers"], o["share_of_repeat_buyers"]) == (round(2 / 3, 6), 1.0)
    every = ambassadors(ws, distinct_days=False).overall
    assert (every["repeat_buyers"], every["share_of_repeat_buyers"]) == (2, 0.5)
    # a stricter promoter: only 10 -> c is passive now; e promoter
    strict = ambassadors(ws, promoter_min=10, detractor_max=5).overall
    assert (strict["promoters"], strict["ambassadors"], strict["nps"]) == (1, 3, 0.0)
    # other event names: reviews are not signals when renamed away
    renamed = ambassadors(ws, review_event="Review Posted").overall
    assert renamed["ambassadors"] == 3


def test_per_persona_and_stage(ws: Workspace) -> None:
    """Persona fan = a, b (both ambassadors); unassigned c..g (c, e). Stage buy: a, b, d
    (2 ambassadors); advocate: everyone with a referral, review or survey answer (valid or
    not: the stage rule names the event), so all 7, with the 4 ambassadors."""
    r = ambassadors(ws, journey_map=MAP)
    per = {p["group"]: (p["persons"], p["ambassadors"]) for p in r.personas}
    assert per == {"fan": (2, 2), "(unassigned)": (5, 2)}
    stage = {s["group"]: (s["persons"], s["ambassadors"]) for s in r.stages}
    assert stage == {"buy": (3, 2), "advocate": (7, 4)}
    assert r.to_frame("stages")["group"].tolist() == ["buy", "advocate"]


def test_map_measure_loyalty_stage(ws: Workspace) -> None:
    """The loyalty stage is the map's last stage: buyers, repeat rate, ambassador share (of
    buyers) per persona; p_alive and clv stay None where the CLV models cannot be fitted
    (one repeat buyer here; tests/test_loyalty_clv_analysis.py checks them filled)."""
    m = measure_map(MAP, ws)
    buy, adv = m.stage("buy"), m.stage("advocate")
    assert buy is not None
    assert adv is not None
    assert buy.loyalty is None
    assert adv.loyalty is not None
    assert (adv.loyalty.buyers, adv.loyalty.repeat_buyers, adv.loyalty.ambassadors) == (3, 1, 2)
    assert (adv.loyalty.repeat_rate, adv.loyalty.ambassador_share) == (0.333333, 0.666667)
    fan = m.stage("advocate", "fan")
    assert fan is not None
    assert fan.loyalty is not None
    assert (fan.loyalty.repeat_rate, fan.loyalty.ambassador_share) == (0.5, 1.0)
    row: dict[str, Any] = m.to_dict()["stages"][1]
    assert row["loyalty"] == {
        "buyers": 3, "repeat_buyers": 1, "ambassadors": 2, "p_alive": None, "clv": None,
        "repeat_rate": 0.333333, "ambassador_share": 0.666667,
    }  # fmt: skip
    assert "loyalty (advocate, *): 3 buyers, repeat 33.3%, ambassadors 66.7%" in str(m)
    assert "loyalty_repeat_rate" in m.to_frame().columns
    # without a conversion rule there is no loyalty stage to fill
    bare = JourneyMap.from_dict({**MAP.to_dict(), "measurement": {}})
    assert all(s.loyalty is None for s in measure_map(bare, ws).stages)


def test_bad_options_are_one_line(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "x.duckdb")
    for kwargs, field in (
        ({"promoter_min": 6}, "promoter_min"),
        ({"confidence": 1.5}, "confidence"),
    ):
        with pytest.raises(InvalidOptionError) as info:
            ambassadors(ws, **kwargs)
        assert str(info.value).startswith(field)
        assert "\n" not in str(info.value)
    assert ambassadors(ws).overall == {}  # an empty workspace: no persons, no error
    ws.close()
