"""Funnel outputs (conversion CIs, times, trend, breakdown attribution, drop-off ids, next
events, figure) and the CLI. Expected values are worked out by hand from the small log."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from kundresa import Workspace, funnel
from kundresa._errors import InvalidOptionError, NotFoundError
from kundresa.cli import main
from kundresa.funnel import Step, wilson

from .funnel_reference import full_events

T0 = dt.datetime(2026, 1, 5, 9, 0)  # a Monday
# person, event, minutes, channel
ROWS = [
    ("a", "View", 0, "web"),
    ("a", "Add", 10, "app"),
    ("a", "Buy", 70, "app"),
    ("b", "View", 0, "ads"),
    ("b", "Add", 30, "web"),
    ("b", "Help", 40, "web"),
    ("c", "View", 60 * 24 * 8, "web"),
    ("c", "Search", 60 * 24 * 8 + 1, "web"),
    ("d", "Add", 0, "web"),
]


def _load(ws: Workspace) -> Workspace:
    ws.events()
    ws.store.append(
        "events",
        full_events(
            pa.table(
                {
                    "event_id": [f"e{i:02d}" for i in range(len(ROWS))],
                    "person_id": [r[0] for r in ROWS],
                    "ts": [T0 + dt.timedelta(minutes=r[2]) for r in ROWS],
                    "type": ["track"] * len(ROWS),
                    "event": [r[1] for r in ROWS],
                    "channel": [r[3] for r in ROWS],
                }
            )
        ),
    )
    return ws


def test_outputs_on_both_engines(make_workspace: Callable[..., Workspace]) -> None:
    """Counts, drop-off ids, what drop-offs did next (engine join), breakdown, trend."""
    ws = _load(make_workspace())
    r = funnel(ws, ["View", "Add", "Buy"], by="channel", attribution="first", trend="week")
    assert r.counts == (3, 2, 1)
    assert r.drop_off_ids(2) == ("c",)
    assert r.drop_off_ids(3) == ("b",)
    nxt = {d.step: d.next_events for d in r.drop_offs}
    assert nxt == {2: (("Search", 1),), 3: (("Help", 1),)}
    assert {b.value: b.counts for b in r.breakdown} == {"web": (2, 1, 1), "ads": (1, 1, 0)}
    assert [(t.period, t.entered, t.converted) for t in r.trend] == [
        ("2026-01-05", 2, 1),
        ("2026-01-12", 1, 0),
    ]
    assert r.steps[1].median_seconds == pytest.approx((600 + 1800) / 2)
    assert r.steps[2].median_seconds == 70 * 60


def test_attribution_variants(tmp_path: Any) -> None:
    ws = _load(Workspace.open(tmp_path / "a.duckdb"))
    steps = ["View", "Add", "Buy"]

    def by(attr: str) -> dict[str, tuple[int, ...]]:
        r = funnel(ws, steps, by="channel", attribution=attr, next_events=0)
        return {b.value: b.counts for b in r.breakdown}

    assert by("last") == {"app": (1, 1, 1), "web": (2, 1, 0)}
    assert by("step:2") == {"app": (1, 1, 1), "web": (1, 1, 0), "(none)": (1, 0, 0)}
    assert by("all") == {"web": (3, 2, 1), "app": (1, 1, 1), "ads": (1, 1, 0)}
    with pytest.raises(InvalidOptionError, match="step:N"):
        funnel(ws, steps, by="channel", attribution="step:9")


def test_denominator_histogram_and_figure(tmp_path: Any) -> None:
    ws = _load(Workspace.open(tmp_path / "d.duckdb"))
    r = funnel(ws, ["View", "Add"], denominator="all", next_events=0)
    assert r.units == 4  # d never viewed
    assert r.steps[1].from_start.value == pytest.approx(2 / 4)
    assert r.steps[1].from_previous.value == pytest.approx(2 / 3)
    assert dict(r.steps[1].histogram)["<=30m"] == 2
    fig = r.plot()
    assert fig.data[0].x == (3, 2)
    assert json.loads(r.to_json())["steps"][1]["count"] == 2
    assert list(r.to_frame()["count"]) == [3, 2]
    text = str(r)
    assert "█" in text
    assert "2. Add" in text


def test_wilson_interval_solves_its_defining_equation() -> None:
    """Wilson bounds p satisfy (p_hat - p)^2 = z^2 p (1 - p) / n (Wilson 1927)."""
    z = 1.959963984540054
    for s, n in ((81, 263), (1, 10), (10, 10), (0, 5)):
        r = wilson(s, n)
        assert r.low is not None
        assert r.high is not None
        for bound in (r.low, r.high):
            assert (s / n - bound) ** 2 == pytest.approx(z * z * bound * (1 - bound) / n, abs=1e-12)
        assert r.low <= s / n <= r.high
    assert wilson(0, 0).value is None
    assert math.isclose(wilson(81, 263).value or 0, 81 / 263)


def test_invalid_options_name_the_fix(tmp_path: Any) -> None:
    ws = _load(Workspace.open(tmp_path / "x.duckdb"))
    with pytest.raises(InvalidOptionError, match="ordered, strict, unordered"):
        funnel(ws, ["View", "Add"], order="sideways")
    with pytest.raises(InvalidOptionError, match="at least two"):
        funnel(ws, ["View"])
    with pytest.raises(InvalidOptionError, match="optional"):
        funnel(ws, [Step("View", optional=True), "Add"])
    with pytest.raises(InvalidOptionError, match="distinct event names"):
        funnel(ws, ["View", "Add", "View"], tie="1s")
    with pytest.raises(NotFoundError, match="did you mean: Add"):
        funnel(ws, ["View", "Ad"])


def _cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_table_json_ids_and_bad_step(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _load(Workspace.open(tmp_path / "c.duckdb"))
    ws.close()
    db = str(tmp_path / "c.duckdb")
    assert _cli(["funnel", "View", "Add", "Buy", "--window", "7d", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "3. Buy" in out
    assert "█" in out
    assert _cli(["funnel", "View", "Add|Buy", "--db", db, "--json", "--order", "strict"]) == 0
    assert json.loads(capsys.readouterr().out)["parameters"]["order"] == "strict"
    assert _cli(["funnel", "View", "Add", "Buy", "--db", db, "--drop-off-ids", "3"]) == 0
    assert capsys.readouterr().out.split() == ["b"]
    assert _cli(["funnel", "View", "Buyy", "--db", db]) == 2
    assert "did you mean: Buy" in capsys.readouterr().err
    assert _cli(["funnel", "View", "Add", "--db", db, "--exclude", "nonsense"]) == 2
    assert "EVENT:AFTER:BEFORE" in capsys.readouterr().err
