"""The help page of a command group (``kundresa --help``, ``kundresa map --help``), in the
look of typer's rich help, drawn with rich's core only.

typer's own rich help loads rich's Markdown, traceback and pretty-printing machinery
(about 0.1 s, a third of ``kundresa --help``) for a page of two tables; this draws the same
panels (usage, description, options, commands) with ``rich.console``, ``rich.panel`` and
``rich.table``. typer's environment switches are honoured: ``TERMINAL_WIDTH``,
``FORCE_COLOR`` / ``PY_COLORS`` / ``GITHUB_ACTIONS`` and ``_TYPER_FORCE_DISABLE_TERMINAL``.

>>> import click
>>> group = click.Group("demo", help="A demo group.", commands=[click.Command("x", help="X.")])
>>> print_group_help(group, click.Context(group, info_name="demo"), width=40)
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
<BLANKLINE>
"""

from __future__ import annotations

import inspect
import os
from typing import Any

__all__ = ["print_group_help"]


def _console(width: int | None) -> Any:
    from rich.console import Console

    force: bool | None = None
    if os.getenv("GITHUB_ACTIONS") or os.getenv("FORCE_COLOR") or os.getenv("PY_COLORS"):
        force = True
    if os.getenv("_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    if width is None and os.getenv("TERMINAL_WIDTH"):
        width = int(os.environ["TERMINAL_WIDTH"])
    return Console(force_terminal=force, width=width, highlight=False)


def _table(rows: list[tuple[str, str]], first: int) -> Any:
    from rich.table import Table

    table = Table(highlight=False, show_header=False, expand=True, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True, width=first)
    table.add_column("Description", justify="left", no_wrap=False, ratio=10)
    for name, text in rows:
        table.add_row(name, text)
    return table


def print_group_help(group: Any, ctx: Any, *, width: int | None = None) -> None:
    """Print the help of the click group ``group`` (in context ``ctx``) on stdout."""
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.text import Text

    console = _console(width)
    usage = group.get_usage(ctx)
    head, _, rest = usage.partition(" ")
    console.print(Padding(Text.assemble((head + " ", "yellow"), (rest, "bold")), 1))
    if group.help:
        first, _, more = group.help.strip().partition("\n\n")
        text = Text(" ".join(first.split()))
        if more:
            text.append("\n\n" + more.strip(), style="dim")
        console.print(Padding(text, (0, 1, 1, 1)))
    options = []
    for param in group.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None and not getattr(param, "hidden", False):
            options.append(record)
    panels: list[tuple[str, list[tuple[str, str]]]] = [("Options", options)]
    commands = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            doc = inspect.cleandoc(command.short_help or command.help or "")
            commands.append((name, " ".join(doc.split("\n\n")[0].split())))
    panels.append(("Commands", commands))
    for title, rows in panels:
        if rows:
            first = max(len(name) for name, _ in rows)
            console.print(
                Panel(_table(rows, first), border_style="dim", title=title, title_align="left")
            )
