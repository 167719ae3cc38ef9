"""The Segment-compatible collector, in process: paths, auth, bodies, limits, CORS, 429,
exactly-once, quarantine with the file-ingest reasons, normalisation and stitching.

Real SDKs against a live server: test_server_sdks.py; SIGKILL: test_server_crash.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kundresa import Workspace
from kundresa.server._app import ServerConfig, create_app
from kundresa.server._state import ServerState
from tests._server import create_key

PATHS = {
    "track": "track",
    "identify": "identify",
    "page": "page",
    "screen": "screen",
    "group": "group",
    "alias": "alias",
    "t": "track",
    "i": "identify",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
}


class Env:
    def __init__(self, client: TestClient, write: str, read: str) -> None:
        self.client = client
        self.write = write
        self.read = read

    @property
    def rt(self) -> Any:
        return self.client.app.state.runtime  # type: ignore[attr-defined]

    def basic(self, key: str | None = None) -> dict[str, str]:
        token = base64.b64encode(f"{key or self.write}:".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def post(self, path: str, body: Any, **kw: Any) -> Any:
        headers = {**self.basic(), **kw.pop("headers", {})}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.client.post(path, content=data, headers=headers, **kw)

    def wait(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.client.get(
                "/api/v1/collector", headers={"Authorization": f"Bearer {self.read}"}
            ).json()
            if (
                st["pending_events"] == 0
                and st["queued_requests"] == 0
                and not st["stitch_pending"]
            ):
                return
            time.sleep(0.05)
        raise AssertionError(f"loader did not catch up: {st}")

    def sql(self, query: str) -> list[dict[str, Any]]:
        self.wait()
        with self.rt.lock:
            return list(self.rt.ws.sql(query).to_pylist())

    def event(self, message_id: str) -> list[dict[str, Any]]:
        return self.sql(f"SELECT * FROM events WHERE event_id = '{message_id}'")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    db = tmp_path_factory.mktemp("collector") / "c.duckdb"
    write, read = create_key(db, "site"), create_key(db, "api", "read")
    app = create_app(ServerConfig(db=str(db), loader_interval=0.05, stitch_interval=0.1))
    with TestClient(app) as client:
        yield Env(client, write, read)


def mid() -> str:
    return str(uuid.uuid4())


def call(kind: str, message_id: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind,
        "messageId": message_id,
        "anonymousId": "anon-" + message_id[:8],
        "timestamp": "2026-01-05T10:00:00.000Z",
    }
    if kind == "track":
        body["event"] = "Viewed Product"
    if kind == "alias":
        body.update(userId="u-" + message_id[:8], previousId="anon-" + message_id[:8])
    if kind in ("identify", "group"):
        body["userId"] = "u-" + message_id[:8]
    return {**body, **extra}


@pytest.mark.parametrize("path", list(PATHS))
def test_every_path_and_short_path_answers_exactly_200_and_stores_the_call(
    env: Env, path: str
) -> None:
    m = mid()
    r = env.post(f"/v1/{path}", call(PATHS[path], m))
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True}
    assert r.headers["access-control-allow-origin"] == "*"
    rows = env.event(m)
    assert len(rows) == 1
    assert rows[0]["type"] == PATHS[path]
    assert rows[0]["source"] == "collector:site"


@pytest.mark.parametrize("path", ["batch", "b", "import"])
def test_batch_paths_share_context_and_keep_each_calls_type(env: Env, path: str) -> None:
    ids = [mid(), mid(), mid()]
    body = {
        "batch": [call("track", ids[0]), call("page", ids[1]), call("identify", ids[2])],
        "context": {"library": {"name": "analytics.js"}},
    }
    assert env.post(f"/v1/{path}", body).status_code == 200
    types = {r["event_id"]: (r["type"], r["channel"]) for r in env.sql("SELECT * FROM events")}
    # shared context applies to every call: analytics.js -> web
    assert [types[i] for i in ids] == [("track", "web"), ("page", "web"), ("identify", "web")]


def test_write_key_as_basic_user_or_in_the_body_and_401_otherwise(env: Env) -> None:
    m1, m2 = mid(), mid()
    assert env.post("/v1/track", call("track", m1)).status_code == 200
    r = env.client.post(
        "/v1/track", content=json.dumps({**call("track", m2), "writeKey": env.write})
    )
    assert r.status_code == 200
    unknown = env.client.post("/v1/track", content=json.dumps(call("track", mid())))
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "unauthorized"
    wrong = env.post("/v1/track", call("track", mid()), headers=env.basic("kw_nope"))
    assert wrong.status_code == 401
    # a read key cannot write, a write key cannot read
    assert (
        env.post("/v1/track", call("track", mid()), headers=env.basic(env.read)).status_code == 401
    )
    api = env.client.get("/api/v1/info", headers={"Authorization": f"Bearer {env.write}"})
    assert api.status_code == 401
    # the write key is never stored with the event
    assert env.write not in json.dumps(env.event(m2), default=str)


def test_a_revoked_key_is_refused(env: Env) -> None:
    key, token = env.rt.state.create_key("temp")
    assert env.post("/v1/t", call("track", mid()), headers=env.basic(token)).status_code == 200
    env.rt.state.revoke_key(key.id)
    assert env.post("/v1/t", call("track", mid()), headers=env.basic(token)).status_code == 401


@pytest.mark.parametrize(
    ("content_type", "gzipped", "encoding_header"),
    [
        ("application/json", False, False),
        ("text/plain", False, False),
        ("text/plain;charset=UTF-8", True, True),
        ("application/x-www-form-urlencoded", True, True),
        ("application/x-www-form-urlencoded", True, False),  # gzip magic without the header
        (None, False, False),
    ],
)
def test_json_regardless_of_content_type_and_gzip(
    env: Env, content_type: str | None, gzipped: bool, encoding_header: bool
) -> None:
    m = mid()
    data = json.dumps({"batch": [call("track", m)]}).encode()
    headers: dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    if gzipped:
        data = gzip.compress(data)
    if encoding_header:
        headers["Content-Encoding"] = "gzip"
    r = env.post("/v1/batch", data, headers=headers)
    assert r.status_code == 200, r.text
    assert len(env.event(m)) == 1


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"{not json", {}, "invalid_json"),
        (b"[1, 2]", {}, "not_a_json_object"),
        (b"plain text", {"Content-Encoding": "gzip"}, "invalid_gzip"),
        (json.dumps({"batch": {"a": 1}}).encode(), {}, "missing_batch"),
    ],
)
def test_malformed_requests_get_400_with_a_json_reason(
    env: Env, body: bytes, headers: dict[str, str], reason: str
) -> None:
    r = env.post("/v1/batch", body, headers=headers)
    assert r.status_code == 400
    assert r.json()["error"] == reason
    assert r.json()["detail"]


def test_segment_limits_32kb_per_event_and_500kb_per_batch(env: Env) -> None:
    big = "x" * (33 * 1024)
    r = env.post("/v1/track", call("track", mid(), properties={"blob": big}))
    assert (r.status_code, r.json()["error"]) == (400, "event_too_large")
    # inside a batch, the oversized event is quarantined and its neighbours are stored
    big_id, ok_id = mid(), mid()
    r = env.post(
        "/v1/batch",
        {"batch": [call("track", big_id, properties={"blob": big}), call("track", ok_id)]},
    )
    assert r.status_code == 200
    assert r.json() == {
        "success": True,
        "accepted": 1,
        "quarantined": 1,
        "reasons": {"event_too_large": 1},
    }
    assert len(env.event(ok_id)) == 1
    got = env.sql(f"SELECT reason FROM quarantine WHERE raw LIKE '%{big_id}%'")
    assert [g["reason"] for g in got] == ["event_too_large"]
    # 30 events of 20 KB = 600 KB: over the batch limit, compressed or not
    many = {"batch": [call("track", mid(), properties={"b": "y" * 20_000}) for _ in range(30)]}
    r = env.post("/v1/batch", many)
    assert (r.status_code, r.json()["error"]) == (400, "batch_too_large")
    r = env.post("/v1/batch", gzip.compress(json.dumps(many).encode()))
    assert (r.status_code, r.json()["error"]) == (400, "batch_too_large")
    # just under: 24 x 20 KB = 480 KB is fine
    ok = {"batch": [call("track", mid(), properties={"b": "y" * 20_000}) for _ in range(24)]}
    assert env.post("/v1/batch", ok).status_code == 200


def test_cors_preflight_allows_authorization_and_exposes_retry_after(env: Env) -> None:
    r = env.client.options(
        "/v1/batch",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert r.status_code == 200
    assert "Authorization" in r.headers["access-control-allow-headers"]
    assert "POST" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-expose-headers"] == "Retry-After"
    assert r.headers["access-control-allow-origin"] == "*"


def test_retries_of_the_same_message_id_are_stored_once(env: Env) -> None:
    ids = [mid() for _ in range(5)]
    body = {"batch": [call("track", i) for i in ids]}
    for _ in range(3):
        assert env.post("/v1/batch", body).status_code == 200
    rows = env.sql(
        "SELECT event_id, count(*) AS n FROM events WHERE event_id IN ("
        + ", ".join(f"'{i}'" for i in ids)
        + ") GROUP BY 1"
    )
    assert {r["event_id"]: r["n"] for r in rows} == dict.fromkeys(ids, 1)


# calls that break one rule each, with the reason file ingest gives (an oracle written by hand)
T0 = {"timestamp": "2026-01-05T10:00:00Z"}
ANON = {"anonymousId": "a", **T0}
BAD_CALLS: list[tuple[Any, str]] = [
    ({"type": "track", **ANON}, "missing_event_name"),
    ({"type": "track", "event": "E", "anonymousId": "a", "timestamp": "yesterday"},
     "unparseable_timestamp"),
    ({"type": "track", "event": "E", "anonymousId": "a", "timestamp": "2099-01-01T00:00:00Z"},
     "timestamp_out_of_range"),
    ({"type": "track", "event": "E", "anonymousId": "a",
      "timestamp": "2026-01-05T10:00:00+25:00"}, "unparseable_timestamp"),
    ({"type": "track", "event": "E", "userId": {"id": 1}, **T0}, "invalid_field_type"),
    ({"type": "track", "event": True, **ANON}, "invalid_field_type"),
    ({"type": "track", "event": "E", "anonymousId": "a\x00b", **T0}, "invalid_field_value"),
    ({"type": "track", "event": "E", "anonymousId": "\t", **T0}, "missing_identity"),
    ({"type": "purchase", "event": "E", **ANON}, "unknown_call_type"),
    ({"type": "track", "event": "E", **T0}, "missing_identity"),
    ({"type": "track", "event": "E", **ANON, "properties": [1]}, "invalid_properties"),
    ({"type": "track", "event": "E", **ANON, "properties": {"revenue": "lots"}},
     "unparseable_revenue"),
    ({"type": "alias", "userId": "u", **T0}, "missing_previous_id"),
    ("just a string", "not_a_json_object"),
]  # fmt: skip


def test_invalid_events_in_an_accepted_batch_are_quarantined_like_file_ingest(
    env: Env, tmp_path: Path
) -> None:
    tag = mid()
    good = call("track", mid())
    bad = [
        {**c, "messageId": f"{tag}-{i}"} if isinstance(c, dict) else c
        for i, (c, _) in enumerate(BAD_CALLS)
    ]
    r = env.post("/v1/batch", {"batch": [good, *bad]})
    assert r.status_code == 200  # the batch is accepted; its bad events go to quarantine
    assert len(env.event(good["messageId"])) == 1
    got = env.sql(
        "SELECT reason, raw FROM quarantine WHERE raw LIKE '%" + tag + "%' "
        "OR raw = '\"just a string\"'"
    )
    got_reasons = Counter(r["reason"] for r in got)
    assert got_reasons == Counter(reason for _, reason in BAD_CALLS)
    # the same calls through file ingest meet the same rules
    f = tmp_path / "same.jsonl"
    f.write_text("\n".join(json.dumps(c) for c in bad) + "\n")
    with Workspace.open(tmp_path / "file.duckdb") as ws:
        report = ws.ingest([f]).to_dict()
    assert Counter(report["reasons"]) == got_reasons


def test_client_differences_are_normalised(env: Env) -> None:
    u = "u-" + mid()[:8]
    calls = {
        "z": {"timestamp": "2026-01-05T10:00:00Z"},
        "offset": {"timestamp": "2026-01-05T10:00:00+00:00"},
        "micro": {"timestamp": "2026-01-05T10:00:00.123456Z"},
        "milli": {"timestamp": "2026-01-05T10:00:00.123+01:00"},
        "original": {"timestamp": None, "originalTimestamp": "2026-01-05T10:00:00Z"},
    }
    ids = {k: mid() for k in calls}
    batch = [
        {"type": "track", "event": "E", "userId": u, "anonymousId": None, "messageId": ids[k], **v}
        for k, v in calls.items()
    ]
    no_ts = mid()
    batch.append({"type": "track", "event": "E", "userId": u, "messageId": no_ts})
    # traits in context.traits (analytics.js) identify as well as top-level traits
    batch.append(
        {
            "type": "identify",
            "anonymousId": "dev-" + u,
            "messageId": mid(),
            "timestamp": "2026-01-05T09:00:00Z",
            "context": {"traits": {"email": "Person@Example.se"}},
        }
    )
    batch.append(
        {
            "type": "identify",
            "userId": u,
            "messageId": mid(),
            "timestamp": "2026-01-05T09:01:00Z",
            "traits": {"email": "person@example.se"},
        }
    )
    before = time.time()
    assert env.post("/v1/batch", {"batch": batch}).status_code == 200
    ts = {r["event_id"]: r["ts"] for r in env.sql("SELECT event_id, ts FROM events")}
    iso = {k: ts[i].isoformat() for k, i in ids.items()}
    assert iso == {
        "z": "2026-01-05T10:00:00",
        "offset": "2026-01-05T10:00:00",
        "micro": "2026-01-05T10:00:00.123456",
        "milli": "2026-01-05T09:00:00.123000",
        "original": "2026-01-05T10:00:00",
    }
    # no timestamp at all: Segment's rule, the time the server received it
    received = dt.datetime.fromtimestamp(before, dt.UTC).replace(tzinfo=None)
    assert abs((ts[no_ts].replace(tzinfo=None) - received).total_seconds()) < 30
    # the device (context.traits e-mail) and the user (traits e-mail) are one person
    persons = env.sql(
        f"SELECT DISTINCT person_id FROM events WHERE user_id = '{u}' OR anonymous_id = 'dev-{u}'"
    )
    assert len(persons) == 1


def test_stitching_puts_anonymous_calls_on_the_identified_person_within_seconds(
    env: Env,
) -> None:
    anon, user = "anon-" + mid(), "user-" + mid()
    t0 = time.monotonic()
    env.post("/v1/page", {**call("page", mid()), "anonymousId": anon, "name": "Home"})
    env.post("/v1/track", {**call("track", mid()), "anonymousId": anon})
    env.post("/v1/identify", {**call("identify", mid()), "anonymousId": anon, "userId": user})
    env.post("/v1/track", {**call("track", mid()), "anonymousId": None, "userId": user})
    rows = env.sql(
        f"SELECT person_id FROM events WHERE anonymous_id = '{anon}' OR user_id = '{user}'"
    )
    assert time.monotonic() - t0 < 10
    assert len(rows) == 4
    assert len({r["person_id"] for r in rows}) == 1
    assert rows[0]["person_id"] is not None


def test_overloaded_collector_answers_429_with_retry_after(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    key = create_key(db, "site")
    app = create_app(ServerConfig(db=str(db), max_pending_events=0, retry_after=3))
    with TestClient(app) as client:
        auth = base64.b64encode(f"{key}:".encode()).decode()
        r = client.post(
            "/v1/batch",
            content=json.dumps({"batch": [call("track", mid())]}),
            headers={"Authorization": f"Basic {auth}"},
        )
    assert r.status_code == 429
    assert r.headers["retry-after"] == "3"
    assert r.headers["access-control-expose-headers"] == "Retry-After"
    assert r.json()["error"] == "overloaded"


def test_a_5xx_after_commit_then_a_retry_stores_the_events_once(tmp_path: Path) -> None:
    db = tmp_path / "fault.duckdb"
    key, read = create_key(db, "site"), create_key(db, "api", "read")
    app = create_app(ServerConfig(db=str(db), fault_5xx_after_write=1, loader_interval=0.05))
    with TestClient(app) as client:
        e = Env(client, key, read)
        ids = [mid() for _ in range(3)]
        body = {"batch": [call("track", i) for i in ids]}
        assert e.post("/v1/batch", body).status_code == 500
        assert e.post("/v1/batch", body).status_code == 200
        rows = e.sql("SELECT event_id FROM events")
    assert sorted(r["event_id"] for r in rows) == sorted(ids)


def test_identity_tables_are_compacted_and_stitching_still_holds(env: Env) -> None:
    env.rt.loader.compact_after = 1
    try:
        anon, user = "compact-" + mid(), "cu-" + mid()
        for _ in range(3):  # three loads that repeat the same keys
            env.post("/v1/track", {**call("track", mid()), "anonymousId": anon})
            env.wait()
        env.post("/v1/identify", {**call("identify", mid()), "anonymousId": anon, "userId": user})
        repeated = env.sql(
            "SELECT key, count(*) AS n FROM identity_keys GROUP BY key HAVING count(*) > 1"
        )
        assert repeated == []
        persons = env.sql(
            f"SELECT DISTINCT person_id FROM events WHERE anonymous_id = '{anon}' "
            f"OR user_id = '{user}'"
        )
        assert len(persons) == 1
    finally:
        env.rt.loader.compact_after = 200_000


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="thread priorities: Linux")
def test_the_loader_runs_below_the_request_paths_cpu_priority(env: Env) -> None:
    """Acknowledging requests comes first: the loader thread is niced (per thread)."""
    st = env.client.get("/api/v1/collector", headers={"Authorization": f"Bearer {env.read}"})
    loader = st.json()["loader"]
    assert loader["thread_id"] is not None
    here = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, loader["thread_id"]) == min(here + 10, 19)
    assert loader["nice"] == min(here + 10, 19)
    writer = st.json()["inbox_commits"]["thread_id"]
    assert os.getpriority(os.PRIO_PROCESS, int(writer)) == here


def test_the_framework_route_answers_like_the_fast_path(env: Env) -> None:
    """POST /v1/* is answered by CollectorFastPath; the FastAPI route behind it (OpenAPI,
    apps mounted without the middleware) runs the same handler with the same answers."""
    from kundresa.server._collector import CollectorFastPath

    app: Any = env.client.app
    kept = app.user_middleware
    app.user_middleware = [m for m in kept if m.cls is not CollectorFastPath]
    try:
        stack = app.build_middleware_stack()  # the app's own stack, minus the fast path
    finally:
        app.user_middleware = kept
    assert any(m.cls is CollectorFastPath for m in kept)

    async def routes_only(scope: Any, receive: Any, send: Any) -> None:
        scope["app"] = app  # what Starlette sets before its middleware stack
        await stack(scope, receive, send)

    plain = TestClient(routes_only)
    for client in (env.client, plain):
        m = mid()
        body = json.dumps({"batch": [call("track", m)]}).encode()
        ok = client.post("/v1/batch", content=body, headers=env.basic())
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"success": True}
        assert ok.headers["access-control-expose-headers"] == "Retry-After"
        bad = client.post("/v1/batch", content=body, headers=env.basic("kw_nope"))
        assert bad.status_code == 401
        assert bad.json()["error"] == "unauthorized"
        assert len(env.event(m)) == 1


def test_the_loader_marks_loaded_rows_through_the_inbox_writer(tmp_path: Path) -> None:
    """The loader ran at nice 10 and deleted loaded inbox rows in its own transaction: while
    it was starved it held SQLite's write lock and the inbox writer (the request path)
    waited, in SQLite's busy sleeps of up to 100 ms. Now its "loaded up to seq" rides in
    the writer's group commits, and the writer's commits run no WAL checkpoint."""
    from kundresa.server._collector import InboxWriter

    st = ServerState(tmp_path / "s.sqlite")
    writer = InboxWriter(ServerState(tmp_path / "s.sqlite", autocheckpoint=False))
    writer.submit("collector:site", ['{"type":"track"}']).result(timeout=10)
    writer.submit("collector:site", ['{"type":"page"}']).result(timeout=10)
    assert st.pending_events() == 2
    writer.mark_loaded(1).result(timeout=10)
    assert (st.loaded_seq(), st.pending_events()) == (1, 1)
    assert [seq for seq, _, _ in st.inbox_after(0, 10)] == [2]
    autockpt = writer.state.con().execute("PRAGMA wal_autocheckpoint").fetchone()
    assert autockpt == (0,)
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.mark_loaded(2)
    st.close()
