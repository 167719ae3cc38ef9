"""The help page of a command group (``kundresa --help``, ``kundresa map --help``), in the
look of typer's rich help, drawn with the standard library.

typer's rich help loads rich's Markdown, traceback and pretty-printing machinery, and rich
measures and wraps every cell: together more than half of ``kundresa --help``, for a page of
two tables. This draws the same panels (usage, description, options, commands) with
``textwrap``, in colour on a terminal. typer's and rich's switches are honoured:
``TERMINAL_WIDTH`` / ``COLUMNS``, ``NO_COLOR``, ``FORCE_COLOR`` / ``PY_COLORS`` /
``GITHUB_ACTIONS`` and ``_TYPER_FORCE_DISABLE_TERMINAL``.

>>> import click
>>> group = click.Group("demo", help="A demo group.", commands=[click.Command("x", help="X.")])
>>> print(group_help(group, click.Context(group, info_name="demo"), width=40, color=False))
<BLANKLINE>
 Usage: demo [OPTIONS] COMMAND [ARGS]...
<BLANKLINE>
 A demo group.
<BLANKLINE>
╭─ Options ────────────────────────────╮
│ --help  Show this message and exit.  │
╰──────────────────────────────────────╯
╭─ Commands ───────────────────────────╮
│ x  X.                                │
╰──────────────────────────────────────╯
"""

from __future__ import annotations

import inspect
import os
import shutil
import sys
import textwrap
import unicodedata
from typing import Any

__all__ = ["group_help", "print_group_help"]

_STYLES = {"usage": "33", "bold": "1", "name": "1;36", "dim": "2"}


def _width_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _color_default() -> bool:
    if os.getenv("_TYPER_FORCE_DISABLE_TERMINAL") or os.getenv("NO_COLOR"):
        return False
    if os.getenv("GITHUB_ACTIONS") or os.getenv("FORCE_COLOR") or os.getenv("PY_COLORS"):
        return True
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_width() -> int:
    if os.getenv("TERMINAL_WIDTH"):
        return int(os.environ["TERMINAL_WIDTH"])
    return shutil.get_terminal_size((80, 24)).columns


def group_help(group: Any, ctx: Any, *, width: int | None = None, color: bool = False) -> str:
    """The help page of the click group ``group`` in context ``ctx`` (``width`` columns)."""
    width = max(40, width or _terminal_width())

    def paint(text: str, style: str) -> str:
        return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if color and text else text

    head, _, rest = group.get_usage(ctx).partition(" ")
    lines = ["", f" {paint(head, 'usage')} {paint(rest, 'bold')}", ""]
    if group.help:
        first, _, more = inspect.cleandoc(group.help).partition("\n\n")
        for line in textwrap.wrap(" ".join(first.split()), width - 2):
            lines.append(f" {line}")
        for line in textwrap.wrap(" ".join(more.split()), width - 2):
            lines.append(f" {paint(line, 'dim')}")
        lines.append("")
    options = []
    for param in group.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None and not getattr(param, "hidden", False):
            options.append(record)
    commands = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            doc = inspect.cleandoc(command.short_help or command.help or "")
            commands.append((name, " ".join(doc.split("\n\n")[0].split())))
    for title, rows in (("Options", options), ("Commands", commands)):
        if rows:
            lines += _panel(title, rows, width, paint)
    return "\n".join(lines)


def _panel(title: str, rows: list[tuple[str, str]], width: int, paint: Any) -> list[str]:
    inner = width - 4  # "│ " + content + " │"
    first = max(_width_of(name) for name, _ in rows)
    second = max(10, inner - first - 2)
    top = f"╭─ {title} " + "─" * max(0, width - 5 - _width_of(title)) + "╮"
    out = [paint(top, "dim")]
    side = paint("│", "dim")
    for name, text in rows:
        wrapped = textwrap.wrap(text, second) or [""]
        for i, part in enumerate(wrapped):
            label = name if i == 0 else ""
            pad = " " * (first - _width_of(label))
            fill = " " * max(0, second - _width_of(part))
            out.append(f"{side} {paint(label, 'name')}{pad}  {part}{fill} {side}")
    out.append(paint("╰" + "─" * (width - 2) + "╯", "dim"))
    return out


def print_group_help(group: Any, ctx: Any) -> None:
    """Print the help of the click group ``group`` (in context ``ctx``) on stdout."""
    color = _color_default()
    sys.stdout.write(group_help(group, ctx, color=color) + "\n")
