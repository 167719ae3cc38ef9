"""The collector stores no raw personal data (issue 14): not in its SQLite inbox (nor the
inbox's WAL), not in quarantined calls, not in the DuckDB file.

A real server receives calls holding every shape of the tester's finding (nested and
differently spelled e-mail keys, a page URL's ``?email=``, free text, a person's name and
address) with Segment's ``context.ip`` and ``context.userAgent``, one call the collector
itself refuses (too large) and one the loader quarantines (no event name). After the
server has loaded them and stopped, every file in the workspace folder is searched for
each raw value; a control value shows the search finds stored text.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import httpx

from tests._server import LiveServer, create_key, wait_loaded
from tests.test_pii import CONTROL, _remains, calls, needles


def test_collector_and_loader_store_no_raw_personal_data(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    write = create_key(db, "site")
    read = create_key(db, "dash", kind="read")
    batch = calls()
    too_large = {
        **batch[2],
        "messageId": "m-large",
        "properties": {**batch[2]["properties"], "padding": "x" * 40_000},
    }
    server = LiveServer(db).start()
    try:
        got = httpx.post(
            server.url + "/v1/batch", json={"batch": [*batch, too_large]}, auth=(write, "")
        )
        assert got.status_code == 200, got.text
        assert got.json()["reasons"] == {"event_too_large": 1}
        # a single call, with the shared context sent by the SDK
        one = {**batch[2], "messageId": "m-single"}
        assert httpx.post(server.url + "/v1/track", json=one, auth=(write, "")).status_code == 200
        stats = wait_loaded(server.url, read)
        assert stats["loader"]["accepted"] == 5, stats
        assert stats["loader"]["reasons"] == {"event_too_large": 1, "missing_event_name": 1}
        running = _remains(sorted(tmp_path.iterdir()), needles())
    finally:
        server.stop()
    assert not running, f"raw personal data while serving: {running}"
    files = sorted(f for f in tmp_path.iterdir() if f.is_file())
    assert {"k.duckdb", "k.duckdb.server.sqlite"} <= {f.name for f in files}
    found = _remains(files, needles())
    assert not found, f"raw personal data stored: {found}"
    assert _remains([db], list(CONTROL)) == {db.name: list(CONTROL)}

    con = duckdb.connect(str(db), read_only=True)
    try:
        raws = [json.loads(r[0]) for r in con.execute("SELECT raw FROM quarantine").fetchall()]
        props = con.execute("SELECT properties FROM events WHERE event_id = 'm-track'").fetchone()
    finally:
        con.close()
    # what analyses need of context is kept; the rest is not stored anywhere
    assert {tuple(r.get("context", {})) for r in raws} == {("page",)}
    assert props is not None
    stored = json.loads(props[0])
    assert stored["product_name"] == CONTROL[0]
    assert "name" not in stored["customer"]
    assert len(stored["customer"]["email"]) == 32
