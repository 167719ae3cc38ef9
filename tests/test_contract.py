"""The analysis contract (ADR 0011): every declared analysis on every surface, equal JSON.

In the style of datasette's ``tests/test_docs.py``: the test walks the registry and fails
when an analysis lacks a CLI command, a REST endpoint (in the committed OpenAPI), a web
page or a docs entry, when the library function's signature drifts from the declaration,
and when ``kundresa <command> --json``, ``GET /api/v1/<name>`` and the Python result's
``to_dict()`` differ for the same parameters.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kundresa import Workspace
from kundresa._contract import REQUIRED, Analysis, Param, _resolve, analyses, get, reference
from kundresa._errors import InvalidOptionError
from kundresa.cli import app as cli_app
from kundresa.server._app import ServerConfig, create_app
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import create_key
from tests.test_server_web import login

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs" / "analyses.md"
OPENAPI = ROOT / "docs" / "openapi.json"

#: fields of run metadata: how a result was computed, not what it is (never compared)
RUN_METADATA = {"seconds", "engine", "kernel"}

#: the parameters each analysis is run with in the parity test (besides the defaults)
PARITY: dict[str, dict[str, Any]] = {
    "funnel": {"steps": ["Product Viewed", "Product Added", "Order Completed"], "window": "3d"},
    "top-paths": {"conversion": "Order Completed"},
    "drop-off-paths": {"step": "Product Viewed", "next_step": "Product Added"},
    "flows": {"start": "Product Viewed", "max_steps": 3},
    "attribution": {"conversion": "Order Completed", "model": ["markov", "shapley", "linear"]},
    "channels": {"conversion": "Order Completed"},
    "paths": {"conversion": "Order Completed"},
    "map-discover": {"stages": 3},
}
MAP_ANALYSES = {"map-measure", "map-conformance"}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in RUN_METADATA}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _cli_args(a: Analysis, params: dict[str, Any]) -> list[str]:
    args = list(a.command)
    for name, value in params.items():
        p = a.param(name)
        values = value if isinstance(value, list) else [value]
        if p.positional:
            args += [str(v) for v in values]
        else:
            for v in values:
                args += [p.flag or "", str(v)]
    return args


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small synthetic shop workspace and a journey map of it (made by map discover)."""
    root = tmp_path_factory.mktemp("contract")
    made = synthesize(persons=600, seed=11, out=root / "synth")
    db = root / "shop.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest([made.events_path])
        d = get("map-discover").compute(ws, get("map-discover").validate({"stages": 3}))
    plan = root / "plan.yaml"
    d.save(plan)  # type: ignore[attr-defined]
    return db, plan


def test_every_analysis_on_every_surface() -> None:
    """CLI command, REST endpoint (committed OpenAPI too), web page and docs entry."""
    from kundresa.server._registry import ANALYSES

    group = __import__("typer").main.get_command(cli_app)
    spec = json.loads(OPENAPI.read_text())
    docs = DOCS.read_text()
    names = list(analyses())
    assert len(names) >= 19
    for name in [
        "funnel", "flows", "transitions", "variants", "top-paths", "drop-off-paths", "journeys",
        "pages", "channels", "attribution", "ropo", "map-measure", "map-conformance",
        "map-discover", "overview", "info", "quarantine",
    ]:  # fmt: skip
        assert name in names, f"{name} is not declared"
    for a in analyses().values():
        cmd: Any = group
        for word in a.command:
            cmd = cmd.get_command(None, word)  # type: ignore[arg-type]
            assert cmd is not None, f"no CLI command kundresa {' '.join(a.command)}"
        flags = {o for p in cmd.params for o in getattr(p, "opts", ())}
        for p in a.params:
            assert p.positional or p.flag in flags, f"{a.name}: no CLI flag {p.flag}"
        assert f"/api/v1/{a.name}" in spec["paths"], f"{a.name}: not in docs/openapi.json"
        served = ANALYSES[a.name]
        assert served.web_path == a.web_path
        query = spec["paths"][f"/api/v1/{a.name}"]["get"].get("parameters", [])
        assert {q["name"] for q in query} == {p.name for p in a.params}, a.name
        assert f"## {a.name}\n" in docs, f"{a.name}: no entry in docs/analyses.md"
        for path in (a.run, a.page, a.form, a.text, a.python):  # every named function exists
            if path:
                assert callable(_resolve(path)), f"{a.name}: {path}"


def test_docs_reference_is_current() -> None:
    """docs/analyses.md is generated from the declarations."""
    if os.environ.get("KUNDRESA_UPDATE_DOCS") == "1":
        DOCS.write_text(reference())
    assert DOCS.read_text() == reference(), (
        "docs/analyses.md is stale: KUNDRESA_UPDATE_DOCS=1 pytest tests/test_contract.py"
    )


def test_web_pages_exist() -> None:
    """Every analysis has a page: /<name>, or its own (the measured map's /map)."""
    application = create_app(ServerConfig(db=":memory:"))
    paths = {getattr(r, "path", "") for r in application.routes}
    for a in analyses().values():
        assert (a.web_path or f"/{a.name}") in paths, a.name


