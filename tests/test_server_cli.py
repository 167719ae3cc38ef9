"""``kundresa keys`` and ``kundresa users`` as a user runs them (real subprocesses): the key is
printed once and stored hashed; mistakes are one ``error:`` line with exit status 2."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from kundresa.server._state import ServerState, state_path


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "kundresa.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    made = run("keys", "create", "--name", "website", "--db", "shop.duckdb", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("kw_")
    assert len(token) > 30
    assert "shown only now" in made.stderr
    read = run("keys", "create", "--name", "dash", "--kind", "read", "--json", "--db",
               "shop.duckdb", cwd=tmp_path)  # fmt: skip
    assert json.loads(read.stdout)["key"].startswith("kr_")
    # stored hashed: the secret appears nowhere in the state file
    db = state_path(tmp_path / "shop.duckdb")
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert token not in dump
    st = ServerState(db)
    key = st.check_key(token, "write")
    assert key is not None
    assert key.name == "website"
    listed = json.loads(run("keys", "list", "--json", "--db", "shop.duckdb", cwd=tmp_path).stdout)
    # newest first (same second: by name)
    assert [(k["name"], k["kind"], k["active"]) for k in listed] == [
        ("dash", "read", True),
        ("website", "write", True),
    ]
    gone = run("keys", "revoke", "website", "--db", "shop.duckdb", cwd=tmp_path)
    assert gone.returncode == 0
    assert "revoked write key 'website'" in gone.stdout
    assert ServerState(db).check_key(token, "write") is None


def test_mistakes_are_one_error_line_and_exit_2(tmp_path: Path) -> None:
    bad_kind = run("keys", "create", "--name", "x", "--kind", "admin", cwd=tmp_path)
    assert bad_kind.returncode == 2
    assert bad_kind.stderr.startswith("error: kind: 'admin'")
    assert "write, read" in bad_kind.stderr
    assert "Traceback" not in bad_kind.stderr
    unknown = run("keys", "revoke", "nope", cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: key: 'nope' not found")
    short = run("users", "set", "anna", "--password", "short", cwd=tmp_path)
    assert short.returncode == 2
    assert "8 characters" in short.stderr


def test_users_set_list_delete(tmp_path: Path) -> None:
    ok = run("users", "set", "anna", cwd=tmp_path, env={"KUNDRESA_PASSWORD": "long enough pw"})
    assert ok.returncode == 0, ok.stderr
    assert run("users", "list", cwd=tmp_path).stdout.split() == ["anna"]
    st = ServerState(state_path(tmp_path / "kundresa.duckdb"))
    assert st.login("anna", "long enough pw") is not None
    assert st.login("anna", "wrong password") is None
    stored = st.con().execute("SELECT pw_hash FROM users").fetchone()[0]
    assert stored.startswith("scrypt$")
    assert "long enough pw" not in stored
    assert run("users", "delete", "anna", cwd=tmp_path).returncode == 0
    assert run("users", "list", cwd=tmp_path).stdout.split() == []
