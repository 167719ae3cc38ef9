"""Real SDKs, unchanged, against a live ``kundresa serve`` on 127.0.0.1.

segment-analytics-python and rudder-sdk-python (PyPI) and @segment/analytics-node (npm,
installed into tests/server_node by .ci/run) send identify/track/page through /v1/batch;
the events appear with the right person after stitching; retries after a forced 5xx
(the server stores the batch, then answers 500) are stored once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._server import LiveServer, create_key, wait_loaded

NODE_DIR = Path(__file__).parent / "server_node"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    db = tmp_path_factory.mktemp("sdk") / "sdk.duckdb"
    write, read = create_key(db, "sdk"), create_key(db, "api", "read")
    with LiveServer(db, extra=("--stitch-interval", "0.2")) as srv:
        yield srv, write, read


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    """A server that stores every batch's first attempt and then answers it with 500."""
    db = tmp_path_factory.mktemp("faulty") / "faulty.duckdb"
    write, read = create_key(db, "sdk"), create_key(db, "api", "read")
    with LiveServer(db, extra=("--fault-5xx-first-attempt",)) as srv:
        yield srv, write, read


def events(url: str, read: str, **filters: str) -> list[dict[str, Any]]:
    r = httpx.get(
        url + "/api/v1/events",
        params={"limit": 1000, **filters},
        headers={"Authorization": f"Bearer {read}"},
    )
    assert r.status_code == 200, r.text
    return list(r.json()["rows"])


def python_client(sdk: str, key: str, url: str, on_error: Any = None) -> Any:
    if sdk == "segment":
        from segment.analytics.client import Client as SegmentClient

        return SegmentClient(key, host=url, gzip=True, max_retries=5, on_error=on_error)
    from rudderstack.analytics.client import Client as RudderClient

    return RudderClient(key, host=url, gzip=True, max_retries=5, on_error=on_error)


def send_journey(client: Any, run: str) -> list[str]:
    anon, user = f"anon-{run}", f"user-{run}"
    ids = []
    for ok, msg in (
        client.page(None, None, "Home", {"path": "/"}, anonymous_id=anon),
        client.track(None, "Viewed Product", {"sku": "A1"}, anonymous_id=anon),
        client.identify(user, {"email": f"{run}@example.se"}, anonymous_id=anon),
        client.track(user, "Order Completed", {"revenue": 499, "currency": "SEK"}),
    ):
        assert ok
        ids.append(msg["messageId"])
    client.flush()
    client.join()
    return ids


def check_journey(url: str, read: str, run: str, ids: list[str]) -> None:
    wait_loaded(url, read)
    anon_rows = events(url, read, anonymous_id=f"anon-{run}")
    user_rows = events(url, read, user_id=f"user-{run}")
    rows = {r["event_id"]: r for r in anon_rows + user_rows}
    assert sorted(rows) == sorted(ids)
    # one person: the anonymous page view and the identified order are stitched together
    assert len({r["person_id"] for r in rows.values()}) == 1
    by_event = {r["event"]: r for r in rows.values()}
    assert by_event["Order Completed"]["revenue"] == 499.0
    assert by_event["Order Completed"]["currency"] == "SEK"
    assert set(by_event) == {"Page Viewed", "Viewed Product", "Identify", "Order Completed"}


@pytest.mark.parametrize("sdk", ["segment", "rudder"])
def test_python_sdks_unchanged(live: tuple[LiveServer, str, str], sdk: str) -> None:
    srv, write, read = live
    run = f"{sdk}-{uuid.uuid4().hex[:8]}"
    ids = send_journey(python_client(sdk, write, srv.url), run)
    check_journey(srv.url, read, run, ids)


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "@segment" / "analytics-node").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("node or tests/server_node/node_modules missing (see .ci/run)")
        pytest.skip("node SDK not installed: npm ci --prefix tests/server_node")
    return str(node)


def run_node(url: str, key: str, run: str) -> dict[str, Any]:
    out = subprocess.run(
        [_node(), str(NODE_DIR / "send.mjs"), url, key, run],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_node_sdk_unchanged(live: tuple[LiveServer, str, str]) -> None:
    srv, write, read = live
    run = f"node-{uuid.uuid4().hex[:8]}"
    got = run_node(srv.url, write, run)
    assert got["failed"] == []
    wait_loaded(srv.url, read)
    rows = events(srv.url, read, anonymous_id=f"node-anon-{run}") + events(
        srv.url, read, user_id=f"node-user-{run}"
    )
    unique = {r["event_id"]: r for r in rows}
    assert sorted(unique) == sorted(got["sent"])
    assert len({r["person_id"] for r in unique.values()}) == 1


def test_a_wrong_write_key_is_refused_and_nothing_is_stored(
    live: tuple[LiveServer, str, str],
) -> None:
    srv, _, read = live
    errors: list[Exception] = []
    client = python_client(
        "segment", "kw_not_a_key", srv.url, on_error=lambda e, batch: errors.append(e)
    )
    run = f"bad-{uuid.uuid4().hex[:8]}"
    client.track(None, "X", {}, anonymous_id=f"anon-{run}")
    client.flush()
    client.join()
    assert [getattr(e, "status", None) for e in errors] == [401]
    wait_loaded(srv.url, read)
    assert events(srv.url, read, anonymous_id=f"anon-{run}") == []


SenderT = Callable[[str, str, str], list[str]]


def _python_sender(url: str, key: str, run: str) -> list[str]:
    return send_journey(python_client("segment", key, url), run)


def _node_sender(url: str, key: str, run: str) -> list[str]:
    got = run_node(url, key, run)
    assert got["failed"] == []
    return list(got["sent"])


@pytest.mark.parametrize("sender", [_python_sender, _node_sender], ids=["python", "node"])
def test_retries_after_a_forced_5xx_are_stored_once(
    faulty: tuple[LiveServer, str, str], sender: SenderT, request: pytest.FixtureRequest
) -> None:
    srv, write, read = faulty
    if request.node.callspec.id == "node":
        _node()
    h = {"Authorization": f"Bearer {read}"}
    before = httpx.get(srv.url + "/api/v1/collector", headers=h).json()["loader"]["duplicates"]
    run = f"retry-{uuid.uuid4().hex[:8]}"
    ids = sender(srv.url, write, run)
    wait_loaded(srv.url, read)
    for i in ids:  # every acknowledged call is stored exactly once
        assert len(events(srv.url, read, event_id=i)) == 1, i
    after = httpx.get(srv.url + "/api/v1/collector", headers=h).json()["loader"]["duplicates"]
    # every call reached the server twice (first attempt stored, answered 500; the retry)
    assert after - before == len(ids)
