"""Clean machine-readable output (issue 13, point 10): on a terminal, ``kundresa ... --json``
prints JSON and nothing else on stdout while its queries run for seconds.

DuckDB draws its progress bar on stdout when stdout is a terminal and a query runs longer
than ``progress_bar_time`` (2 s, the default, left as it is here). The commands run under
real pseudo terminals (``pty.openpty``: one for stdout, one for stderr), so DuckDB and rich
both see an interactive session, on a workspace whose ``events`` are a view made slow on
purpose (every row re-checked against a ``range`` sized on this machine so that one scan
takes at least 3 s): ``info`` (its read-only DuckDB connection), ``events`` (the store's
connection, through Ibis) and ``sql``. A control shows that DuckDB does draw the bar on the
same terminal for the same scan when nobody switches it off.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from kundresa import Workspace
from tests.test_cli_imports import kundresa_cli

BAR = "elapsed"  # DuckDB's bar: "\r100% ▕████▏ (00:00:03.02 elapsed)"
RUN_CLI = "import sys\nfrom kundresa.cli import main\nmain(sys.argv[1:])\n"


def in_terminal(code: str, *args: str, cwd: Path, timeout: float = 300) -> tuple[int, str, str]:
    """Run ``python -c code args`` with stdout and stderr on two pseudo terminals; return
    the exit status, stdout and stderr."""
    out_main, out_child = pty.openpty()
    err_main, err_child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=out_child,
        stderr=err_child,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(out_child)
    os.close(err_child)
    got = {out_main: b"", err_main: b""}
    open_fds = [out_main, err_main]
    deadline = time.monotonic() + timeout
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            proc.kill()
            raise AssertionError(f"timed out; stdout so far: {got[out_main][-500:]!r}")
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed its end (Linux raises EIO)
                chunk = b""
            if chunk:
                got[fd] += chunk
            else:
                open_fds.remove(fd)
                os.close(fd)
    status = proc.wait(timeout=timeout)
    return status, got[out_main].decode(), got[err_main].decode()


@pytest.fixture(scope="module")
def slow_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic workspace whose ``events`` view takes >= 3 s to scan here."""
    from kundresa.synth import synthesize

    folder = tmp_path_factory.mktemp("tty_shop")
    result = synthesize(persons=300, seed=5, out=folder)
    db = folder / "shop.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest([result.events_path])
    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar=false")
    con.execute("ALTER TABLE events RENAME TO events_stored")
    k = 500
    while True:  # every row re-checked against range(k): the same rows, k times the work
        con.execute(
            "CREATE OR REPLACE VIEW events AS SELECT e.* FROM events_stored e WHERE "
            f"(SELECT count(*) FROM range({k}) r WHERE (r.range + length(e.event_id)) % 7 = 3)"
            f" <= {k}"
        )
        t0 = time.perf_counter()
        con.execute("SELECT count(DISTINCT session_id) FROM events").fetchall()
        if time.perf_counter() - t0 >= 3 or k >= 2**26:
            break
        k *= 2
    con.close()
    return db


def test_duckdb_draws_its_bar_on_this_terminal(slow_shop: Path, tmp_path: Path) -> None:
    """The control: the same scan on a connection that leaves the bar on shows it."""
    code = (
        "import duckdb, sys\ncon = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(con.execute('SELECT count(*) FROM events').fetchall())"
    )
    status, out, err = in_terminal(code, str(slow_shop), cwd=tmp_path)
    assert status == 0, err
    assert BAR in out


@pytest.mark.parametrize(
    "argv",
    [
        ["info"],
        ["events", "--limit", "5"],
        ["sql", "select channel, count(*) as n from events group by 1 order by 1"],
    ],
    ids=["info", "events", "sql"],
)
def test_json_while_long_queries_run_on_a_terminal(
    argv: list[str], slow_shop: Path, tmp_path: Path
) -> None:
    t0 = time.perf_counter()
    status, out, err = in_terminal(RUN_CLI, *argv, "--db", str(slow_shop), "--json", cwd=tmp_path)
    assert status == 0, err
    assert time.perf_counter() - t0 > 3  # at least one scan of the slow view ran
    assert BAR not in out
    assert json.loads(out)
    if argv[0] == "events":  # an analysis through the workspace: a spinner on stderr
        assert "Live events ..." in err


def test_every_connection_kundresa_makes_has_the_bar_off(tmp_path: Path) -> None:
    """The store's (through Ibis), ingest's scratch one and ``info``'s read-only one. In a
    fresh interpreter: under pytest DuckDB starts with the bar off anyway."""
    code = """
import json, sys
from kundresa import Workspace
from kundresa._info import _connect
from kundresa._ingest import _Processor
import duckdb

setting = "SELECT current_setting('enable_progress_bar')"
got = {"default": duckdb.connect().execute(setting).fetchone()[0]}
with Workspace.open(sys.argv[1]) as ws:
    got["store"] = ws.store.fetch_sql(setting + " AS on_").column("on_").to_pylist()[0]
    ws.events()
got["info"] = _connect(sys.argv[1]).execute(setting).fetchone()[0]
got["ingest"] = _Processor(identifiers=(), salt="s").con.execute(setting).fetchone()[0]
print(json.dumps(got))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "default": True,
        "store": False,
        "info": False,
        "ingest": False,
    }


def test_long_commands_draw_progress_on_a_terminal_stderr_only(tmp_path: Path) -> None:
    """synth, ingest and stitch draw their stages on stderr when it is a terminal; stdout
    keeps the output (JSON with --json; synth's text ends with what to run next)."""
    status, out, err = in_terminal(
        RUN_CLI, "synth", "--persons", "1500", "--db", "w.duckdb", cwd=tmp_path
    )
    assert status == 0, err
    for stage in ("synthesise journeys", "persons", "events.parquet", "stitch persons"):
        assert stage in err, stage
    assert "synthesise" not in out
    assert "Next: kundresa info --db w.duckdb" in out
    status, out, err = in_terminal(RUN_CLI, "stitch", "--db", "w.duckdb", "--json", cwd=tmp_path)
    assert status == 0, err
    assert "stitch persons and sessions" in err
    assert json.loads(out)["persons"] > 0
    events = tmp_path / "w-synth" / "events.parquet"
    status, out, err = in_terminal(
        RUN_CLI, "ingest", str(events), "--db", "again.duckdb", "--json", cwd=tmp_path
    )
    assert status == 0, err
    assert "events.parquet" in err
    assert json.loads(out)["accepted"] > 0


def test_long_commands_are_quiet_when_piped(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return kundresa_cli(*args, cwd=tmp_path)

    done = run("synth", "--persons", "300", "--db", "w.duckdb")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.rstrip().endswith(
        'kundresa sql --db w.duckdb "select channel, count(*) from events group by 1"'
    )
    for args in (["stitch", "--json"], ["funnel", "Product Viewed", "Order Completed", "--json"]):
        done = run(*args, "--db", "w.duckdb")
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert json.loads(done.stdout)
