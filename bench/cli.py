"""CLI start-up: wall time of ``kundresa --help`` and ``kundresa info`` against ``python -c pass``.

    PYTHONPATH=src .venv/bin/python bench/cli.py [--db demo.duckdb] [--repeat 7]

Each command runs ``--repeat`` times as a fresh subprocess, round-robin (so a busy spell of
the machine hits every command alike); the median wall seconds are printed with the ratio to
``python -c pass`` (the interpreter's own start-up: the floor), and the median CPU seconds
(user + system: steadier than wall time on a shared machine). Targets (issue 13, point 8):
``--help`` <= 0.3 s and ``info`` on the demo workspace <= 1 s on a 2-core machine. Without
``--db`` the demo workspace (20,000 synthetic persons, seed 7, as ``kundresa demo`` makes it)
is built once and cached under ``bench/.data/cli/``. The ``kundresa`` console script beside
the interpreter is used when there is one, else ``python -m kundresa``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).parent / ".data" / "cli"
TARGETS = {"kundresa --help": 0.3, "kundresa info": 1.0}
#: as installed: bytecode cached (PYTHONDONTWRITEBYTECODE would recompile every module of a
#: source checkout on every start, which no installed copy does)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def demo_workspace(persons: int = 20_000, seed: int = 7) -> Path:
    """The demo workspace (built once: synthesise, ingest, stitch)."""
    db = DATA / f"demo-{persons}-{seed}.duckdb"
    if db.exists():
        return db
    from kundresa import Workspace
    from kundresa.synth import synthesize

    DATA.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = synthesize(persons=persons, seed=seed, out=DATA / f"demo-{persons}-{seed}-synth")
    tmp = db.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    with Workspace.open(tmp) as ws:
        ws.ingest([result.events_path])
    tmp.rename(db)
    print(f"built {db} ({result.events:,} events) in {time.perf_counter() - t0:.1f} s")
    return db


def kundresa_command() -> list[str]:
    """The ``kundresa`` console script of this interpreter, else ``python -m kundresa``."""
    script = Path(sys.executable).with_name("kundresa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kundresa"]


def wall(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``argv`` (output discarded; a
    failure stops the bench)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=ENV
    )
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="Workspace for `info` (default: the demo, cached).")
    ap.add_argument("--repeat", type=int, default=7, help="Runs per command (median kept).")
    args = ap.parse_args()
    db = args.db or demo_workspace()
    cmd = kundresa_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "kundresa --help": [*cmd, "--help"],
        "kundresa info": [*cmd, "info", "--db", str(db)],
    }
    for argv in commands.values():  # warm the file cache and write the bytecode
        wall(argv)
    load = os.getloadavg()[0]
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, argv in commands.items():
            seconds, cpu = wall(argv)
            times[name].append(seconds)
            cpus[name].append(cpu)
    floor = statistics.median(times["python -c pass"])
    print(
        f"{' '.join(cmd)} on {db} ({os.cpu_count()} cores; load average "
        f"{load:.2f} before, {os.getloadavg()[0]:.2f} after; median of {args.repeat})"
    )
    print(f"{'command':<18}{'wall s':>8}{'min s':>8}{'ratio':>8}{'CPU s':>8}{'target':>10}")
    failed = False
    for name, runs in times.items():
        median = statistics.median(runs)
        target = TARGETS.get(name)
        verdict = "" if target is None else (" ok" if median <= target else " OVER")
        failed |= verdict == " OVER"
        print(
            f"{name:<18}{median:>8.3f}{min(runs):>8.3f}{median / floor:>7.1f}x"
            f"{statistics.median(cpus[name]):>8.3f}"
            f"{'' if target is None else f'<= {target:.1f}':>10}{verdict}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
