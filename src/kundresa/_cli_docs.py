"""The CLI reference (``docs/cli.md``), generated from the commands themselves.

:func:`reference` walks the command tree of ``kundresa.cli:app`` (the analyses' commands come
from their declarations, the others from ``kundresa._cli`` and its extensions) and writes every
command with its help, usage, arguments and options (flag, type or choices, default, help).
Hidden options (old spellings kept for one release) and hidden commands are left out.
``tests/test_cli_docs.py`` fails when the committed file is stale;
``KUNDRESA_UPDATE_DOCS=1 pytest tests/test_cli_docs.py`` or
``python -m kundresa._cli_docs docs/cli.md`` rewrites it.

Typer vendors its own copy of click, so the walk is duck-typed (``list_commands``,
``get_command``, ``params``) and works on plain click commands too.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["commands", "main", "reference"]

_HEADER = [
    "# CLI reference",
    "",
    "Generated from the commands (`kundresa.cli:app`) by `kundresa._cli_docs`; do not edit:",
    "`KUNDRESA_UPDATE_DOCS=1 pytest tests/test_cli_docs.py` (or",
    "`python -m kundresa._cli_docs docs/cli.md`) rewrites it, and `scripts/check` fails when it",
    "is stale. The analyses' parameters, their REST and web twins are in",
    "[analyses.md](analyses.md); the names follow [glossary.md](glossary.md).",
    "",
]


def _root() -> Any:
    import typer

    from kundresa.cli import app

    root: Any = app
    if isinstance(root, typer.Typer):
        return typer.main.get_command(root)
    return root  # already a (click) command


def _context(cmd: Any, parent: Any = None, name: str | None = None) -> Any:
    return cmd.context_class(cmd, parent=parent, info_name=name)


def commands(root: Any = None) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """Every visible command under ``root`` (default: ``kundresa``'s), depth first in the
    order the CLI lists them: ``(path, command, context)``.

    >>> paths = [" ".join(path) for path, _, _ in commands()]
    >>> "funnel" in paths and "map measure" in paths and paths[0] == ""
    True
    """
    root = _root() if root is None else root

    def walk(cmd: Any, path: tuple[str, ...], ctx: Any) -> Iterator[tuple[Any, ...]]:
        yield path, cmd, ctx
        if hasattr(cmd, "list_commands"):
            for sub in cmd.list_commands(ctx):
                child = cmd.get_command(ctx, sub)
                if child is None or getattr(child, "hidden", False):
                    continue
                yield from walk(child, (*path, sub), _context(child, ctx, sub))

    yield from walk(root, (), _context(root, None, "kundresa"))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _help(cmd: Any) -> str:
    text = inspect.cleandoc(cmd.help or "")
    return "\n".join(line for line in text.splitlines() if line.strip() != "\b").strip()


def _split_help(p: Any) -> tuple[str, str | None, str | None]:
    """An option's help without the ``[a | b]`` choices and ``(default: x)`` that the analyses'
    generated options state in their help (their click default is ``None``: the declaration's
    default applies), and those two."""
    text = " ".join((getattr(p, "help", None) or "").split())
    default = choices = None
    found = re.search(r"\s*\(default: ([^()]*)\)$", text)
    if found:
        default, text = found.group(1), text[: found.start()]
    found = re.search(r"\s*\[([^\[\]]* \| [^\[\]]*)\]$", text)
    if found:
        choices, text = found.group(1).replace(" | ", "|"), text[: found.start()]
    return text, choices, default


def _type(p: Any, ctx: Any) -> str:
    if getattr(p, "is_flag", False) or getattr(p, "count", False):
        return "flag"
    stated = _split_help(p)[1]
    if stated:
        label = stated
    elif getattr(p, "metavar", None) in ("INTEGER", "FLOAT"):  # a number the contract parses
        label = "int" if p.metavar == "INTEGER" else "float"
    elif hasattr(p, "display_type"):  # typer's parameters
        label = str(p.display_type(ctx)).strip("<>")
        if label.startswith("list[") and label.endswith("]"):
            label = label[5:-1]
    else:  # plain click
        choices = getattr(p.type, "choices", None)
        label = "|".join(map(str, choices)) if choices else str(p.type.name)
    label = label.replace("|", " \\| ")
    if getattr(p, "multiple", False) or p.nargs == -1:
        label += ", repeatable" if p.param_type_name == "option" else ", one or more"
    return label


def _default(p: Any, ctx: Any) -> str:
    if p.required:
        return "required"
    value = p.get_default(ctx, call=False)
    stated = _split_help(p)[2]
    if value is None and stated is not None:
        if getattr(p, "is_flag", False) and stated in ("on", "off"):
            value = stated == "on"
        else:
            return ", ".join(f"`{v}`" for v in stated.split(","))
    if getattr(p, "is_flag", False) and getattr(p, "secondary_opts", None):
        return f"`{p.opts[0] if value else p.secondary_opts[0]}`"
    if value is None or value is False or value == "" or callable(value):
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(f"`{v}`" for v in value) or "-"
    if value is True:
        return "on"
    return f"`{value}`"


def _flags(p: Any) -> str:
    flags = " / ".join("`" + ", ".join(opts) + "`" for opts in (p.opts, p.secondary_opts) if opts)
    envvar = getattr(p, "envvar", None)
    if envvar:
        names = [envvar] if isinstance(envvar, str) else list(envvar)
        flags += " (or " + ", ".join(f"`${n}`" for n in names) + ")"
    return flags


def _usage(name: str, cmd: Any) -> str:
    pieces = [name, "[OPTIONS]"]
    for p in cmd.params:
        if p.param_type_name != "argument" or getattr(p, "hidden", False):
            continue
        word = (p.metavar or p.name).upper()
        if p.nargs == -1 and not word.endswith("..."):
            word += "..."
        pieces.append(word if p.required else f"[{word}]")
    if hasattr(cmd, "list_commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _section(path: tuple[str, ...], cmd: Any, ctx: Any) -> list[str]:
    name = " ".join(("kundresa", *path))
    lines = [f"## {name}", "", _help(cmd) or "(no help)", ""]
    lines += ["```text", _usage(name, cmd), "```", ""]
    if hasattr(cmd, "list_commands"):
        subs = [(s, cmd.get_command(ctx, s)) for s in cmd.list_commands(ctx)]
        visible = [(s, c) for s, c in subs if c is not None and not getattr(c, "hidden", False)]
        if visible:
            lines += ["| command | what it does |", "|---|---|"]
            for sub, child in visible:
                short = child.get_short_help_str(limit=300)
                anchor = "-".join(("kundresa", *path, sub))
                lines.append(f"| [`{name} {sub}`](#{anchor}) | {_cell(short)} |")
            lines.append("")
    params = [p for p in cmd.params if not getattr(p, "hidden", False)]
    arguments = [p for p in params if p.param_type_name == "argument"]
    options = [p for p in params if p.param_type_name == "option"]
    if arguments:
        lines += ["| argument | type | help |", "|---|---|---|"]
        for p in arguments:
            lines.append(
                f"| `{(p.metavar or p.name).upper()}` | {_type(p, ctx)} | "
                f"{_cell(getattr(p, 'help', None) or '')} |"
            )
        lines.append("")
    if options:
        lines += ["| option | type | default | help |", "|---|---|---|---|"]
        for p in options:
            lines.append(
                f"| {_flags(p)} | {_type(p, ctx)} | {_default(p, ctx)} | "
                f"{_cell(_split_help(p)[0])} |"
            )
        lines.append("")
    return lines


def reference(root: Any = None) -> str:
    """The CLI reference as Markdown: one section per command, with its help, usage line,
    arguments and options (hidden ones, old spellings, left out).

    >>> text = reference()
    >>> "## kundresa funnel" in text and "| `--db` (or `$KUNDRESA_DB`) |" in text
    True
    """
    lines = list(_HEADER)
    for path, cmd, ctx in commands(root):
        lines += _section(path, cmd, ctx)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """``python -m kundresa._cli_docs [PATH]``: write the reference to PATH (or print it).

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "cli.md"
    >>> main([str(out)])
    >>> out.read_text().startswith("# CLI reference")
    True
    """
    args = sys.argv[1:] if argv is None else argv
    text = reference()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":  # pragma: no cover
    main()
