"""Docs that cannot drift: every command, quarantine reason and column is documented, and the
README's Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kundresa import _ingest_sql, schema
from kundresa.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join(
    p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
)


def _reasons() -> set[str]:
    src = Path(_ingest_sql.__file__).read_text()
    return set(re.findall(r'\(\s*"([a-z_]+)",\s*"[a-z_]+",', src)) | {"malformed_csv_row"}


def test_every_cli_command_is_documented() -> None:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups if g.name}
    missing = [n for n in names if f"kundresa {n}" not in DOCS]
    assert missing == []


def test_every_quarantine_reason_is_documented() -> None:
    reasons = _reasons()
    assert len(reasons) >= 13
    event_model = (ROOT / "docs" / "event-model.md").read_text()
    assert sorted(r for r in reasons if f"`{r}`" not in event_model) == []


@pytest.mark.parametrize("table", [schema.EVENTS, schema.IDENTITIES, schema.QUARANTINE])
def test_every_column_is_documented(table: object) -> None:
    event_model = (ROOT / "docs" / "event-model.md").read_text()
    names = table.names  # type: ignore[attr-defined]
    assert [n for n in names if f"`{n}`" not in event_model] == []


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python block, run against a small synthetic file of the same name."""
    from kundresa.synth import synthesize

    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    synthesize(persons=50, seed=1, out=tmp_path)
    code = block.group(1).replace('Workspace.open("lake/", engine="spark")', "None")
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "kundresa.duckdb").exists()
