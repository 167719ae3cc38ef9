"""The CLI beside a running server (issue 13 point 9, ADR 0012), as a user runs it: a real
``kundresa serve`` on a synthetic workspace (tests/_server.py) and real ``kundresa`` commands
in subprocesses. Read commands answer through the server with the same output as with the
server stopped; writes print one line naming the server's PID and URL and exit 2; no command
ever prints a traceback."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kundresa import Workspace
from kundresa._beside import running_server, server_file
from kundresa.synth import synthesize
from tests._server import LiveServer, create_key
from tests.test_contract import _strip

STEPS = ("Product Viewed", "Product Added", "Order Completed")
RUN_METADATA = {"seconds", "engine", "kernel"}


def kundresa(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``kundresa ARGS`` in a subprocess (no KUNDRESA_DB: every call names --db)."""
    env = {**{k: v for k, v in os.environ.items() if k != "KUNDRESA_DB"}, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "kundresa.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        cwd=cwd,
    )


strip = _strip  # the run metadata (seconds, engine, kernel) left out, as the contract test does


def timeless(text: str) -> str:
    """Text output without its run time (``(fast kernel, 1.16 s)``)."""
    return re.sub(r"\d+(\.\d+)? s\)", "T s)", text)


def one_line_error(res: subprocess.CompletedProcess[str]) -> str:
    """The single ``error:`` line of a refused command (exit 2, no traceback)."""
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: "), res.stderr
    return lines[0]


#: the commands compared with and without the server: (name, args)
READS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("info", ("info",)),
    ("info-json", ("info", "--json")),
    ("funnel", ("funnel", *STEPS, "--window", "3d")),
    ("funnel-json", ("funnel", *STEPS, "--window", "3d", "--json")),
    ("drop-off-ids", ("funnel", *STEPS, "--drop-off-ids", "2")),
    (
        "attribution-json",
        ("attribution", "--conversion", "Order Completed", "--model", "markov,linear", "--json"),
    ),
    ("quarantine", ("quarantine",)),
    ("sql", ("sql", "select count(*) as n, min(ts) as first from events")),
    (
        "sql-json",
        ("sql", "select event, count(*) as n from events group by 1 order by 1", "--json"),
    ),
    ("sql-limit", ("sql", "select event_id from events order by event_id", "--limit", "3")),
)


@dataclass
class Served:
    db: Path
    root: Path
    plan: Path
    server: LiveServer
    local: dict[str, Ran]
    local_out: dict[str, bytes]


@dataclass
class Ran:
    """What a command printed (CliRunner's or a subprocess' result, alike)."""

    returncode: int
    stdout: str
    stderr: str


def in_process(*args: str) -> Ran:
    """``kundresa ARGS`` in this process (the baseline with no server: faster to start)."""
    from typer.testing import CliRunner

    from kundresa.cli import app

    res = CliRunner().invoke(app, list(args))
    return Ran(res.exit_code, res.stdout, res.stderr)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A workspace, every READS command's output with no server, then a running server."""
    from kundresa._contract import get

    root = tmp_path_factory.mktemp("beside")
    made = synthesize(persons=500, seed=5, out=root / "synth")
    db = root / "shop.duckdb"
    plan = root / "plan.yaml"
    with Workspace.open(db) as ws:
        ws.ingest([made.events_path])
        d = get("map-discover").compute(ws, get("map-discover").validate({"stages": 3}))
    d.save(plan)  # type: ignore[attr-defined]
    local = {name: in_process(*args, "--db", str(db)) for name, args in READS}
    local["map-measure"] = in_process("map", "measure", str(plan), "--db", str(db), "--json")
    for name, res in local.items():
        assert res.returncode == 0, (name, res.stderr)
    local_out: dict[str, bytes] = {}
    for suffix in (".csv", ".json"):
        out = root / f"local{suffix}"
        res = in_process("funnel", *STEPS, "--db", str(db), "--out", str(out))
        assert res.returncode == 0, res.stderr
        local_out[suffix] = out.read_bytes()
        local[f"out{suffix}"] = res
    server = LiveServer(db, extra=("--map", str(plan))).start()
    try:
        yield Served(db, root, plan, server, local, local_out)
    finally:
        server.stop()


def test_the_server_file_is_private_and_names_pid_and_url(served: Served) -> None:
    path = server_file(served.db)
    assert path.name == "shop.duckdb.server.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert served.server.proc is not None
    assert data["pid"] == served.server.proc.pid
    assert data["url"] == served.server.url
    assert data["token"].startswith("kl_")
    assert len(data["token"]) > 40
    assert data["maps"] == {"plan": str(served.plan.resolve())}


