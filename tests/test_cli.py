"""The CLI as a user runs it: a real subprocess, JSON keys, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .test_ingest import write_malformed_file


def run(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "kundresa.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_ingest_info_quarantine_json(tmp_path: Path) -> None:
    write_malformed_file(tmp_path / "mixed.jsonl")
    out = json.loads(run("ingest", "mixed.jsonl", "--json", cwd=tmp_path).stdout)
    assert {k: out[k] for k in ("accepted", "duplicates", "quarantined")} == {
        "accepted": 863,
        "duplicates": 0,
        "quarantined": 137,
    }
    assert (tmp_path / "kundresa.duckdb").exists()  # the default workspace file
    info = json.loads(run("info", "--json", cwd=tmp_path).stdout)
    assert {"events", "persons", "sessions", "channels", "merged_persons"} <= set(info)
    assert info["events"] == 863
    q = json.loads(run("quarantine", "--json", "--reason", "invalid_json", cwd=tmp_path).stdout)
    assert q["total"] == 137
    assert all(r["reason"] == "invalid_json" for r in q["rows"])
    again = json.loads(run("ingest", "mixed.jsonl", "--json", cwd=tmp_path).stdout)
    assert again["accepted"] == 0
    rows = json.loads(run("sql", "select count(*) as n from events", "--json", cwd=tmp_path).stdout)
    assert rows == [{"n": 863}]
    text = run("info", "--db", "kundresa.duckdb", cwd=tmp_path).stdout
    assert "persons" in text
    assert "channels" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "nope.csv"], "nope.csv: no such file"),
        (["info", "--engine", "oracle"], "engine: 'oracle' is not allowed; use one of: duckdb"),
        (["quarantine", "--reason", "invalid_jsn"], "did you mean: invalid_json"),
        (["stitch", "--session-gap", "5x"], "--session-gap: '5x' is not allowed"),
        (["ingest", "m.jsonl", "--column", "ts"], "write CANONICAL=COLUMN"),
        (["sql", "select * from nowhere"], "query: Catalog Error: Table with name nowhere"),
        (["sql", "select (select 1 union all select 2)"], "query: Invalid Input Error: More than"),
    ],
)
def test_user_errors_are_one_line_with_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    write_malformed_file(tmp_path / "m.jsonl", total=20, bad=3)
    run("ingest", "m.jsonl", cwd=tmp_path)
    proc = run(*args, cwd=tmp_path, ok=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_failed_ingest_creates_no_workspace(tmp_path: Path) -> None:
    """Issue 22, defect 4: ``kundresa ingest missing.csv`` is exit 2 with one line, and no
    workspace file appears (it used to create an empty ``kundresa.duckdb``); a directory
    named like a file is refused the same way."""
    (tmp_path / "d.csv").mkdir()
    for name, message in (("missing.csv", "missing.csv: no such file"),
                          ("d.csv", "d.csv: is a directory")):  # fmt: skip
        proc = run("ingest", name, cwd=tmp_path, ok=False)
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "kundresa.duckdb").exists()


def test_sql_says_what_is_wrong_and_creates_no_workspace(tmp_path: Path) -> None:
    """Issue 22: ``kundresa sql`` worded every error "is not allowed" (a missing table, a
    scalar-subquery error) and created a workspace when there was none."""
    proc = run("sql", "select 1", "--db", "none.duckdb", cwd=tmp_path, ok=False)
    assert proc.returncode == 2, proc.stderr
    assert "workspace: 'none.duckdb' not found" in proc.stderr
    assert not (tmp_path / "none.duckdb").exists()
    write_malformed_file(tmp_path / "m.jsonl", total=20, bad=3)
    run("ingest", "m.jsonl", cwd=tmp_path)
    proc = run("sql", "select * from nowhere", cwd=tmp_path, ok=False)
    assert "is not allowed" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_spark_without_java_says_so(tmp_path: Path) -> None:
    """No Java: a clear one-line error naming the fix, not a JVM stack trace."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(Path(sys.executable).parent)  # python, but no java
    proc = subprocess.run(
        [sys.executable, "-m", "kundresa.cli", "info", "--engine", "spark"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "engine 'spark' cannot start: java not found" in proc.stderr
    assert "openjdk-17" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_synth_writes_beside_the_workspace(tmp_path: Path) -> None:
    """``kundresa synth --db DIR/ws.duckdb`` run from another folder writes its files to
    ``DIR/ws-synth/``, not into ``./synth`` of the folder it runs in (a second run elsewhere
    overwrote truth.json), and prints what demo prints."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    db = tmp_path / "lake" / "ws.duckdb"
    proc = run("synth", "--persons", "200", "--seed", "3", "--db", str(db), cwd=elsewhere)
    assert (tmp_path / "lake" / "ws-synth" / "truth.json").exists()
    assert not any(elsewhere.iterdir())
    assert "accepted" in proc.stdout
    assert "persons" in proc.stdout


def test_synth_json(tmp_path: Path) -> None:
    """``kundresa synth --json`` prints JSON (its paths as strings; it crashed on PosixPath)."""
    proc = run(
        "synth", "--persons", "50", "--db", str(tmp_path / "w.duckdb"), "--json", cwd=tmp_path
    )
    out = json.loads(proc.stdout)
    assert out["synth"]["persons"] == 50
    assert Path(out["synth"]["truth_path"]).exists()
