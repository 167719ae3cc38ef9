"""50 malformed map files, each a different mistake: a specific message, exit 2, no traceback."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kundresa.cli import main
from kundresa.maps import new_map

BASE = new_map("shop", lang="en").to_dict()
Mut = Callable[[dict[str, Any]], Any]


def _set(path: tuple[Any, ...], value: Any) -> Mut:
    def f(d: dict[str, Any]) -> None:
        for p in path[:-1]:
            d = d[p]
        d[path[-1]] = value

    return f


def _del(path: tuple[Any, ...]) -> Mut:
    def f(d: dict[str, Any]) -> None:
        for p in path[:-1]:
            d = d[p]
        del d[path[-1]]

    return f


CELL = ("stages", 0, "cells", "impulse")

# (id, mutation or raw text with suffix, expected message part)
CASES: list[tuple[str, Mut | tuple[str, str], str]] = [
    ("yaml-syntax", ("goal: [unclosed\n", ".yaml"), "invalid YAML"),
    ("yaml-tab", ("kundresa_map: 2\ngoal:\n\t- x\n", ".yaml"), "invalid YAML"),
    ("json-syntax", ('{"kundresa_map": 2,}', ".json"), "invalid JSON"),
    ("empty-file", ("\n", ".yaml"), "the file is empty"),
    ("bad-suffix", ("goal: x\n", ".txt"), "unsupported suffix"),
    ("not-a-mapping", ("- a\n- b\n", ".yaml"), "holds a list, not a map"),
    ("no-version", _del(("kundresa_map",)), "kundresa_map (the format version) is missing"),
    ("newer-version", _set(("kundresa_map",), 99), "version 99 is newer"),
    ("version-text", _set(("kundresa_map",), "two"), "must be a whole number"),
    ("version-zero", _set(("kundresa_map",), 0), "version 0 is not a known format version"),
    (
        "old-unknown-version",
        lambda d: (d.pop("kundresa_map"), d.__setitem__("version", 0)),
        "version 0 cannot be migrated",
    ),
    ("unknown-top-key", lambda d: d.__setitem__("stgaes", []), "did you mean 'stages'"),
    ("missing-goal", _del(("goal",)), "goal is missing"),
    ("empty-goal", _set(("goal",), "  "), "goal is empty"),
    ("goal-list", _set(("goal",), ["a"]), "goal must be text"),
    ("missing-owner", _del(("owner",)), "owner is missing"),
    (
        "bad-type",
        _set(("type",), "currnet"),
        "'currnet' is not a map type (did you mean 'current'?)",
    ),
    ("missing-type", _del(("type",)), "type is missing"),
    ("bad-language", _set(("language",), "de"), "'de' is not a supported language"),
    ("bad-status", _set(("status",), "done"), "'done' is not a map status"),
    ("bad-date", _set(("last_validated",), "yesterday"), "'yesterday' is not a date"),
    ("bad-month", _set(("last_validated",), "2026-13-01"), "'2026-13-01' is not a date"),
    ("compare-on-current", _set(("compare_to",), "x.yaml"), "compare_to is only for future maps"),
    (
        "compare-missing",
        lambda d: (d.__setitem__("type", "future"), d.__setitem__("compare_to", "nope.yaml")),
        "'nope.yaml' does not exist",
    ),
    ("no-personas", _del(("personas",)), "personas are missing"),
    ("empty-personas", _set(("personas",), []), "personas must be a non-empty list"),
    (
        "one-persona",
        lambda d: (
            d.__setitem__("personas", d["personas"][:1]),
            [s["cells"].clear() for s in d["stages"]],
        ),
        "only one persona",
    ),
    ("persona-no-id", _del(("personas", 0, "id")), "id is missing"),
    (
        "persona-dup-id",
        _set(("personas", 1, "id"), "wheel_kicker"),
        "persona id 'wheel_kicker' is used twice",
    ),
    (
        "persona-id-space",
        _set(("personas", 0, "id"), "wheel kicker"),
        "persona id 'wheel kicker' has spaces",
    ),
    ("persona-no-name", _del(("personas", 0, "name")), "name is missing"),
    ("persona-bad-age", _set(("personas", 0, "age_range"), "old"), "age range 'old' is not like"),
    ("persona-needs-text", _set(("personas", 0, "needs"), "cheap"), "needs must be a list"),
    ("persona-unknown-key", _set(("personas", 0, "occuption"), "x"), "did you mean 'occupation'"),
    ("select-not-mapping", _set(("personas", 0, "select"), "Identify"), "a rule must be a mapping"),
    ("no-stages", _del(("stages",)), "stages are missing"),
    ("empty-stages", _set(("stages",), []), "stages must be a non-empty list"),
    ("stage-dup-id", _set(("stages", 1, "id"), "awareness"), "stage id 'awareness' is used twice"),
    ("stage-no-name", _del(("stages", 0, "name")), "name is missing"),
    (
        "unknown-persona-cell",
        lambda d: d["stages"][0]["cells"].__setitem__("impuls", {}),
        "unknown persona 'impuls' in a cell; did you mean 'impulse'?",
    ),
    (
        "emotion-out-of-range",
        _set((*CELL, "emotion", "score"), 3),
        "emotion score 3 is outside -2..+2",
    ),
    (
        "emotion-not-number",
        _set((*CELL, "emotion", "score"), "happy"),
        "emotion score 'happy' is not a whole number",
    ),
    ("emotion-no-score", _del((*CELL, "emotion", "score")), "emotion score is missing"),
    (
        "emotion-emoji-words",
        _set((*CELL, "emotion", "emoji"), "very happy indeed"),
        "is not one emoji",
    ),
    ("touchpoint-no-channel", _del((*CELL, "touchpoints", 0, "channel")), "channel is missing"),
    (
        "opportunity-bad-status",
        _set((*CELL, "opportunities", 0, "status"), "maybe"),
        "'maybe' is not an opportunity status",
    ),
    ("opportunity-no-text", _del((*CELL, "opportunities", 0, "text")), "text is missing"),
    ("lane-typo", _set((*CELL, "pain_point"), ["x"]), "did you mean 'pain_points'"),
    (
        "pain-point-mapping",
        _set((*CELL, "pain_points"), [{"a": 1}]),
        "pain_points item must be text",
    ),
    (
        "rule-event-number",
        _set(("stages", 0, "match", "events"), [42]),
        "events item 42 is not a name",
    ),
    (
        "rule-where-list",
        _set(("stages", 1, "match", "where"), {"segment": ["a", "b"]}),
        "must equal one text or number value",
    ),
    ("rule-empty", _set(("stages", 1, "match"), {}), "the rule is empty"),
    (
        "event-two-stages",
        _set(("stages", 2, "match"), {"events": ["Product Viewed"]}),
        "already marks stage 'consideration'",
    ),
    (
        "conversion-stage-missing",
        _set(("measurement", "conversion", "stage"), "purchse"),
        "stage 'purchse' is referenced but missing",
    ),
    ("measurement-unknown-key", _set(("measurement", "funnel"), {}), "unknown key 'funnel'"),
    (
        "survey-no-props",
        _set(("measurement", "survey"), {"events": ["Survey Answered"], "csat": "", "nps": ""}),
        "names neither csat nor nps",
    ),
    ("day-no-period", lambda d: d.__setitem__("type", "day_in_the_life"), "needs a period"),
    ("duplicate-key", ("kundresa_map: 2\ngoal: a\ngoal: b\n", ".yaml"), "duplicate key 'goal'"),
]


def _write(tmp_path: Path, case: Mut | tuple[str, str]) -> Path:
    if isinstance(case, tuple):
        text, suffix = case
        p = tmp_path / f"map{suffix}"
        p.write_text(text)
        return p
    d = copy.deepcopy(BASE)
    case(d)
    p = tmp_path / "map.yaml"
    p.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False))
    return p


def test_at_least_50_distinct_cases() -> None:
    assert len(CASES) >= 50
    assert len({c[0] for c in CASES}) == len(CASES)
    assert len({c[2] for c in CASES}) >= 50


@pytest.mark.parametrize(("name", "case", "message"), CASES, ids=[c[0] for c in CASES])
def test_malformed_map(
    name: str, case: Mut | tuple[str, str], message: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = _write(tmp_path, case)
    with pytest.raises(SystemExit) as exc:
        main(["map", "validate", str(path)])
    assert exc.value.code == 2
    out = capsys.readouterr()
    text = out.out + out.err
    assert message in text, text
    assert "Traceback" not in text
    # every problem names the file (and a line when the file could be parsed)
    assert path.name in text
    # the same file through the other commands: also a clean exit 2
    with pytest.raises(SystemExit) as exc2:
        main(["map", "export", str(path), "--to", "mermaid"])
    assert exc2.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_line_numbers_point_at_the_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "m.yaml"
    text = yaml.safe_dump(BASE, allow_unicode=True, sort_keys=False)
    text = text.replace("score: 2", "score: 7", 1)
    p.write_text(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "score: 7" in ln)
    with pytest.raises(SystemExit):
        main(["map", "validate", str(p)])
    assert f"m.yaml:{line} stages[" in capsys.readouterr().out


def test_valid_map_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "m.json"
    p.write_text(json.dumps(BASE))
    with pytest.raises(SystemExit) as exc:
        main(["map", "validate", str(p)])
    assert exc.value.code == 0
    assert "valid (0 errors" in capsys.readouterr().out
