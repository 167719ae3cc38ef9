"""Synthetic multi-channel journeys with planted truth (see ``_generator``, docs/synth.md).

:func:`synthesize` writes ``events.parquet`` and ``truth.json`` into a folder; the truth
file holds everything an analysis should recover (true person of every anonymous id,
personas, planted channel effects, funnel-step probabilities, reminder-e-mail lift; with
``loyalty=True``, best over a long horizon such as ``days=730``, the per-persona BG/NBD and
Gamma-Gamma parameters of repeat purchase, drop-out and spend, each customer's planted
rate, drop-out and death, and the referral and review rates: sections ``loyalty`` and
``ambassadors``, see ``_loyalty``).

>>> import tempfile
>>> r = synthesize(persons=20, seed=1, out=tempfile.mkdtemp())
>>> r.events > 0 and r.truth_path.name
'truth.json'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kundresa._errors import InvalidOptionError as _InvalidOptionError
from kundresa._public import publish as _publish
from kundresa._results import Result as _Result
from kundresa.synth._generator import default_start, generate_events

__all__ = ["SynthResult", "default_start", "events_checksum", "generate_events", "synthesize"]


def events_checksum(table: pa.Table) -> str:
    """SHA-256 over the table's Arrow IPC bytes: equal tables, equal checksums.

    >>> events_checksum(pa.table({"a": [1]})) == events_checksum(pa.table({"a": [1]}))
    True
    """
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


@dataclass(frozen=True)
class SynthResult(_Result):
    """Where the synthetic data went and what it holds."""

    events: int
    persons: int
    seed: int
    channels: tuple[str, ...]
    personas: tuple[str, ...]
    events_path: Path
    truth_path: Path
    checksum: str

    def __str__(self) -> str:
        return (
            f"{self.events:,} events for {self.persons:,} persons (seed {self.seed}) "
            f"across {len(self.channels)} channels\n"
            f"  events: {self.events_path}\n  truth:  {self.truth_path}"
        )


def synthesize(
    persons: int = 20_000,
    seed: int = 7,
    out: str | os.PathLike[str] = "synth",
    *,
    start: dt.date | None = None,
    days: int = 56,
    loyalty: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> SynthResult:
    """Generate journeys and write ``events.parquet`` + ``truth.json`` into ``out``.

    ``start``, ``days`` and ``loyalty`` are those of :func:`generate_events` (``loyalty``
    plants repeat purchase, drop-out, spend, referrals and reviews; use it with a long
    horizon such as ``days=730``). ``progress(stage, done, total)`` is called as it goes
    (the stages of :func:`generate_events`, then ``"synth:write"``).

    >>> import tempfile
    >>> r = synthesize(persons=100, seed=3, out=tempfile.mkdtemp(), days=730, loyalty=True)
    >>> sorted(json.loads(r.truth_path.read_text())["loyalty"]["conventions"])[:3]
    ['T', 'death', 'distinct_days']
    """
    if persons < 1:
        raise _InvalidOptionError("persons", persons, fix="use a positive number such as 20000")
    table, truth = generate_events(
        persons, seed, start=start, days=days, loyalty=loyalty, progress=progress
    )
    if progress is not None:
        progress("synth:write", 0, 0)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    events_path = folder / "events.parquet"
    truth_path = folder / "truth.json"
    pq.write_table(table, events_path, compression="zstd")
    truth_path.write_text(json.dumps(truth, indent=1, sort_keys=True))
    channels = tuple(sorted(set(table.column("channel").to_pylist())))
    return SynthResult(
        events=table.num_rows,
        persons=persons,
        seed=seed,
        channels=channels,
        personas=tuple(sorted(truth.get("personas", {}))),
        events_path=events_path,
        truth_path=truth_path,
        checksum=events_checksum(table),
    )


_publish(__name__, [globals()[name] for name in __all__])
