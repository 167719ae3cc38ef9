"""The server's side of the retention policy (:mod:`kundresa._retention`).

- :class:`RetentionTimer`: applies the workspace's policy when the server starts and then
  every ``retention_interval`` seconds (an hour by default), so that data ages out while the
  server runs for months;
- :func:`apply_served`: one application while serving: let the loader move what the
  collector acknowledged, erase in the workspace (DuckDB file rewritten), delete inbox rows
  received before the events horizon, then vacuum the SQLite state (``secure_delete`` zeroes
  deleted rows) and truncate its WAL;
- :func:`add_retention_routes`: ``GET /api/v1/retention-policy`` (the policy and the last run) and
  ``POST /api/v1/retention-policy`` (set and apply; the local token only: ``kundresa
  retention-policy`` on the server's machine).
"""

import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kundresa._errors import KundresaError
from kundresa._retention import (
    ErasedFile,
    RetentionPolicy,
    RetentionReport,
    apply_retention,
    file_sizes,
    retention_policy,
    set_retention_policy,
    updated_policy,
)

if TYPE_CHECKING:
    from kundresa.server._app import Runtime

__all__ = ["RetentionRequest", "RetentionTimer", "add_retention_routes", "apply_served"]

log = logging.getLogger("kundresa.server")


def apply_served(rt: "Runtime", policy: RetentionPolicy | None = None) -> RetentionReport:
    """Apply the policy of the served workspace (storing ``policy`` first, when given) and
    erase the server's own state: what :func:`kundresa._retention.apply_retention` does, plus
    the SQLite inbox (rows received before the events horizon), ``VACUUM`` and a truncated
    WAL. Reports the SQLite file and WAL beside the DuckDB file. Waits (up to 10 s) for the
    loader to move what the collector acknowledged first."""
    state = rt.state
    sqlite = [str(state.path), f"{state.path}-wal"]
    # let the loader move what the collector acknowledged (it drops what is too old): the
    # loader's own thread, never a second load of the same rows beside it
    rt.loader.wake()
    deadline = time.monotonic() + 10.0
    while state.pending_events() and time.monotonic() < deadline:
        time.sleep(0.05)
    with rt.lock:
        if policy is not None:
            set_retention_policy(rt.ws, policy)
        policy = retention_policy(rt.ws)
        before = file_sizes(sqlite)
        report = apply_retention(rt.ws, policy=policy)
        inbox = 0
        horizon = policy.horizons()[0]
        if horizon is not None:
            cut = horizon.strftime("%Y-%m-%dT%H:%M:%SZ")  # the inbox's received_at format
            with state.transaction() as c:
                inbox = c.execute("DELETE FROM inbox WHERE received_at < ?", [cut]).rowcount
        if policy.active:
            state.erase_deleted()  # VACUUM (no free page keeps a payload) + WAL truncated
        after = file_sizes(sqlite)
        if report.total or inbox:
            rt.loader.dirty = True  # restitch: cached results expire
    rt.loader.wake()
    files = report.files + tuple(ErasedFile(p, before[p], after[p]) for p in sqlite)
    return replace(report, deleted={**report.deleted, "inbox": max(inbox, 0)}, files=files)


class RetentionTimer:
    """A thread applying the policy at start and every ``interval`` seconds (0: only at
    start); its runs, last report and last error are shown by ``GET /api/v1/retention-policy``."""

    def __init__(self, rt: "Runtime", interval: float) -> None:
        self.rt = rt
        self.interval = interval
        self.runs = 0
        self.last: RetentionReport | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kundresa-retention", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (waits for a run in progress)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=120)

    def run_once(self) -> RetentionReport | None:
        """Apply the policy now if there is one (None when there is none)."""
        if not retention_policy(self.rt.ws).active:  # the workspace's meta, in memory
            return None
        report = apply_served(self.rt)
        self.runs += 1
        self.last = report
        if report.total:
            log.info("retention: %s", ", ".join(f"{t} {n}" for t, n in report.deleted.items()))
        return report

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.run_once()
                    self.last_error = None
                except Exception as exc:  # keep serving; the next run tries again
                    log.exception("retention failed; retrying at the next run")
                    self.last_error = f"{type(exc).__name__}: {exc}"
                if self.interval <= 0:
                    return
                self._stop.wait(self.interval)
        finally:
            self.rt.state.close()  # this thread's SQLite connections
            self.rt.loader.state.close()

    def status(self) -> dict[str, Any]:
        """The policy in force, the interval and the last run (JSON-ready)."""
        policy = retention_policy(self.rt.ws)  # in memory: no wait for a run in progress
        return {
            "policy": policy.to_dict(),
            "interval_seconds": self.interval,
            "runs": self.runs,
            "last": self.last.to_dict() if self.last else None,
            "last_error": self.last_error,
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


class RetentionRequest(BaseModel):
    """The body of ``POST /api/v1/retention-policy``: the parts to change (absent: unchanged)."""

    model_config = ConfigDict(extra="forbid")

    events: str | None = Field(
        default=None, max_length=32, description="Keep events this long, e.g. 400d; none"
    )
    quarantine: str | None = Field(
        default=None, max_length=32, description="Keep quarantined rows this long, e.g. 30d"
    )
    off: bool = Field(default=False, description="Remove the whole policy")


def add_retention_routes(app: FastAPI) -> None:
    """``GET`` and ``POST /api/v1/retention-policy`` (see the module notes)."""
    from kundresa.server._app import Reader, error_response, json_response, require_reader
    from kundresa.server._local import not_owner, owner_responses, text_or_json, wants_text

    @app.get(
        "/api/v1/retention-policy",
        tags=["meta"],
        summary="The retention policy and its last application",
        response_class=Response,
        responses={200: {"description": "policy, interval_seconds, runs, last, last_error"}},
    )
    def retention_status(
        request: Request, reader: Annotated[Reader, Depends(require_reader)]
    ) -> Response:
        rt: Runtime = request.app.state.runtime
        status = rt.retention.status()
        if wants_text(request):
            text = str(RetentionPolicy(**status["policy"]))
            return Response(text, media_type="text/plain; charset=utf-8")
        return json_response(status)

    @app.post(
        "/api/v1/retention-policy",
        tags=["meta"],
        summary="Set the retention policy and apply it now; the workspace owner only",
        description="Stores the policy in the workspace, lets the loader move what the collector "
        "acknowledged, deletes events older than the events horizon (and what is derived only "
        "from them) and quarantined rows older than the quarantine horizon, rewrites the "
        "DuckDB file, deletes older inbox rows and vacuums the server's SQLite state. Only "
        "the local token (`kundresa retention-policy` on the server's machine).",
        response_class=Response,
        responses=owner_responses(
            "RetentionReport", "A duration that is not allowed (the option and the fix)"
        ),
    )
    def retention_set(
        request: Request,
        body: RetentionRequest,
        reader: Annotated[Reader, Depends(require_reader)],
    ) -> Response:
        rt: Runtime = request.app.state.runtime
        if (denied := not_owner(reader.kind, "retention-policy")) is not None:
            return denied
        try:
            with rt.lock:
                current = retention_policy(rt.ws)
            policy = updated_policy(
                current, events=body.events, quarantine=body.quarantine, off=body.off
            )
            report = apply_served(rt, policy)
        except KundresaError as exc:
            return error_response(400, "invalid_request", str(exc))
        rt.retention.last = report
        return text_or_json(request, report)