@pytest.mark.parametrize("name", [n for n, _ in READS])
def test_read_commands_answer_through_the_server_as_without_it(served: Served, name: str) -> None:
    args = dict(READS)[name]
    res = kundresa(*args, "--db", str(served.db))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    before = served.local[name].stdout
    if "--json" in args:
        assert strip(json.loads(res.stdout)) == strip(json.loads(before))
    else:
        assert timeless(res.stdout) == timeless(before)


def test_an_http_proxy_in_the_environment_is_not_used(served: Served) -> None:
    proxy = "http://127.0.0.1:9"
    res = kundresa("info", "--db", str(served.db), env={"HTTP_PROXY": proxy, "http_proxy": proxy})
    assert res.returncode == 0, res.stderr
    assert res.stdout == served.local["info"].stdout


def test_a_journey_map_is_named_by_its_file(served: Served) -> None:
    """``map measure FILE`` sends the name of the map the server loaded from FILE."""
    res = kundresa("map", "measure", str(served.plan), "--db", str(served.db), "--json")
    assert res.returncode == 0, res.stderr
    assert strip(json.loads(res.stdout)) == strip(json.loads(served.local["map-measure"].stdout))
    other = served.root / "other.yaml"
    other.write_bytes(served.plan.read_bytes())
    res = kundresa("map", "measure", str(other), "--db", str(served.db))
    line = one_line_error(res)
    assert "did not load the map" in line
    assert f"--map {other}" in line


def test_out_files_are_written_as_without_the_server(served: Served) -> None:
    for suffix in (".csv", ".json"):
        out = served.root / f"served{suffix}"
        res = kundresa("funnel", *STEPS, "--db", str(served.db), "--out", str(out))
        assert res.returncode == 0, res.stderr
        assert f"wrote {out}" in res.stderr
        assert timeless(res.stdout) == timeless(served.local[f"out{suffix}"].stdout)
        if suffix == ".json":
            got = strip(json.loads(out.read_bytes()))
            assert got == strip(json.loads(served.local_out[suffix]))
        else:
            assert out.read_bytes() == served.local_out[suffix]


def test_sql_that_writes_is_refused_in_one_line(served: Served) -> None:
    for query in ("delete from events", "select 1; delete from events", "drop table events"):
        line = one_line_error(kundresa("sql", query, "--db", str(served.db)))
        assert "SELECT" in line, line
    count = kundresa("sql", "select count(*) as n from events", "--db", str(served.db), "--json")
    assert json.loads(count.stdout) == [
        {"n": json.loads(served.local["info-json"].stdout)["events"]}
    ]
    line = one_line_error(kundresa("sql", "select * from nowhere", "--db", str(served.db)))
    assert "nowhere" in line


@pytest.mark.parametrize(
    ("args", "advice"),
    [
        (("ingest", "events.parquet"), "/v1/batch"),
        (("stitch",), "stop the server"),
        (("synth", "--persons", "10"), "stop the server"),
        (("serve", "--port", "1"), "already served"),
    ],
)
def test_writes_print_one_line_with_pid_and_url(
    served: Served, args: tuple[str, ...], advice: str
) -> None:
    res = kundresa(*args, "--db", str(served.db), cwd=served.root)
    line = one_line_error(res)
    assert served.server.proc is not None
    assert f"PID {served.server.proc.pid}" in line, line
    assert served.server.url in line, line
    assert advice in line, line
    assert res.stdout == ""


def test_keys_create_works_while_serving(served: Served) -> None:
    """Keys live in the SQLite state file, not in the workspace: no refusal."""
    res = kundresa("keys", "create", "--name", "beside", "--kind", "read", "--db", str(served.db))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().startswith("kr_")


