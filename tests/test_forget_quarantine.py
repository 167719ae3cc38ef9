"""Forget and the quarantine (issue 14): a forgotten person's raw calls are not kept there.

The quarantine keeps raw calls, so it holds identifiers in clear: an e-mail the event store
knows only as a salted hash, a call refused by the collector (over 32 KB, a lone surrogate).
``kundresa forget`` (through a running server) must erase every quarantined row of the
person, also one that carries only their raw e-mail; and the person's refused calls sent
after the forget must not be quarantined (kept raw) again. Another person's quarantined rows
stay. Raw JSON bodies (httpx), since an SDK does not send such calls.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import httpx

from tests._server import LiveServer, create_key, remains, wait_loaded

Q = {
    "userId": "q-user-quar-5m2k",
    "anonymousId": "q-anon-quar-2p7w",
    "email": "q.quarantine@example.org",
    "phone": "+46703334455",
}
TS = "2026-11-02T10:00:00Z"


def refused_and_bad(person: dict[str, str], tag: str) -> list[str]:
    """Calls the collector or the loader quarantine, as raw JSON texts: one over 32 KB, one
    with a lone surrogate, an identify with only the (raw, mixed-case) e-mail and a bad
    timestamp."""
    big = {
        "type": "track",
        "event": "Big",
        "userId": person["userId"],
        "messageId": f"{tag}-big",
        "timestamp": TS,
        "properties": {"blob": "x" * 40_000},
    }
    lone = json.dumps(
        {
            "type": "track",
            "event": "Upload",
            "anonymousId": person["anonymousId"],
            "messageId": f"{tag}-lone",
            "timestamp": TS,
            "properties": {"file": "@@LONE@@"},
        }
    ).replace("@@LONE@@", "\\ud800")
    shouted = " " + person["email"].title() + " "
    bad_ts = {
        "type": "identify",
        "traits": {"email": shouted},
        "messageId": f"{tag}-badts",
        "timestamp": "yesterday-ish",
    }
    return [json.dumps(big), lone, json.dumps(bad_ts)]


def post(url: str, key: str, calls: list[str]) -> dict[str, Any]:
    body = '{"batch": [' + ", ".join(calls) + "]}"
    r = httpx.post(
        url + "/v1/batch",
        content=body.encode(),
        auth=(key, ""),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def quarantine_rows(db: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute("SELECT reason, raw FROM quarantine").fetchall()
        return [(str(a), str(b)) for a, b in got]
    finally:
        con.close()


def test_forget_erases_the_persons_quarantined_calls_and_keeps_none_later(tmp_path: Path) -> None:
    db = tmp_path / "q.duckdb"
    write, read = create_key(db, "site"), create_key(db, "api", "read")
    r = {k: v.replace("q", "r", 1) for k, v in Q.items()}
    r["phone"] = "+46706667788"
    identify = {
        "type": "identify",
        "userId": Q["userId"],
        "anonymousId": Q["anonymousId"],
        "traits": {"email": Q["email"], "phone": Q["phone"]},
        "messageId": "q-identify",
        "timestamp": TS,
    }
    r_identify = {**identify, "userId": r["userId"], "anonymousId": r["anonymousId"]}
    r_identify.update(traits={"email": r["email"]}, messageId="r-identify")
    srv = LiveServer(db, extra=("--stitch-interval", "0.3")).start()
    try:
        first = [json.dumps(identify), json.dumps(r_identify)]
        first += refused_and_bad(Q, "q1") + refused_and_bad(r, "r1")
        answer = post(srv.url, write, first)
        assert answer["quarantined"] == 4, answer  # two calls per person refused at the door
        wait_loaded(srv.url, read)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "kundresa.cli",
                "forget",
                Q["userId"],
                "--db",
                str(db),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["events"] == 1, report
        # the big call, the lone surrogate, and the identify known only by its raw e-mail
        assert report["quarantined"] == 3, report
        # after the forget: the person's refused calls are dropped at the door, R's kept
        again = refused_and_bad(Q, "q2") + refused_and_bad(r, "r2")[:1]
        assert post(srv.url, write, again)["quarantined"] == 1
        stats = wait_loaded(srv.url, read)
        assert stats["forgotten_calls"] == 3, stats
    finally:
        srv.stop()
    rows = quarantine_rows(db)
    assert sorted(reason for reason, _ in rows) == [
        "event_too_large",
        "event_too_large",
        "invalid_unicode",
        "unparseable_timestamp",
    ]
    # R's rows: by id, or (the identify known only by its e-mail, which the personal-data
    # rules hash before the inbox) by its messageId
    assert all(
        r["userId"] in raw or r["anonymousId"] in raw or '"r1-badts"' in raw for _, raw in rows
    )
    shouted = Q["email"].title()
    ids = [f"{t}-{k}" for t in ("q1", "q2") for k in ("big", "lone", "badts")]
    needles = [*Q.values(), shouted, *ids, "q-identify"]
    assert remains(tmp_path, needles) == {}, "raw bytes of the forgotten person remain"
    assert r["userId"].encode() in db.read_bytes()  # the search itself can find an id
