"""Bad input never costs valid events (issue 14), against a live ``kundresa serve`` on
127.0.0.1 and the real segment-analytics-python SDK: lone surrogates, deep nesting, gzip
members and trailers, an oversized call in a batch, amplification (calls per request, a
token bucket per write key), and the questionable values (object ids, white space, NUL,
zone offset +25:00). The fuzz corpus is tests/test_collector_fuzz.py.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests._collector_live import (
    basic,
    collector_stats,
    good,
    mid,
    post,
    quarantined,
    sql,
    stored,
)
from tests._server import LiveServer, create_key, wait_loaded

Live = tuple[LiveServer, str, str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("hostile") / "h.duckdb"
    write, read = create_key(db, "site"), create_key(db, "dash", "read")
    with LiveServer(db, extra=("--stitch-interval", "0.2")) as srv:
        yield srv, write, read


def test_a_lone_surrogate_escaped_in_json_is_quarantined_and_its_neighbours_stored(
    live: Live,
) -> None:
    srv, write, read = live
    ok, bad = mid("v"), mid("s")
    body = (
        '{"batch":[{"type":"track","event":"ok","userId":"u","messageId":"' + ok + '"},'
        '{"type":"track","event":"x\\ud800","userId":"u","messageId":"' + bad + '"}]}'
    ).encode()
    r = post(srv, write, "/v1/batch", body)
    assert r.status_code == 200, r.text  # was 500 UnicodeEncodeError, both events lost
    assert r.json() == {
        "success": True,
        "accepted": 1,
        "quarantined": 1,
        "reasons": {"invalid_unicode": 1},
    }
    assert stored(srv, read, [ok, bad]) == {ok: 1}
    (q,) = quarantined(srv, read, bad)
    assert (q["reason"], q["field"]) == ("invalid_unicode", "event")
    assert "\\ud800" in q["raw"]  # the call is kept, escaped
    assert "UTF-8" in q["detail"]


def test_the_real_segment_sdk_with_a_surrogateescape_file_name_loses_no_valid_event(
    live: Live,
) -> None:
    from segment.analytics.client import Client

    srv, write, read = live
    errors: list[Any] = []
    client = Client(
        write, host=srv.url, gzip=True, max_retries=2, on_error=lambda e, b: errors.append(e)
    )
    run = mid("sdk")
    ids = []
    for i in range(3):
        ok, msg = client.track(f"user-{run}", "Downloaded", {"n": i})
        assert ok
        ids.append(msg["messageId"])
    name = b"report-\xff.pdf".decode("utf-8", "surrogateescape")  # 'report-\udcff.pdf'
    ok, msg = client.track(f"user-{run}", "Downloaded", {"file": name})
    assert ok
    bad = msg["messageId"]
    client.flush()
    client.join()
    assert errors == []  # was: 500 on every retry, then the batch dropped
    assert stored(srv, read, [*ids, bad]) == dict.fromkeys(ids, 1)
    (q,) = quarantined(srv, read, bad)
    assert (q["reason"], q["field"]) == ("invalid_unicode", "properties.file")


def _nested(depth: int) -> str:
    return '{"a":' * depth + '"deep"' + "}" * depth


def _call_with(message_id: str, properties: str) -> bytes:
    return (json.dumps(good(message_id))[:-1] + ', "properties": ' + properties + "}").encode()


def test_deep_nesting_is_a_400_or_a_quarantined_call_never_a_500(live: Live) -> None:
    srv, write, read = live
    # the whole body nested 5,000 levels: one clear 400 (was 500 RecursionError)
    deep = ('{"batch":[' + '{"a":' * 5000 + "1" + "}" * 5000 + "]}").encode()
    r = post(srv, write, "/v1/batch", deep)
    assert r.status_code == 400
    assert r.json()["error"] == "too_deeply_nested"
    r = post(srv, write, "/v1/track", ("[" * 2000 + "]" * 2000).encode())
    assert (r.status_code, r.json()["error"]) == (400, "too_deeply_nested")
    # one call nested 1,000 levels inside a batch: quarantined; its neighbour and a call
    # nested 100 levels are stored
    ok, shallow, bad = mid("v"), mid("n"), mid("d")
    calls = [
        json.dumps(good(ok)).encode(),
        _call_with(shallow, _nested(100)),
        _call_with(bad, _nested(1000)),
    ]
    r = post(srv, write, "/v1/batch", b'{"batch": [' + b",".join(calls) + b"]}")
    assert r.status_code == 200, r.text
    assert r.json()["reasons"] == {"too_deeply_nested": 1}
    assert stored(srv, read, [ok, shallow, bad]) == {ok: 1, shallow: 1}
    assert [q["reason"] for q in quarantined(srv, read, bad)] == ["too_deeply_nested"]


def test_every_gzip_member_is_decoded_and_a_broken_stream_is_refused(live: Live) -> None:
    srv, write, read = live
    a, b = mid("g1"), mid("g2")
    # two members: their concatenation is one JSON text only if both are decoded
    body = gzip.compress(b'{"batch": [' + json.dumps(good(a)).encode() + b",")
    body += gzip.compress(json.dumps(good(b)).encode() + b"]}")
    r = post(srv, write, "/v1/batch", body, **{"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text  # was: the second member ignored
    assert stored(srv, read, [a, b]) == {a: 1, b: 1}
    # two members that are two JSON documents: not one JSON body -> 400, nothing stored
    c, d = mid("g3"), mid("g4")
    two = gzip.compress(json.dumps({"batch": [good(c)]}).encode())
    two += gzip.compress(json.dumps({"batch": [good(d)]}).encode())
    r = post(srv, write, "/v1/batch", two, **{"Content-Encoding": "gzip"})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_json")
    # trailing garbage, and a member without its CRC trailer: refused with the reason
    e, f = mid("g5"), mid("g6")
    for m, data, says in (
        (e, gzip.compress(json.dumps({"batch": [good(e)]}).encode()) + b"garbage", "after"),
        (f, gzip.compress(json.dumps({"batch": [good(f)]}).encode())[:-8], "truncated"),
    ):
        r = post(srv, write, "/v1/batch", data, **{"Content-Encoding": "gzip"})
        assert r.status_code == 400, (m, r.text)  # was: 200
        assert r.json()["error"] == "invalid_gzip"
        assert says in r.json()["detail"]
    assert stored(srv, read, [c, d, e, f]) == {}


def test_one_oversized_call_is_quarantined_and_the_others_stored(live: Live) -> None:
    srv, write, read = live
    ok1, big, ok2 = mid("v"), mid("big"), mid("v")
    batch = [good(ok1), good(big, properties={"blob": "x" * (33 * 1024)}), good(ok2)]
    r = post(srv, write, "/v1/batch", {"batch": batch})
    assert r.status_code == 200, r.text  # was: 400 event_too_large for all three
    assert r.json() == {
        "success": True,
        "accepted": 2,
        "quarantined": 1,
        "reasons": {"event_too_large": 1},
    }
    assert stored(srv, read, [ok1, big, ok2]) == {ok1: 1, ok2: 1}
    (q,) = quarantined(srv, read, big)
    assert q["reason"] == "event_too_large"
    assert "32 KB" in q["detail"]


def test_150000_empty_calls_are_refused_and_counted(live: Live) -> None:
    srv, write, read = live
    before = collector_stats(srv, read)
    body = ('{"batch":[' + ",".join(["{}"] * 150_000) + "]}").encode()
    assert len(body) < 500 * 1024
    r = post(srv, write, "/v1/batch", body)
    assert r.status_code == 400  # was: 200 and 150,000 inbox entries
    assert r.json()["error"] == "too_many_calls"
    assert r.json()["refused"] == 150_000
    assert "2,500" in r.json()["detail"]
    after = collector_stats(srv, read)
    assert after["pending_events"] == 0
    refused = after["refused"]["calls"].get("too_many_calls", 0)
    assert refused - before["refused"]["calls"].get("too_many_calls", 0) == 150_000
    assert after["limits"]["max_calls_per_batch"] == 2_500
    # 2,500 is allowed (and the invalid calls are quarantined by the ingest rules)
    r = post(srv, write, "/v1/batch", ('{"batch":[' + ",".join(["{}"] * 2500) + "]}").encode())
    assert r.status_code == 200


def test_questionable_values_are_refused_with_a_reason(live: Live) -> None:
    srv, write, read = live
    t = mid("q")
    cases = {
        "obj_user": ({"userId": {"id": 1}}, "invalid_field_type", "user_id"),
        "bool_event": ({"event": True}, "invalid_field_type", "event"),
        "list_anon": ({"userId": None, "anonymousId": ["a"]}, "invalid_field_type", "anonymous_id"),
        "nul_user": ({"userId": "u\x00x"}, "invalid_field_value", "user_id"),
        "nul_event": ({"event": "Viewed\x00Product"}, "invalid_field_value", "event"),
        "tab_anon": ({"userId": None, "anonymousId": "\t"}, "missing_identity", "anonymous_id"),
        "blank_event": ({"event": " \t "}, "missing_event_name", "event"),
        "tz25": ({"timestamp": "2026-01-05T10:00:00+25:00"}, "unparseable_timestamp", "ts"),
    }
    ids = {k: f"{t}-{k}" for k in cases}
    fine = {
        "tab_anon_with_user": f"{t}-tabuser",
        "tz14": f"{t}-tz14",
        "numeric_user": f"{t}-num",
    }
    batch = [good(ids[k], **extra) for k, (extra, _, _) in cases.items()]
    batch += [
        good(fine["tab_anon_with_user"], anonymousId="\t"),
        good(fine["tz14"], timestamp="2026-01-05T10:00:00+14:00"),
        good(fine["numeric_user"], userId=42),
    ]
    r = post(srv, write, "/v1/batch", {"batch": batch})
    assert r.status_code == 200, r.text
    rows = quarantined(srv, read, t)
    got = {
        next(k for k, i in ids.items() if i in q["raw"]): (q["reason"], q["field"]) for q in rows
    }
    assert got == {k: (reason, field) for k, (_, reason, field) in cases.items()}
    assert stored(srv, read, list(ids.values())) == {}
    assert stored(srv, read, list(fine.values())) == dict.fromkeys(fine.values(), 1)
    ev = sql(
        srv,
        read,
        f"SELECT event_id, anonymous_id, user_id, ts::VARCHAR AS ts FROM events "
        f"WHERE event_id LIKE '{t}-%' ORDER BY 1",
    )
    by = {e["event_id"]: e for e in ev}
    assert by[fine["tab_anon_with_user"]]["anonymous_id"] is None  # white space: absent
    assert by[fine["tz14"]]["ts"] == "2026-01-04 20:00:00"
    assert by[fine["numeric_user"]]["user_id"] == "42"


def test_a_flooding_key_gets_429_and_another_keys_requests_do_not(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    db = tmp_path_factory.mktemp("flood") / "f.duckdb"
    flood, other, read = (
        create_key(db, "public"),
        create_key(db, "app"),
        create_key(db, "r", "read"),
    )
    extra = ("--key-rate", "1000", "--key-burst", "2000", "--stitch-interval", "0.5")
    with LiveServer(db, extra=extra) as srv:
        stop = threading.Event()
        flood_codes: list[int] = []
        retry_after: set[str] = set()
        flood_accepted = 0

        def flooder() -> None:
            nonlocal flood_accepted
            tag = mid("f")  # the same 2,000 calls again and again (stored once)
            batch = [
                {"type": "track", "event": "F", "anonymousId": "f", "messageId": f"{tag}-{i}"}
                for i in range(2000)
            ]
            body = json.dumps({"batch": batch}).encode()
            with httpx.Client(headers=basic(flood), timeout=30) as c:
                while not stop.is_set():
                    r = c.post(srv.url + "/v1/batch", content=body)
                    flood_codes.append(r.status_code)
                    if r.status_code == 429:
                        retry_after.add(r.headers.get("retry-after", ""))
                    elif r.status_code == 200:
                        flood_accepted += len(batch)
                    time.sleep(0.01)

        threads = [threading.Thread(target=flooder, daemon=True) for _ in range(2)]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        other_codes: list[int] = []
        other_ids: list[str] = []
        with httpx.Client(headers=basic(other), timeout=30) as c:
            while time.monotonic() - t0 < 3:
                batch = [good(mid("o")) for _ in range(10)]
                r = c.post(srv.url + "/v1/batch", json={"batch": batch})
                other_codes.append(r.status_code)
                if r.status_code == 200:
                    other_ids += [b["messageId"] for b in batch]
                time.sleep(0.03)
        stop.set()
        for th in threads:
            th.join(timeout=30)
        elapsed = time.monotonic() - t0
        assert other_codes
        assert set(other_codes) == {200}, other_codes  # never pushed into 429
        assert 429 in flood_codes
        assert retry_after
        assert all(v.isdigit() and int(v) >= 1 for v in retry_after)
        # the flooder got about its rate: the burst + 1,000/s + one batch in debt per thread
        assert flood_accepted <= 2000 + 1000 * elapsed + 2 * 2000 + 2000
        st = collector_stats(srv, read)
        assert st["refused"]["requests"]["rate_limited"] == flood_codes.count(429)
        assert st["limits"]["key_rate"] == 1000
        assert stored(srv, read, other_ids) == dict.fromkeys(other_ids, 1)
        wait_loaded(srv.url, read, timeout=60)


def test_key_buckets_refill_forget_full_buckets_and_keep_keys_apart() -> None:
    from kundresa.server._limits import KeyBuckets

    now = [0.0]
    b = KeyBuckets(rate=100, burst=200, clock=lambda: now[0])
    assert b.take("flood", 2500) == 0.0  # admitted: the bucket had tokens, now in debt
    assert b.wait("flood") == pytest.approx(23.0)  # 2,300 calls of debt at 100/s
    assert b.take("flood", 1) == pytest.approx(23.0)
    assert b.wait("other") == 0.0
    now[0] = 23.5
    assert b.take("flood", 1) == 0.0  # paid back
    for i in range(100_001):
        b.take(f"k{i}", 1)
    now[0] = 100.0
    b.take("late", 1)  # full buckets are forgotten, the map stays bounded
    assert b.wait("flood") == 0.0
    assert len(b._tokens) <= 2