def test_python_signature_is_the_declaration() -> None:
    """The library function takes every declared parameter under its name, with the
    declared default: the declaration and the function cannot drift."""
    for a in analyses().values():
        fn = a.python_function()
        if fn is None:
            continue
        sig = inspect.signature(fn).parameters
        for p in a.params:
            if p.python is None:
                continue
            assert p.python in sig, f"{a.name}: {a.python} has no parameter {p.python!r}"
            default = sig[p.python].default
            if p.required or default is inspect.Parameter.empty:
                continue
            want = p.default if not (p.multiple and p.default is None) else ()
            if p.multiple and isinstance(default, str):
                default = (default,)
            got = tuple(default) if isinstance(default, list | tuple) else default
            assert got == want, f"{a.name}.{p.name}: default {got!r} != declared {want!r}"


def test_validation_messages_name_the_field() -> None:
    a = get("attribution")
    with pytest.raises(InvalidOptionError, match="model: 'foo' is not allowed"):
        a.validate({"conversion": "Buy", "model": "foo"})
    with pytest.raises(InvalidOptionError, match="conversion"):
        a.validate({})
    with pytest.raises(InvalidOptionError, match="markov_order"):
        a.validate({"conversion": "Buy", "markov_order": "0"})
    assert a.validate({"conversion": "Buy", "model": "markov,shapley"}).model == (
        "markov",
        "shapley",
    )
    with pytest.warns(DeprecationWarning, match="use 'unit'"):
        assert a.validate({"conversion": "Buy", "lookback_scope": "session"}).unit == "session"
    with pytest.raises(InvalidOptionError, match="kind"):
        Param("x", "colour")
    assert Param("x", "int", REQUIRED, minimum=0, maximum=1).required
    with pytest.raises(InvalidOptionError, match="declare minimum and maximum"):
        Param("x", "int", 1)


def test_cli_rest_python_equal_json(shop: tuple[Path, Path], tmp_path: Path) -> None:
    """For the same parameters: CLI --json == REST JSON == Python to_dict() (run metadata
    aside), for every declared analysis."""
    db, plan = shop
    runner = CliRunner()
    expected: dict[str, Any] = {}
    with Workspace.open(db) as ws:
        for a in analyses().values():
            params = dict(PARITY.get(a.name, {}))
            if a.name in MAP_ANALYSES:
                params["map"] = str(plan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                expected[a.name] = _strip(a.compute(ws, a.validate(params)).to_dict())
    for a in analyses().values():
        params = dict(PARITY.get(a.name, {}))
        if a.name in MAP_ANALYSES:
            params["map"] = str(plan)
        res = runner.invoke(cli_app, [*_cli_args(a, params), "--db", str(db), "--json"])
        assert res.exit_code == 0, f"{a.name}: {res.output}"
        assert _strip(json.loads(res.stdout)) == expected[a.name], f"CLI != Python: {a.name}"
    served = tmp_path / "served.duckdb"
    shutil.copy(db, served)
    config = ServerConfig(db=str(served), maps=(str(plan),))
    st = ServerState(state_path(served))
    st.set_user("anna", "correct horse battery", "sv")
    st.close()
    with TestClient(create_app(config), base_url="https://testserver") as client:
        key = create_key(served, "reader", "read")
        assert login(client, "anna", "correct horse battery").status_code == 303
        for a in analyses().values():
            params = dict(PARITY.get(a.name, {}))
            params.pop("map", None)  # the server's map (the first it loaded)
            r = client.get(
                f"/api/v1/{a.name}", params=params, headers={"Authorization": f"Bearer {key}"}
            )
            assert r.status_code == 200, f"{a.name}: {r.text}"
            assert _strip(r.json()) == expected[a.name], f"REST != Python: {a.name}"
            for lang in ("en", "sv", "nb"):  # the page renders, titled in each language
                page = client.get(f"{a.web_path or '/' + a.name}", params={**params, "lang": lang})
                assert page.status_code == 200, f"{a.name} ({lang}): {page.text[:300]}"
                if a.web_path is None:
                    assert a.title(lang) in page.text, f"{a.name}: no {lang} title"
                    assert 'class="error"' not in page.text, f"{a.name}: {page.text[:2000]}"


def test_light_copies_match_the_library() -> None:
    """The declarations keep light copies of the library's choices (so listing commands
    imports no engine): they must be the library's."""
    from kundresa._catalog import attribution as declared
    from kundresa._catalog import funnel as declared_funnel
    from kundresa.attribution import MODELS
    from kundresa.funnel import _spec as spec

    assert (*MODELS, "all") == declared.MODELS
    assert declared_funnel.ORDERS == spec.ORDERS
    assert declared_funnel.ENTRIES == spec.ENTRIES
    assert declared_funnel.TIE_ORDERS == spec.TIE_ORDERS
    assert declared_funnel.DENOMINATORS == spec.DENOMINATORS
    assert declared_funnel.TRENDS == spec.TREND_PERIODS


def test_registry_is_complete_and_ordered_whichever_catalogue_module_loads_first() -> None:
    """Importing one catalogue module first (as a subpackage may) once hid the others."""
    import subprocess
    import sys

    code = "from kundresa._contract import analyses; print(' '.join(analyses()))"
    clean = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    first = subprocess.run(
        [sys.executable, "-c", f"import kundresa._catalog.maps\n{code}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert first == clean
    assert {"funnel", "info", "attribution", "map-conformance"} <= set(clean)
