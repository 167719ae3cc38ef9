"""A fast CLI (issue 13, point 8): ``import kundresa`` and the ``kundresa`` command load no
engine until a command needs one, and ``kundresa info`` on a DuckDB file needs no Ibis.

No timings here (they depend on the machine): ``bench/cli.py`` measures them. These tests
check the imports that make them fast, and that the lazy paths answer what the eager ones
did.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kundresa
import kundresa.loyalty
import kundresa.maps
from kundresa import Workspace

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"ibis", "pyarrow", "numba", "duckdb", "pandas", "polars", "plotly", "numpy"}


def python(code: str, *, cwd: Path = ROOT) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def loaded(after: str) -> list[str]:
    """The heavy packages imported by running ``after`` in a fresh interpreter."""
    out = python(
        f"{after}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    return list(json.loads(out.strip().splitlines()[-1]))


def kundresa_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kundresa", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_kundresa_and_its_cli_load_no_engine() -> None:
    assert loaded("import kundresa, kundresa.cli, kundresa.maps") == []


def test_the_clv_models_load_numpy_and_no_engine() -> None:
    """``kundresa.loyalty``'s CLV models need only numpy (issue 16: CDNOW fits and
    predictions >= 10x faster than lifetimes end to end, import included; ``bench/loyalty.py``
    measures it): reading them loads no engine, and ``kundresa.loyalty`` itself loads nothing."""
    assert loaded("import kundresa.loyalty") == []
    models = (
        "from kundresa.loyalty import fit_bg_nbd, fit_gamma_gamma, p_alive, "
        "conditional_expected_purchases, customer_lifetime_value"
    )
    assert {m.split(".")[0] for m in loaded(models)} == {"numpy"}


def test_help_lists_no_engine_and_builds_no_analysis() -> None:
    code = (
        "import sys\nfrom unittest import mock\nimport kundresa._contract_cli as c\n"
        "sys.argv = ['kundresa', '--help']\n"
        "with mock.patch.object(c, 'analysis_command', side_effect=AssertionError('built')):\n"
        "    try:\n        __import__('kundresa.cli').cli.main()\n"
        "    except SystemExit as e:\n        assert e.code == 0, e.code"
    )
    assert loaded(code) == []
    out = python(code + "\nimport sys\nprint(sorted(m for m in sys.modules if 'rich' in m))")
    assert out.strip().splitlines()[-1] == "[]"  # the group page is drawn without rich


def test_help_lists_every_command() -> None:
    import typer

    from kundresa.cli import app

    group = typer.main.get_command(app)
    ctx = group.make_context("kundresa", ["--help"], resilient_parsing=True)
    expected = [n for n in group.list_commands(ctx) if not group.get_command(ctx, n).hidden]
    assert {"funnel", "info", "ingest", "map", "serve", "synth", "attribution"} <= set(expected)
    proc = kundresa_cli("--help")
    assert proc.returncode == 0, proc.stderr
    rows = {line.strip("│ ").split(" ")[0] for line in proc.stdout.splitlines()}
    assert set(expected) <= rows, sorted(set(expected) - rows)
    sub = kundresa_cli("map", "--help")
    rows = {line.strip("│ ").split(" ")[0] for line in sub.stdout.splitlines()}
    assert {"measure", "conformance", "discover"} <= rows


def test_help_entries_are_the_commands_own_short_help() -> None:
    import click

    from kundresa._contract import analyses
    from kundresa._contract_cli import AnalysisGroup, analysis_command

    group = AnalysisGroup(name="kundresa")
    ctx = click.Context(group)
    group._listing = True
    for a in analyses().values():
        if len(a.command) != 1:
            continue
        entry = group.get_command(ctx, a.command[0])
        built = analysis_command(a)
        assert (entry.name, entry.short_help, entry.help) == (
            built.name,
            built.short_help,
            built.help,
        )


@pytest.mark.parametrize("package", [kundresa, kundresa.maps, kundresa.loyalty])
def test_lazy_names_are_the_type_checking_imports(package: object) -> None:
    """``_EXPORTS`` (what Python resolves) and the ``TYPE_CHECKING`` imports (what mypy sees)
    name the same objects, and every one resolves."""
    tree = ast.parse(Path(package.__file__).read_text())  # type: ignore[attr-defined]
    block = next(
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    imported = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == package._EXPORTS  # type: ignore[attr-defined]
    for name in package._EXPORTS:  # type: ignore[attr-defined]
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # type: ignore[attr-defined]  # noqa: B018


def test_funnel_is_the_callable_package_whatever_is_imported_first() -> None:
    for first in ("import kundresa.funnel._spec, kundresa", "from kundresa import funnel, Step"):
        out = python(
            f"{first}\nimport kundresa, inspect\n"
            "print(callable(kundresa.funnel), inspect.ismodule(kundresa.funnel),"
            " kundresa.funnel.__name__, kundresa.funnel.funnel.__name__)"
        )
        assert out.split() == ["True", "True", "kundresa.funnel", "funnel"], first


def test_light_copies_equal_the_library() -> None:
    from kundresa import _info, schema
    from kundresa import _workspace as workspace
    from kundresa._catalog import workspace as declared

    assert _info.TOUCHPOINT_TYPES == schema.TOUCHPOINT_TYPES
    assert declared.DEFAULT_DB == workspace.DEFAULT_DB


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kundresa.synth import synthesize

    folder = tmp_path_factory.mktemp("shop")
    result = synthesize(persons=400, seed=3, out=folder)
    with Workspace.open(folder / "shop.duckdb") as ws:
        ws.ingest([result.events_path])
    return folder / "shop.duckdb"


def test_read_info_equals_workspace_info(shop: Path, tmp_path: Path) -> None:
    from kundresa._info import read_info

    with Workspace.open(shop) as ws:
        expected = ws.info()
    assert expected.events > 0
    assert expected.merged_persons > 0
    assert read_info(shop) == expected
    assert str(read_info(shop)) == str(expected)
    empty = tmp_path / "empty.duckdb"
    with Workspace.open(empty) as ws:
        assert read_info(empty) is None  # no events table yet: the workspace answers
        ws.events()
        expected = ws.info()
    assert read_info(empty) == expected


def test_info_command_answers_without_ibis(shop: Path) -> None:
    with Workspace.open(shop) as ws:
        expected = ws.info().to_dict()
    code = (
        f"import sys\nsys.argv = ['kundresa', 'info', '--json', '--db', {str(shop)!r}]\n"
        "from kundresa.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'ibis', 'pyarrow'}))"
    )
    out = python(code)
    body, _, mods = out.rstrip().rpartition("\n")
    assert json.loads(body) == expected
    assert mods == "[]"
    assert kundresa_cli("info", "--db", str(shop)).stdout.rstrip() == str(
        kundresa.InfoResult(**expected)
    )


def test_read_info_steps_aside_while_another_process_holds_the_file(shop: Path) -> None:
    from kundresa._info import read_info

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb\ncon = duckdb.connect(sys.argv[1])\nprint('held', flush=True)\n"
            "sys.stdin.read()",
            str(shop),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        t0 = time.perf_counter()
        assert read_info(shop) is None
        assert time.perf_counter() - t0 < 30
    finally:
        holder.communicate("", timeout=30)
