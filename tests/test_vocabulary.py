"""One vocabulary (issue 13, point 4): CLI flags, Python keywords and JSON keys against the
glossary in ``docs/glossary.md``.

Every declared analysis parameter, every visible CLI flag of every command and every keyword of
the library functions behind the analyses must be a term of the glossary; no old spelling of
its "Old spellings" table may appear as a flag, a keyword or a JSON key (old spellings are only
accepted, hidden, with a warning); durations in JSON are ``*_seconds`` (never ``*_hours`` or
``*_days``); and every old spelling still works for one release, warning with the new name.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from kundresa import SessionConfig, Workspace
from kundresa._contract import analyses, get
from kundresa.cli import app as cli_app
from kundresa.synth import synthesize

ROOT = Path(__file__).parent.parent
GLOSSARY = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
_main, _old = GLOSSARY.split("## Old spellings", 1)
_terms, _cli_only = _main.split("## CLI-only options", 1)
#: the glossary's terms (backticked snake_case words outside the old-spellings table)
TERMS = set(re.findall(r"`([a-z][a-z0-9_]*)`", _terms))
#: CLI-only options and the set-up commands' options (``--db``, ``--json``, ...)
CLI_ONLY = {f.replace("-", "_") for f in re.findall(r"--([a-z][a-z0-9-]*)", _cli_only)}
#: old spellings: the first column of the old-spellings table
OLD = {
    w
    for line in _old.splitlines()
    if line.startswith("| `")
    for w in re.findall(r"`([a-z][a-z0-9_]*)`", line.split("|")[1])
} - {"steps", "order", "exclude", "by", "days"}  # still used with one meaning (synth --days)
#: the library functions' own keywords that are not analysis parameters (the workspace, a
#: prebuilt object, a rule set folded from several parameters)
PYTHON_ONLY = {"ws", "source", "journey_map", "rules", "custom", "self"}


def test_glossary_parses() -> None:
    assert {"unit", "max_steps", "drop_off", "persons", "conversion", "session_gap"} <= TERMS
    assert {"grain", "lookback_scope", "dropoff", "people", "conversion_event", "gap"} <= OLD
    assert {"db", "engine", "json", "out"} <= CLI_ONLY
    assert not OLD & TERMS, OLD & TERMS


@pytest.mark.parametrize("name", analyses())
def test_parameters_are_glossary_terms(name: str) -> None:
    a = get(name)
    for p in a.params:
        assert p.name in TERMS, f"{name}: parameter {p.name!r} is not in docs/glossary.md"
        assert p.name not in OLD, f"{name}: {p.name!r} is an old spelling"
        for old in p.deprecated:
            assert old != p.name


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[Any]:
    """Every command under ``cmd`` (typer vendors its own click: duck-typed)."""
    yield path, cmd
    if hasattr(cmd, "list_commands"):
        ctx = cmd.context_class(cmd)
        for sub in cmd.list_commands(ctx):
            child = cmd.get_command(ctx, sub)
            if child is not None:
                yield from _commands(child, (*path, sub))


def test_cli_flags_are_glossary_terms() -> None:
    root = typer.main.get_command(cli_app)
    seen = 0
    for path, cmd in _commands(root):
        for p in cmd.params:
            if getattr(p, "param_type_name", "") != "option" or p.hidden:
                continue
            for opt in p.opts:
                if not opt.startswith("--") or opt == "--help":
                    continue
                word = opt[2:].replace("-", "_")
                where = f"kundresa {' '.join(path)} {opt}"
                assert word not in OLD, f"{where}: an old spelling (docs/glossary.md)"
                known = TERMS | CLI_ONLY
                assert word in known or word.removeprefix("no_") in known, (
                    f"{where}: not in glossary"
                )
                seen += 1
    assert seen > 100, seen  # the walk reached the generated analysis commands


@pytest.mark.parametrize("name", [n for n in analyses() if get(n).python])
def test_python_keywords_are_glossary_terms(name: str) -> None:
    fn = get(name).python_function()
    assert fn is not None
    for kw in inspect.signature(fn).parameters:
        assert kw not in OLD, f"{get(name).python}: keyword {kw!r} is an old spelling"
        assert kw in TERMS | PYTHON_ONLY, f"{get(name).python}: {kw!r} is not in the glossary"


#: the parameters each analysis needs (besides its defaults) on the synthetic shop
NEEDS: dict[str, dict[str, Any]] = {
    "funnel": {"steps": ["Product Viewed", "Product Added", "Order Completed"]},
    "top-paths": {"conversion": "Order Completed"},
    "drop-off-paths": {"step": "Product Viewed", "next_step": "Product Added"},
    "flows": {"start": "Product Viewed"},
    "attribution": {"conversion": "Order Completed"},
    "channels": {"conversion": "Order Completed"},
    "paths": {"conversion": "Order Completed"},
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Path]]:
    d = tmp_path_factory.mktemp("vocabulary")
    synth = synthesize(persons=150, seed=4, out=d / "synth", days=14)
    with Workspace.open(d / "w.duckdb") as ws:
        ws.ingest([synth.events_path])
        plan = d / "plan.yaml"
        found = get("map-discover").compute(ws, get("map-discover").validate({"stages": 3}))
        found.save(plan)  # type: ignore[attr-defined]
        yield ws, plan


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


_DURATION = re.compile(r"(^|_)(hours?|days|minutes?|ms)$")
#: names that end like a duration but are none (a flag of the loyalty vocabulary)
NOT_DURATIONS = {"distinct_days"}


@pytest.mark.parametrize("name", analyses())
def test_json_keys_use_the_vocabulary(name: str, shop: tuple[Workspace, Path]) -> None:
    ws, map_path = shop
    a = get(name)
    raw: dict[str, Any] = dict(NEEDS.get(name, {}))
    if any(p.name == "map" and p.required for p in a.params):
        raw["map"] = str(map_path)
    keys = set(_keys(a.compute(ws, a.validate(raw)).to_dict()))
    assert keys, name
    bad = sorted(k for k in keys if k in OLD or (_DURATION.search(k) and k not in NOT_DURATIONS))
    assert not bad, f"{name}: JSON keys {bad} (durations are *_seconds; see docs/glossary.md)"


# -- old spellings still work, warning with the new name -----------------------------------
def _warns(new: str) -> Any:
    return pytest.warns(DeprecationWarning, match=rf"use '?\.?{new}")


def test_python_old_keywords_warn(shop: tuple[Workspace, Path]) -> None:
    from kundresa.attribution import attribute, build_journeys
    from kundresa.paths import flows, top_paths, transition_graph

    ws, _ = shop
    with _warns("unit"):
        old = transition_graph(ws, grain="person")
    assert old == transition_graph(ws, unit="person")
    with _warns("max_steps"):
        assert flows(ws, steps=3).max_steps == 3
    with _warns("max_steps"):
        top_paths(ws, "Order Completed", steps=2)
    with _warns("unit"):
        build_journeys(ws, "Order Completed", lookback_scope="session")
    with _warns("markov_order"):
        r = attribute(ws, "Order Completed", model="markov", order=2)
    assert r.to_dict()["settings"]["markov_order"] == 2
    with _warns("conversion"):
        assert r.conversion_event == "Order Completed"  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="unit"):  # both spellings: one line naming both
        transition_graph(ws, grain="person", unit="person")


def test_session_config_old_spelling() -> None:
    with _warns("session_gap"):
        cfg = SessionConfig(gap="10m")  # type: ignore[call-arg]
    assert cfg.session_gap == "10m"
    with _warns("session_gap"):
        assert cfg.gap == "10m"


def test_saved_session_config_of_an_older_workspace(tmp_path: Path) -> None:
    """A workspace saved its session rules as ``{"gap": ...}`` before the rename."""
    import json

    with Workspace.open(tmp_path / "old.duckdb") as ws:
        ws._set_meta(
            "sessions",
            json.dumps({"gap": "45m", "start_events": [], "separate_channels": ["store"]}),
        )
        assert ws.session_config.session_gap == "45m"


def test_funnel_old_attributes(shop: tuple[Workspace, Path]) -> None:
    from kundresa.funnel import funnel

    ws, _ = shop
    r = funnel(ws, ["Product Viewed", "Order Completed"])
    with _warns("drop_offs"):
        assert r.dropoffs == r.drop_offs  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "drop_off" in r.to_dict()["steps"][0]


def test_contract_old_spellings_warn_on_rest_and_cli() -> None:
    """Every deprecated spelling of a declared parameter is accepted by ``validate`` (the
    path of the CLI and REST) with a warning naming the new one."""
    checked = 0
    for name in analyses():
        a = get(name)
        for p in a.params:
            for old in p.deprecated:
                value: Any = p.default if not p.required else "x"
                if p.required and p.kind == "event":
                    continue
                if value is None or (isinstance(value, tuple) and not value):
                    continue
                raw = {old: list(value) if isinstance(value, tuple) else value}
                raw.update({q.name: "Buy" for q in a.params if q.required and q.name != p.name})
                with _warns(p.name):
                    got = a.validate(raw)
                assert getattr(got, p.name) == p.parse(raw[old]), (name, old)
                checked += 1
    assert checked >= 6, checked


def test_ingest_old_map_flag(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    f = tmp_path / "e.csv"
    f.write_text("when,event,user_id\n2026-01-05T10:00:00Z,Buy,u1\n", encoding="utf-8")
    db = str(tmp_path / "w.duckdb")
    res = CliRunner().invoke(cli_app, ["ingest", str(f), "--db", db, "--map", "ts=when"])
    assert res.exit_code == 0, res.output
    assert "--map is deprecated, use --column" in res.output
    res = CliRunner().invoke(cli_app, ["ingest", str(f), "--db", db, "--column", "ts=when"])
    assert res.exit_code == 0, res.output
    assert "deprecated" not in res.output
