"""schemathesis fuzzes the OpenAPI document of a live server: no 5xx on any generated input,
with a read key and a write key (so requests get past auth) and without."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from kundresa import Workspace
from kundresa.server import RunningServer, serve
from kundresa.synth import synthesize
from tests._server import create_key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str, str]]:
    d = tmp_path_factory.mktemp("fuzz")
    db = d / "fuzz.duckdb"
    synth = synthesize(persons=40, seed=5, out=d / "synth", days=14)
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path])
    read, write = create_key(db, "fuzz", "read"), create_key(db, "fuzz-w")
    srv = serve(db, port=0, block=False, echo=None, create_login=False)
    yield srv, read, write
    srv.stop()


def _operations(url: str) -> list[object]:
    schema = schemathesis.openapi.from_url(url + "/api/openapi.json")
    return [op.ok() for op in schema.get_all_operations()]


def _auth(path: str, key: str) -> dict[str, str]:
    if path.startswith("/v1/"):  # the collector: the write key as HTTP Basic user
        return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    return {"Authorization": f"Bearer {key}"}


def _runner(op: Any, path: str, key: str, url: str, seen: dict[str, set[int]]) -> Any:
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy())
    def run(case: Any) -> None:
        for headers in (_auth(path, key), {}):
            resp = case.call(base_url=url, headers=headers)
            seen.setdefault(path, set()).add(resp.status_code)
            assert resp.status_code < 500, (path, resp.status_code, resp.text[:300])

    return run


def test_no_5xx_on_any_generated_input(server: tuple[RunningServer, str, str]) -> None:
    srv, read, write = server
    ops = _operations(srv.url)
    assert len(ops) >= 20  # 15 collector paths + the API
    seen: dict[str, set[int]] = {}
    for op in ops:
        path = op.path  # type: ignore[attr-defined]
        key = write if path.startswith("/v1/") else read
        _runner(op, path, key, srv.url, seen)()
    # the fuzzer got past auth and validation somewhere (not only 401s)
    assert any(200 in codes for codes in seen.values())


def test_operations_cover_every_analysis(server: tuple[RunningServer, str, str]) -> None:
    from kundresa.server._registry import ANALYSES

    paths = {op.path for op in _operations(server[0].url)}  # type: ignore[attr-defined]
    assert {f"/api/v1/{name}" for name in ANALYSES} <= paths
