"""A fuzz corpus of hostile collector requests (issue 14), sent to a live server on
127.0.0.1: malformed JSON, wrong types, huge values, bad encodings, bad gzip, wrong content
types, missing and bad auth, on every endpoint, with valid calls mixed in. Deterministic
(seeded). Afterwards: no 5xx, the server alive, every valid call of an accepted request
stored exactly once (by messageId), every invalid call quarantined with the expected
reason and not stored, every refused request answered 4xx with its reason and the number
of its calls (when its body could be read), and the server's counters agree.
"""

from __future__ import annotations

import gzip
import json
import random
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests._collector_live import basic, collector_stats, quarantined, sql
from tests._server import LiveServer, create_key

SEED = 14
REQUESTS = 300
SINGLE = ("track", "identify", "page", "screen", "group", "alias")
SHORT = {"track": "t", "identify": "i", "page": "p", "screen": "s", "group": "g", "alias": "a"}


def valid_call(kind: str, m: str, rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "messageId": m, "timestamp": "2026-01-05T10:00:00Z"}
    who = rng.choice(("user", "anon", "both"))
    if who in ("user", "both") or kind in ("identify", "group", "alias"):
        body["userId"] = "u-" + m
    if who in ("anon", "both"):
        body["anonymousId"] = "a-" + m
    if kind == "track":
        body["event"] = rng.choice(("Viewed Product", "Order Completed", "Köp ✓", "x" * 2000))
        body["properties"] = rng.choice(
            (
                {"sku": "A1"},
                {"revenue": 499, "currency": "SEK"},
                {"big": 10**30},  # beyond 64 bits: the stdlib serialises it
                {"emoji": "🛒", "rtl": "مرحبا", "combining": "e\u0301"},
                {"nested": {"a": [1, {"b": None}]}},
                {"nul": "a\x00b", "k\x00": 1, "ctl": "\x01\x1f\x7f"},  # NUL in properties: kept
            )
        )
    if kind == "alias":
        body["previousId"] = "a-" + m
    if kind == "group":
        body["groupId"] = "g-" + m
    if kind in ("page", "screen"):
        body["name"] = "Home"
    if rng.random() < 0.2:
        body["anonymousId"] = "\t"  # white space only: absent (the call keeps its userId)
        body["userId"] = "u-" + m
    if rng.random() < 0.2:
        body["timestamp"] = rng.choice(
            ("2026-01-05T10:00:00+14:00", "2026-01-05T10:00:00.123456-03:30", "1767607200000")
        )
    return body


def _nested(depth: int) -> dict[str, Any]:
    v: dict[str, Any] = {}
    for _ in range(depth):
        v = {"a": v}
    return v


# invalid calls: (how to break a valid call, the quarantine reason)
BREAKS: list[tuple[Callable[[dict[str, Any]], Any], str]] = [
    (lambda c: {**c, "userId": {"id": 1}, "anonymousId": None}, "invalid_field_type"),
    (lambda c: {**c, "userId": True}, "invalid_field_type"),
    (lambda c: {**c, "messageId": [c["messageId"]], "type": "track", "event": "E"},
     "invalid_field_type"),
    (lambda c: {**c, "userId": "u\x00" + c["messageId"]}, "invalid_field_value"),
    (lambda c: {**c, "properties": {"f": "r-\udcff.pdf"}}, "invalid_unicode"),
    (lambda c: {**c, "properties": {"blob": "x" * 33_000}}, "event_too_large"),
    (lambda c: {**c, "properties": _nested(300)}, "too_deeply_nested"),
    (lambda c: {**c, "timestamp": "2026-01-05T10:00:00+25:00"}, "unparseable_timestamp"),
    (lambda c: {**c, "timestamp": "yesterday"}, "unparseable_timestamp"),
    (lambda c: {**c, "timestamp": "2099-01-01T00:00:00Z"}, "timestamp_out_of_range"),
    (lambda c: {**c, "type": "track", "event": None}, "missing_event_name"),
    (lambda c: {**c, "type": "track", "event": "E", "properties": [1, 2]},
     "invalid_properties"),
    (lambda c: {**c, "type": "track", "event": "E", "properties": {"revenue": "lots"}},
     "unparseable_revenue"),
    (lambda c: {k: v for k, v in c.items() if k not in ("userId", "anonymousId")}
     | {"type": "track", "event": "E"}, "missing_identity"),
    (lambda c: c["messageId"], "not_a_json_object"),  # a bare string in a batch
]  # fmt: skip


@dataclass
class Req:
    path: str
    body: bytes
    headers: dict[str, str]
    valid: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)  # messageId -> reason
    countable: bool = True  # the body is JSON whose calls the server can count
    expect: int | None = None  # the status this request must get, when it is certain
    ncalls: int | None = None  # calls in the body (default: valid + invalid)


def _dump(doc: Any) -> bytes:
    return json.dumps(doc).encode()  # ensure_ascii: lone surrogates become \udcff escapes


