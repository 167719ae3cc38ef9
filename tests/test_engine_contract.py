"""The engine contract (ADR 0001): analyses materialise with ``Store.fetch``, ask
``Store.supports`` for fast paths, and never reach a backend connection or an engine name."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from kundresa._errors import KundresaError
from kundresa._store import KNOWN_CAPABILITIES
from kundresa._workspace import Workspace

SRC = Path(__file__).resolve().parents[1] / "src" / "kundresa"

#: Modules allowed to reach past the interface: the store itself, and the CLI's default
#: folder per engine (before any store exists).
ALLOWED_STORE_ACCESS = {"_store.py"}
ALLOWED_ENGINE_NAMES = {"_store.py", "_cli.py"}
ENGINE_NAMES = {"duckdb", "spark"}


def test_fetch_and_supports_on_each_engine(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace()
    store = ws.store
    got = store.fetch(ibis.memtable({"a": [1, 2, 3]}).filter(ibis._.a > 1))
    assert isinstance(got, pa.Table)
    assert got.column("a").to_pylist() == [2, 3]
    assert store.to_arrow is not None  # deprecated alias still callable
    assert store.fetch_sql("select 1 as one").to_pylist() == [{"one": 1}]
    assert ws.sql("select 2 as two").to_pylist() == [{"two": 2}]
    declared = {c for c in KNOWN_CAPABILITIES if store.supports(c)}
    assert declared == set(store.capabilities)
    assert store.supports("sql_passthrough")
    if store.engine == "duckdb":
        assert declared >= {"clustered_scan", "raw_sql_fetch", "sql_params", "single_file"}
        assert not store.supports("distributed")
        with store.registered("v_contract", pa.table({"x": [5]})):
            assert store.fetch_sql("select x from v_contract where x = ?", [5]).num_rows == 1
    else:
        assert declared == {"sql_passthrough", "distributed"}
        assert not store.supports("clustered_scan")
        with pytest.raises(NotImplementedError):
            store.fetch_sql("select ? as x", [1])
    with pytest.raises(KundresaError, match="capability"):
        store.supports("teleport")


def _chain(node: ast.AST) -> list[str]:
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
    return names[::-1]


def _violations(tree: ast.AST, rel: str) -> list[str]:
    out: list[str] = []
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and node.attr in {"raw", "con", "session", "__dict__"}:
            chain = _chain(node.value)
            reaches = chain and (chain[-1] == "store" or node.attr == "__dict__")
            if reaches and rel not in ALLOWED_STORE_ACCESS:
                out.append(f"{where}: .{node.attr} on {'.'.join(chain)}")
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            has_engine = any(_chain(s)[-1:] == ["engine"] for s in sides)
            has_name = any(isinstance(s, ast.Constant) and s.value in ENGINE_NAMES for s in sides)
            if has_engine and has_name and rel not in ALLOWED_ENGINE_NAMES:
                out.append(f"{where}: compares an engine name")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and len(node.args) == 2
            and any(n in ast.dump(node.args[1]) for n in ("DuckDBStore", "SparkStore"))
            and rel not in ALLOWED_STORE_ACCESS
        ):
            out.append(f"{where}: isinstance on a store class")
    return out


def test_no_module_reaches_past_the_store() -> None:
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = str(path.relative_to(SRC))
        found += _violations(ast.parse(path.read_text()), rel)
    assert found == []


def test_the_static_check_can_fail() -> None:
    bad = ast.parse(
        "def f(ws):\n"
        "    ws.store.raw.execute('x')\n"
        "    ws.store.con.compile(e)\n"
        "    ws.__dict__['k'] = 1\n"
        "    if ws.engine == 'duckdb': pass\n"
        "    isinstance(ws.store, DuckDBStore)\n"
    )
    assert len(_violations(bad, "funnel/x.py")) == 5
    assert _violations(bad, "_store.py") == []


def test_duckdb_progress_bar_never_prints(tmp_path: Path) -> None:
    """DuckDB prints its progress bar to stdout on queries over ~2 s, which would corrupt
    ``kundresa ... --json > out.json``: every connection the store makes turns it off."""
    with Workspace.open(tmp_path / "p.duckdb") as ws:
        got = ws.store.fetch_sql("SELECT current_setting('enable_progress_bar') AS on_")
        assert got.column("on_").to_pylist() == [False]
