"""Progress of long commands on the terminal: on stderr, and only when stderr is one.

The library reports progress through a callback ``progress(stage, done, total)`` (``total``
0 when unknown); a stage is a file being loaded (its path; ``done`` counts rows) or one of
:data:`STAGES`. The CLI draws it with rich on stderr; piped or redirected, nothing is drawn
(and rich is not even imported), so stdout carries only the command's output.

>>> bar, update = progress_bar(enabled=False)
>>> with bar:
...     update("synth:persons", 10, 20)
...     update("stitch", 0, 0)
>>> with busy("Funnel", enabled=False):
...     pass
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["STAGES", "busy", "progress_bar", "stderr_is_terminal"]

#: the named stages: label and unit of the count (a file's stage is its path, in rows)
STAGES: dict[str, tuple[str, str]] = {
    "synth:persons": ("synthesise journeys", "persons"),
    "synth:build": ("build the event table", ""),
    "synth:write": ("write events.parquet and truth.json", ""),
    "stitch": ("stitch persons and sessions", ""),
}


def stderr_is_terminal() -> bool:
    """Whether stderr is an interactive terminal (the only place progress is drawn)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


class _Quiet:
    """Stands in for a rich ``Progress`` when nothing is drawn."""

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def progress_bar(*, enabled: bool | None = None) -> tuple[Any, Callable[[str, int, int], None]]:
    """A progress display on stderr and its ``update(stage, done, total)`` callback.

    ``enabled`` defaults to whether stderr is a terminal. Use the display as a context
    manager around the work; a new stage completes the one before it.
    """
    if not (stderr_is_terminal() if enabled is None else enabled):
        return _Quiet(), lambda stage, done, total: None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        label, unit = STAGES.get(stage, (Path(stage).name, "rows"))
        count = f"{done:,}/{total:,} {unit}".rstrip() if total else ""
        if stage not in tasks:
            for task in bar.tasks:  # the stage before is done
                if not task.finished:
                    bar.update(task.id, total=task.total or 1, completed=task.total or 1)
            # total 0 = unknown (CSV, JSON, a stage without a count): rich pulses the bar
            tasks[stage] = bar.add_task(label, total=total or None, count=count)
        bar.update(tasks[stage], completed=done, total=total or None, count=count)

    return bar, update


@contextlib.contextmanager
def busy(what: str, *, enabled: bool | None = None) -> Iterator[None]:
    """A spinner on stderr while ``what`` runs (only when stderr is a terminal)."""
    if not (stderr_is_terminal() if enabled is None else enabled):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(f"{what} ...", spinner="dots"):
        yield
