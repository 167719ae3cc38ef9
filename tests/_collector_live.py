"""Helpers for the hostile-input collector tests: a live server, raw posts, SQL reads."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx

from tests._server import LiveServer, wait_loaded


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def mid(tag: str = "m") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def good(message_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Viewed Product",
        "userId": "u-" + message_id,
        "messageId": message_id,
        "timestamp": "2026-01-05T10:00:00Z",
        **extra,
    }


def post(srv: LiveServer, key: str | None, path: str, body: Any, **headers: str) -> httpx.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {**(basic(key) if key else {}), **headers}
    return httpx.post(srv.url + path, content=data, headers=h, timeout=30)


def sql(srv: LiveServer, read: str, query: str) -> list[dict[str, Any]]:
    """Rows of one SELECT through the REST API (waits for the loader first)."""
    wait_loaded(srv.url, read, timeout=60)
    r = httpx.post(
        srv.url + "/api/v1/sql",
        json={"query": query, "limit": 100_000},
        headers={"Authorization": f"Bearer {read}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    got = r.json()
    rows = got["rows"]
    if rows and not isinstance(rows[0], dict):
        rows = [dict(zip(got["columns"], row, strict=True)) for row in rows]
    return list(rows)


def stored(srv: LiveServer, read: str, ids: list[str]) -> dict[str, int]:
    """messageId -> how many events hold it (only ids that are stored)."""
    if not ids:
        return {}
    inlist = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
    rows = sql(
        srv,
        read,
        f"SELECT event_id, count(*) AS n FROM events WHERE event_id IN ({inlist}) GROUP BY 1",
    )
    return {str(r["event_id"]): int(r["n"]) for r in rows}


def quarantined(srv: LiveServer, read: str, tag: str) -> list[dict[str, Any]]:
    """Quarantine rows whose raw call contains ``tag``."""
    return sql(
        srv,
        read,
        "SELECT reason, field, detail, raw FROM quarantine WHERE contains(raw, '"
        + tag.replace("'", "''")
        + "') ORDER BY reason",
    )


def collector_stats(srv: LiveServer, read: str) -> dict[str, Any]:
    r = httpx.get(srv.url + "/api/v1/collector", headers={"Authorization": f"Bearer {read}"})
    assert r.status_code == 200, r.text
    return dict(r.json())