def test_rest_sql_needs_a_read_credential_and_reads_only_tables(served: Served) -> None:
    url = served.server.url + "/api/v1/sql"
    body = {"query": "select count(*) as n from events"}
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers=_bearer("kl_" + "x" * 43)).status_code == 401
    key = create_key(served.db, "sql-reader", "read")
    r = httpx.post(url, json={**body, "limit": 1}, headers=_bearer(key))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["columns"] == ["n"]
    assert got["row_count"] == 1
    assert got["rows"][0]["n"] > 0
    for query in ("select * from read_csv('/etc/passwd')", "select * from '/etc/passwd'"):
        r = httpx.post(url, json={"query": query}, headers=_bearer(key))
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_request", r.text
    r = httpx.post(url, json={"query": "update events set event = 'x'"}, headers=_bearer(key))
    assert r.status_code == 400
    assert "UPDATE" in r.json()["detail"]
    token = json.loads(server_file(served.db).read_text())["token"]
    text = httpx.post(url, json=body, headers={**_bearer(token), "Accept": "text/plain"})
    assert text.status_code == 200
    assert text.text.split()[0] == "n"
    # the local token reads analyses too, but is not a write key
    assert httpx.get(served.server.url + "/api/v1/info", headers=_bearer(token)).status_code == 200
    browser = {**_bearer(token), "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = httpx.get(served.server.url + "/api/v1/info", headers=browser)
    assert r.headers["content-type"].startswith("application/json")  # a browser gets JSON
    r = httpx.get(served.server.url + "/api/v1/info", headers={**browser, "Accept": "text/plain"})
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == served.local["info"].stdout.rstrip("\n")
    batch = {"batch": [{"type": "track", "event": "x", "userId": "u"}]}
    r = httpx.post(served.server.url + "/v1/batch", json=batch, headers=_bearer(token))
    assert r.status_code == 401


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_killed_server_leaves_a_stale_file_that_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest([synthesize(persons=50, seed=2, out=tmp_path / "synth").events_path])
    server = LiveServer(db).start()
    try:
        assert running_server(db) is not None
        assert kundresa("info", "--db", str(db)).returncode == 0  # through the server
        server.kill()
        assert server_file(db).exists()  # SIGKILL: nothing removed it
        res = kundresa("info", "--db", str(db), "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["events"] > 0
        assert not server_file(db).exists()  # the stale file is gone
        # a file whose PID is alive but which serves nothing (PID reused): ignored, removed
        server_file(db).write_text(
            json.dumps({"pid": 1, "url": "http://127.0.0.1:9", "token": "kl_x"})
        )
        res = kundresa("sql", "select 1 as one", "--db", str(db), "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout) == [{"one": 1}]
        assert not server_file(db).exists()
    finally:
        server.stop()


def test_a_clean_stop_removes_the_file(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    server = LiveServer(db).start()
    assert server_file(db).exists()
    server.stop()
    assert not server_file(db).exists()
    assert kundresa("info", "--db", str(db)).returncode == 0


def test_a_lock_held_by_another_process_is_one_line_with_its_pid(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    Workspace.open(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); "
         "print('ok', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ok"
        for args in (("info",), ("forget", "u-1"), ("sql", "select 1"), ("serve", "--port", "1")):
            line = one_line_error(kundresa(*args, "--db", str(db)))
            assert f"PID {holder.pid}" in line, line
            assert "another process" in line, line
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and kundresa("info", "--db", str(db)).returncode != 0:
        time.sleep(0.2)
    assert kundresa("info", "--db", str(db)).returncode == 0


def test_a_server_still_starting_is_named_once_it_listens(tmp_path: Path) -> None:
    """The lock is taken before the server listens (and writes its file): a command in that
    window waits for the file and names the server instead of "another process"."""
    db = tmp_path / "w.duckdb"
    Workspace.open(db).close()
    code = (
        "import duckdb, sys, time; from kundresa._beside import write_server_file; "
        f"c = duckdb.connect({str(db)!r}); print('locked', flush=True); time.sleep(2); "
        f"write_server_file({str(db)!r}, url='http://127.0.0.1:9', token='kl_t', "
        "engine='duckdb'); time.sleep(120)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, "kundresa", "serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        line = one_line_error(kundresa("forget", "u-1", "--db", str(db)))
        assert f"kundresa serve (PID {holder.pid}, http://127.0.0.1:9)" in line, line
        assert "was starting" in line or "holds it" in line, line
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_png_is_drawn_by_the_server_and_written_by_the_cli(served: Served) -> None:
    """``--out x.png`` beside a server: the server draws the page (its one code path,
    write_result, as for every other --out suffix) and the CLI writes the bytes; an unknown
    suffix is one line naming the formats."""
    from tests._images import require_chromium
    from tests.test_results_png import _colours, _png_size

    require_chromium()
    out = served.root / "served.png"
    res = kundresa("funnel", *STEPS, "--db", str(served.db), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert f"wrote {out}" in res.stderr
    width, height = _png_size(out.read_bytes())
    assert width >= 600, width
    assert height >= 300, height
    count, coloured = _colours(out)
    assert count > 100
    assert coloured * width * height > 2_000  # the funnel's bars drawn
    bad = served.root / "served.xlsx"
    line = one_line_error(kundresa("funnel", *STEPS, "--db", str(served.db), "--out", str(bad)))
    assert "is not allowed; use one of: .csv, .parquet, .json, .html, .png" in line, line
    assert not bad.exists()