def corpus(write: str, read: str) -> list[Req]:
    rng = random.Random(SEED)
    reqs: list[Req] = []
    for n in range(REQUESTS):
        tag = f"fz{n:03d}"
        variant = n % 20
        kind = SINGLE[n % len(SINGLE)]
        if variant < 8:  # a batch: valid calls with invalid ones mixed in
            valid, invalid, items = [], {}, []
            for j in range(rng.randint(1, 6)):
                m = f"{tag}-{j}"
                c = valid_call(rng.choice(SINGLE), m, rng)
                if rng.random() < 0.45:
                    brk, reason = rng.choice(BREAKS)
                    items.append(brk(c))
                    invalid[m] = reason
                else:
                    items.append(c)
                    valid.append(m)
            doc: dict[str, Any] = {"batch": items}
            if rng.random() < 0.3:
                doc["context"] = {"library": {"name": "analytics.js"}}
            body = _dump(doc)
            headers = {**basic(write)}
            if rng.random() < 0.3:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            path = rng.choice(("/v1/batch", "/v1/b", "/v1/import"))
            reqs.append(Req(path, body, headers, valid, invalid, expect=200))
            continue
        m = f"{tag}-0"
        path = rng.choice((f"/v1/{kind}", f"/v1/{SHORT[kind]}"))
        call = valid_call(kind, m, rng)
        if variant == 8:  # a single call, valid or broken (not oversized: its body is 32 KB)
            brk, reason = rng.choice(BREAKS[:5] + BREAKS[7:14])
            if rng.random() < 0.5:
                reqs.append(Req(path, _dump(call), basic(write), [m], expect=200))
            else:
                broken = brk(call)
                broken.pop("type", None)  # the path gives the type
                if reason in ("missing_event_name", "invalid_properties", "unparseable_revenue"):
                    path = "/v1/track"
                reqs.append(Req(path, _dump(broken), basic(write), [], {m: reason}, expect=200))
        elif variant == 9:  # wrong or odd content types: the body is JSON whatever it says
            ct = rng.choice(
                ("text/plain", "application/x-www-form-urlencoded", "image/png",
                 "multipart/form-data; boundary=x", "application/json; charset=latin-1", "")
            )  # fmt: skip
            h = {**basic(write), "Content-Type": ct}
            reqs.append(Req(path, _dump(call), h, [m], expect=200))
        elif variant == 10:  # no auth, bad auth, a read key, a broken header; the key in body
            choice = n % 6
            h: dict[str, str] = {}
            body = _dump(call)
            if choice == 1:
                h = basic("kw_not_a_key")
            elif choice == 2:
                h = basic(read)
            elif choice == 3:
                h = {"Authorization": "Basic !!!not-base64"}
            elif choice == 4:
                h = {"Authorization": f"Bearer {write}"}
            if choice == 5:
                body = _dump({**call, "writeKey": write})
                reqs.append(Req(path, body, h, [m], expect=200))
            else:
                reqs.append(Req(path, body, h, [], {m: "unauthorized"}, expect=401))
        elif variant == 11:  # malformed JSON
            text = _dump({"batch": [call]})
            bad = rng.choice(
                (text[:-3], text + b",", text.replace(b'"', b"'"), b"", b"{", b"\xff\xfe{}",
                 text.replace(b"{", b"{\xed\xa0\x80", 1), b"nul\x00l", b"NaN", b"{" * 100)
            )  # fmt: skip
            reqs.append(Req("/v1/batch", bad, basic(write), [], {m: "invalid_json"}, False, 400))
        elif variant == 12:  # not an object / no batch
            bad_doc = rng.choice(([call], "text", 42, None, {"batch": call}, {"batch": "x"}))
            countable = isinstance(bad_doc, list) or (
                isinstance(bad_doc, dict) and isinstance(bad_doc.get("batch"), dict)
            )
            reqs.append(
                Req("/v1/batch", _dump(bad_doc), basic(write), [], {m: "x"}, countable, 400)
            )
        elif variant == 13:  # bad gzip
            z = gzip.compress(_dump({"batch": [call]}))
            bad = rng.choice(
                (z + b"trailing", z[:-8], z[:-4], z[: len(z) // 2], b"not gzip at all",
                 z[:10] + bytes(20) + z[30:], zlib.compress(_dump({"batch": [call]})))
            )  # fmt: skip
            h = {**basic(write), "Content-Encoding": "gzip"}
            reqs.append(Req("/v1/batch", bad, h, [], {m: "invalid_gzip"}, False, 400))
        elif variant == 14:  # several gzip members: all decoded
            doc_text = _dump({"batch": [call]})
            cut = rng.randint(1, len(doc_text) - 1)
            z = gzip.compress(doc_text[:cut]) + gzip.compress(doc_text[cut:])
            h = {**basic(write), "Content-Encoding": "gzip"}
            reqs.append(Req("/v1/batch", z, h, [m], expect=200))
        elif variant == 15:  # too large: a body over 500 KB, a single call over 32 KB
            if n % 2:
                big = _dump({"batch": [{**call, "p": "y" * 20_000}] * 30})
                reqs.append(Req("/v1/batch", big, basic(write), [], {m: "big"}, False, 400))
            else:
                big = _dump({**call, "p": "y" * 40_000})
                reqs.append(Req(path, big, basic(write), [], {m: "big"}, False, 400))
        elif variant == 16:  # too deep for any parser, and too many calls
            if n % 2:
                deep = b'{"batch":[' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"]}"
                reqs.append(Req("/v1/batch", deep, basic(write), [], {m: "deep"}, False, 400))
            else:
                many = b'{"batch":[' + b",".join([_dump(call)] + [b"{}"] * 3000) + b"]}"
                r = Req("/v1/batch", many, basic(write), [], {m: "many"}, expect=400, ncalls=3001)
                reqs.append(r)
        elif variant == 17:  # an empty batch, a batch of nulls and numbers
            doc2 = rng.choice(({"batch": []}, {"batch": [None, 1, 2.5, [], {}]}))
            n_items = len(doc2["batch"])
            reqs.append(Req("/v1/batch", _dump(doc2), basic(write), expect=200, ncalls=n_items))
        elif variant == 18:  # huge values in a valid call (under 32 KB)
            call["properties"] = rng.choice(
                ({"n": 1e308}, {"n": -(10**40)}, {"s": "z" * 30_000}, {"k" * 1000: 1},
                 {"list": list(range(3000))})
            )  # fmt: skip
            if kind != "track":
                call["traits"] = call.pop("properties")
            reqs.append(Req(path, _dump(call), basic(write), [m], expect=200))
        else:  # NaN and Infinity literals, duplicate keys: JSON the stdlib reads
            text = _dump(call)[:-1] + rng.choice(
                (b', "x": NaN}', b', "x": -Infinity}', b', "userId": "dup-' + m.encode() + b'"}')
            )
            reqs.append(Req(path, text, basic(write), [m], expect=200))
    return reqs


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    db = tmp_path_factory.mktemp("fuzz") / "z.duckdb"
    write, read = create_key(db, "site"), create_key(db, "dash", "read")
    with LiveServer(db, extra=("--stitch-interval", "0.3")) as srv:
        yield srv, write, read


def test_hostile_corpus_no_5xx_and_no_valid_call_lost(
    live: tuple[LiveServer, str, str],
) -> None:
    srv, write, read = live
    reqs = corpus(write, read)
    assert len(reqs) >= 250
    paths = {r.path for r in reqs}
    assert {f"/v1/{p}" for p in (*SINGLE, "batch")} <= paths
    answers: list[tuple[Req, int, dict[str, Any]]] = []
    with httpx.Client(timeout=30) as c:
        for r in reqs:
            resp = c.post(srv.url + r.path, content=r.body, headers=r.headers)
            assert resp.status_code < 500, (r.path, r.body[:200], resp.text)
            got = resp.json()
            answers.append((r, resp.status_code, got))
    assert httpx.get(srv.url + "/healthz").status_code == 200  # alive
    assert srv.proc is not None
    assert srv.proc.poll() is None

    unexpected = [(r.path, r.body[:120], s, g) for r, s, g in answers if r.expect not in (None, s)]
    assert unexpected == []
    refused_requests = 0
    refused_calls = 0
    for r, status, got in answers:
        if status == 200:
            n = len(r.valid) + len(r.invalid) if r.ncalls is None else r.ncalls
            if "accepted" in got:  # some calls were quarantined by the collector
                assert got["accepted"] + got["quarantined"] == n
                assert got["quarantined"] == sum(got["reasons"].values())
        else:
            assert got["success"] is False
            assert got["error"]
            assert got["detail"]
            refused_requests += 1
            if r.countable:
                n = len(r.valid) + len(r.invalid) if r.ncalls is None else r.ncalls
                assert got["refused"] == n, (r.path, r.body[:120], got)
                refused_calls += got["refused"]
            else:
                assert "refused" not in got

    # every valid call of an accepted request stored exactly once; nothing else stored
    rows = sql(
        srv, read, "SELECT event_id, count(*) AS n FROM events WHERE event_id LIKE 'fz%' GROUP BY 1"
    )
    counts = {str(x["event_id"]): int(x["n"]) for x in rows}
    want = {m for r, s, _ in answers if s == 200 for m in r.valid}
    assert {m: n for m, n in counts.items() if n != 1} == {}
    assert set(counts) == want

    # every invalid call of an accepted request quarantined, with the expected reason
    q = quarantined(srv, read, "fz")
    reasons_by_id: dict[str, set[str]] = {}
    for row in q:
        for r, s, _ in answers:
            if s != 200:
                continue
            for m in r.invalid:
                if f'"{m}"' in row["raw"]:
                    reasons_by_id.setdefault(m, set()).add(row["reason"])
    expected = {m: reason for r, s, _ in answers if s == 200 for m, reason in r.invalid.items()}
    assert {m: reasons_by_id.get(m) for m in expected} == {m: {x} for m, x in expected.items()}

    st = collector_stats(srv, read)
    assert sum(st["refused"]["requests"].values()) == refused_requests
    assert sum(st["refused"]["calls"].values()) == refused_calls
    kinds = Counter(s for _, s, _ in answers)
    assert kinds[200] >= 150
    assert kinds[400] >= 50
    assert kinds[401] >= 10
