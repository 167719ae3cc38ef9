"""The CLI reference ``docs/cli.md`` is generated from the commands (docs cannot drift).

``KUNDRESA_UPDATE_DOCS=1 pytest tests/test_cli_docs.py`` rewrites it after a command changes.
"""

from __future__ import annotations

import os
from pathlib import Path

from kundresa._cli_docs import commands, reference

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    text = reference()
    if os.environ.get("KUNDRESA_UPDATE_DOCS") == "1":
        DOC.write_text(text, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/cli.md is stale: KUNDRESA_UPDATE_DOCS=1 pytest tests/test_cli_docs.py"
    )


def test_every_command_and_visible_option_is_in_the_reference() -> None:
    text = DOC.read_text(encoding="utf-8")
    seen = 0
    for path, cmd, _ in commands():
        section = text.split(f"## {' '.join(('kundresa', *path))}\n", 1)
        assert len(section) == 2, f"kundresa {' '.join(path)}: no section in docs/cli.md"
        body = section[1].split("\n## ", 1)[0]
        for p in cmd.params:
            if p.param_type_name != "option":
                continue
            for flag in p.opts:
                if p.hidden:  # old spellings are left out
                    assert f"`{flag}`" not in body, f"{flag}: hidden, yet documented"
                else:
                    assert f"`{flag}" in body, f"kundresa {' '.join(path)} {flag}: missing"
                    seen += 1
    assert seen > 150, seen


def test_hidden_old_spellings_exist_and_are_left_out() -> None:
    """The walk sees the deprecated aliases (hidden options) and omits them."""
    hidden = [
        (path, o) for path, cmd, _ in commands() for p in cmd.params if p.hidden for o in p.opts
    ]
    assert (("ingest",), "--map") in hidden
    body = DOC.read_text(encoding="utf-8").split("## kundresa ingest\n")[1].split("\n## ")[0]
    assert "`--map`" not in body
    assert "`--column`" in body
