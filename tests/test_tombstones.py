"""The collector's tombstone check derives exactly the identifier keys the ingest SQL derives.

The collector drops a forgotten person's calls before writing them (``server._tombstones``),
computing their identifier keys in Python; the loader computes them in DuckDB SQL
(``_ingest_sql``). If the two drift apart (a new path, another normalisation), a forgotten
person's call would be written raw to the inbox again: this compares both on varied calls.
And ``Workspace.forget`` on unstitched events (what a server's drained inbox leaves).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from kundresa._ingest import _Processor
from kundresa._ingest_sql import DEFAULT_IDENTIFIERS
from kundresa.server._tombstones import Tombstones, call_keys, tombstone

SALT = "salt-7"
TS = "2026-01-05T10:00:00Z"
CALLS: list[dict[str, object]] = [
    {"type": "track", "event": "A", "userId": "u-1", "anonymousId": "a-1", "timestamp": TS},
    {"type": "identify", "userId": " u-2\t", "traits": {"email": " Bo@Example.SE "}},
    {
        "type": "track",
        "event": "A",
        "anonymousId": "a-3",
        "context": {"traits": {"phone": "+46 70-1"}},
    },
    {"type": "track", "event": "A", "user_id": 12345, "properties": {"email": "x@y.se"}},
    {"type": "page", "anonymous_id": "a-5", "email": "TOP@level.se", "traits": {"email": "t@x"}},
    {"type": "alias", "userId": "u-6", "previousId": "a-6"},
    {"type": "track", "event": "A", "userId": "\t", "anonymousId": "", "traits": {"email": ""}},
    {"type": "identify", "userId": "åsa-7", "traits": {"email": "ÅSA@exempel.se", "phone": 4670}},
    {"type": "track", "event": "A", "traits": "not an object", "anonymousId": 7.5},
    {"type": "identify", "userId": True, "traits": {"loyalty_card": " L-9 ", "customer_number": 9}},
    {"event": "no type", "anonymousId": "a-11", "properties": {"phone": "070 12 34"}},
    {"type": "Alias", "userId": "u-12", "previous_id": "a-12"},
]


def sql_keys(calls: list[dict[str, object]]) -> list[list[str]]:
    proc = _Processor(identifiers=DEFAULT_IDENTIFIERS, salt=SALT)
    try:
        lines = [json.dumps(c, ensure_ascii=False) for c in calls]
        chunk = pa.table({"_row": list(range(len(lines))), "_line": lines})
        proc.stage_json(chunk, "test")
        rows = proc.con.execute(
            "SELECT _row, coalesce(_keys, []), _alias_key FROM staged ORDER BY _row"
        ).fetchall()
    finally:
        proc.close()
    return [[*keys, *([alias] if alias else [])] for _, keys, alias in rows]


def test_python_keys_are_the_ingest_sql_keys() -> None:
    expected = sql_keys(CALLS)
    got = [call_keys(c, DEFAULT_IDENTIFIERS, SALT) for c in CALLS]
    assert got == expected
    assert any(len(k) >= 3 for k in got)  # the comparison covers several keys per call


def test_a_tombstoned_key_drops_the_call_and_nothing_else() -> None:
    email_key = call_keys({"traits": {"email": "bo@example.se"}}, DEFAULT_IDENTIFIERS, SALT)[0]
    t = Tombstones(SALT, DEFAULT_IDENTIFIERS, {tombstone(SALT, email_key)})
    kept = t.drop(CALLS)
    assert CALLS[1] not in kept  # " Bo@Example.SE " normalises to the tombstoned e-mail
    assert len(kept) == len(CALLS) - 1
    assert t.dropped == 1
    lone = {"type": "track", "event": "A", "userId": "u-\ud800", "anonymousId": "a-1"}
    assert not t.forgotten(lone)  # a lone surrogate hashes (and matches nothing)


def test_forget_finds_unstitched_events_and_keeps_everyone_elses(tmp_path: Path) -> None:
    """Events loaded but not stitched yet (a server's drained inbox): ``forget`` used to
    miss the person's and delete everybody else's (``person_id != p`` is NULL for them)."""
    from kundresa import Workspace

    stitched, later = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    rows = [
        {"type": "identify", "userId": "u-p", "anonymousId": "a-p", "timestamp": TS},
        {"type": "identify", "userId": "u-o", "anonymousId": "a-o", "timestamp": TS},
    ]
    stitched.write_text("\n".join(json.dumps(r) for r in rows))
    new = [
        {"type": "page", "anonymousId": "a-p2", "messageId": "p-1", "timestamp": TS},
        {"type": "identify", "userId": "u-p", "anonymousId": "a-p2", "messageId": "p-2"},
        {"type": "page", "anonymousId": "a-o", "messageId": "o-1", "timestamp": TS},
    ]
    later.write_text("\n".join(json.dumps({"timestamp": TS, **r}) for r in new))
    ws = Workspace.open(str(tmp_path / "w.duckdb"))
    ws.ingest([stitched])
    ws.ingest([later], stitch=False)
    result = ws.forget("u-p")
    assert result.events == 3  # the first identify, the new device's page and identify
    ev = ws.table("events")
    left = ws.store.fetch(ev.select("event_id", "user_id", "anonymous_id")).to_pylist()
    ws.close()
    assert sorted(str(r["anonymous_id"]) for r in left) == ["a-o", "a-o"]
