"""The loader: moves committed inbox rows into the event store, then stitches.

It validates with the ingest pipeline (:meth:`kundresa._ingest._Processor.stage_json`), so
collector events meet exactly the rules and quarantine reasons of file ingest. Writes are
idempotent (events keyed by ``event_id`` = Segment's ``messageId``; quarantine rows by a
hash of the raw call and reason), so replaying rows after a crash adds nothing twice: the
checkpoint is advanced only after the store has committed, and a crash between the two
replays those rows harmlessly. That is what makes delivery exactly-once end to end.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from kundresa._retention import drop_expired, events_horizon
from kundresa.schema import EVENTS, IDENTITY_KEYS, IDENTITY_LINKS, QUARANTINE
from kundresa.server._state import ServerState

if TYPE_CHECKING:
    from kundresa._workspace import Workspace
    from kundresa.server._tombstones import Tombstones

__all__ = ["Loader", "LoaderStats"]

log = logging.getLogger("kundresa.server")

# inbox seq -> _row: seq * _ROWS + position, so quarantine rows point at their request
_ROWS = 1_000_000


@dataclass
class LoaderStats:
    """Counters since the server started (shown by ``/api/v1/collector``)."""

    loaded_requests: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    #: calls dropped because they carry an identifier of a forgotten person (tombstones)
    forgotten: int = 0
    #: calls dropped because they are older than the retention policy keeps events
    expired: int = 0
    stitches: int = 0
    last_load_at: float | None = None
    last_stitch_at: float | None = None
    last_error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    #: the OS thread id of the loader (its CPU time is in /proc/<pid>/task/<id>/stat)
    thread_id: int | None = None
    #: its nice value (the loader runs below the request path's priority)
    nice: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "reasons": dict(sorted(self.reasons.items()))}


def _refused_row(row: int, line: str) -> tuple[int, str, str, str, str]:
    """A collector refusal (``!`` + JSON) as a staged quarantine row."""
    try:
        got = json.loads(line[1:])
        return (row, str(got["raw"]), str(got["reason"]), str(got["field"]), str(got["detail"]))
    except (ValueError, KeyError, TypeError):
        return (row, line, "invalid_json", "row", "an unreadable refusal line in the inbox")


class Loader:
    """A thread that drains the inbox into ``ws``: woken by each commit, but at most once per
    ``min_gap`` seconds while events stream in (bigger chunks, fewer fixed costs), and at the
    latest every ``interval`` seconds. It stitches at most every ``stitch_interval`` seconds
    while events arrive, and never more often than 4x the last stitch's duration (so that a
    large store does not spend its time re-stitching). DuckDB work runs on ``threads``
    threads, leaving the other core to answer requests, and the thread runs at a lower CPU
    priority (``nice``, Linux: per thread): acknowledging requests comes first, loading is
    background work that catches up when requests leave CPU to spare. ``hold`` (tests only)
    keeps it from loading on its own: committed rows wait until :meth:`load_once` is called
    (``forget`` drains the inbox) or the server stops."""

    def __init__(
        self,
        ws: Workspace,
        state: ServerState,
        lock: threading.RLock,
        *,
        interval: float = 0.5,
        stitch_interval: float = 2.0,
        max_events: int = 200_000,
        min_gap: float = 0.25,
        threads: int = 1,
        nice: int = 10,
        hold: bool = False,
        tombstones: Tombstones | None = None,
    ) -> None:
        self.ws = ws
        self.state = state
        self.lock = lock
        self.interval = interval
        self.stitch_interval = stitch_interval
        self.max_events = max_events
        self.min_gap = min(min_gap, interval)
        self.threads = threads
        self.nice = nice
        self.hold = hold
        #: the server's tombstones: refused calls of a forgotten person are not quarantined
        self.tombstones = tombstones
        self._last_stitch_seconds = 0.0
        self._appended_since_compact = 0
        #: compact the identity tables after this many appended rows (each load appends the
        #: keys and links of its chunk, so a long-running server repeats keys)
        self.compact_after = 200_000
        self._proc: Any = None
        #: the server's inbox writer (``InboxWriter``): marks loaded rows in its commits
        self.writer: Any = None
        self.stats = LoaderStats()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.dirty = False
        self._thread = threading.Thread(target=self._run, name="kundresa-loader", daemon=True)

    def start(self) -> None:
        """Start the thread (stitching first if a crash left unstitched events)."""
        self.prepare()
        # a crash (e.g. during forget) may have left page images of deleted rows in the WAL
        self.state.truncate_wal()
        self._thread.start()

    def prepare(self) -> None:
        """Create the tables it writes; note whether a crash left unstitched events."""
        store = self.ws.store
        with self.lock:
            for name, schema in (
                ("events", EVENTS),
                ("quarantine", QUARANTINE),
                ("identity_keys", IDENTITY_KEYS),
                ("identity_links", IDENTITY_LINKS),
            ):
                store.ensure(name, schema)
            ev = store.table("events")
            unstitched = store.fetch(ev.filter(ev.person_id.isnull()).limit(1)).num_rows
        self.dirty = unstitched > 0

    def close(self) -> None:
        """Release the staging DuckDB and this thread's state connection (a loader used
        without its thread, e.g. by ``kundresa forget`` while no server runs)."""
        if self._proc is not None:
            self._proc.close()
            self._proc = None
        self.state.close()

    def wake(self) -> None:
        """New rows were committed: load soon."""
        self._wake.set()

    def stop(self) -> None:
        """Load what is committed, stitch, and stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=120)

    def _run(self) -> None:
        self.stats.thread_id = threading.get_native_id()
        if self.nice and hasattr(os, "setpriority"):
            # Linux: a thread id is a PRIO_PROCESS target and sets only this thread
            with contextlib.suppress(OSError):  # not permitted: normal priority
                os.setpriority(os.PRIO_PROCESS, self.stats.thread_id, self.nice)
                self.stats.nice = os.getpriority(os.PRIO_PROCESS, self.stats.thread_id)
        try:
            while True:
                stopping = self._stop.is_set()
                try:
                    if self.hold and not stopping:  # tests: a loader far behind
                        self._wake.wait(self.interval)
                        self._wake.clear()
                        continue
                    moved = self.load_once()
                    gap = max(self.stitch_interval, 4 * self._last_stitch_seconds)
                    due = (
                        self.stats.last_stitch_at is None
                        or time.time() - self.stats.last_stitch_at >= gap
                    )
                    if self.dirty and (due or stopping):
                        self.stitch()
                except Exception as exc:  # keep serving; the rows stay in the inbox
                    log.exception("loader failed; retrying")
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"
                    moved = 0
                    time.sleep(1.0)
                if stopping:
                    return
                if moved:
                    self._stop.wait(self.min_gap)  # let the next chunk accumulate
                else:
                    self._wake.wait(self.interval)
                    self._wake.clear()
        finally:
            if self._proc is not None:
                self._proc.close()
            self.state.close()

    def stitch(self) -> None:
        """Recompute persons and sessions now."""
        t0 = time.perf_counter()
        with self.lock:
            if self._appended_since_compact >= self.compact_after:
                self.compact()
            self.ws.stitch()
        self._last_stitch_seconds = time.perf_counter() - t0
        self.dirty = False
        self.stats.stitches += 1
        self.stats.last_stitch_at = time.time()

    def compact(self) -> None:
        """Fold repeated identity keys and links into one row each (what stitching reads)."""
        store = self.ws.store
        with self.lock:
            kt = store.table("identity_keys")
            store.replace(
                "identity_keys",
                kt.group_by("key").aggregate(
                    first_seen=kt.first_seen.min(), last_seen=kt.last_seen.max()
                ),
            )
            lt = store.table("identity_links")
            store.replace(
                "identity_links",
                lt.group_by(["key_a", "key_b", "via"])
                .aggregate(first_seen=lt.first_seen.min())
                .select("key_a", "key_b", "first_seen", "via"),
            )
        self._appended_since_compact = 0

    def _mark_loaded(self, seq: int) -> None:
        """Through the inbox writer while it runs (it alone writes on the request path),
        then a checkpoint of the WAL here, off the request path."""
        writer = self.writer
        if writer is not None:
            try:
                writer.mark_loaded(seq).result()
            except RuntimeError:  # closed: the server is stopping
                writer = None
        if writer is None:
            self.state.mark_loaded(seq)
        self.state.checkpoint()

    def load_once(self) -> int:
        """Move up to ``max_events`` committed events into the store; return requests moved."""
        from kundresa._ingest import _Processor

        rows = self.state.inbox_after(self.state.loaded_seq(), self.max_events)
        if not rows:
            return 0
        by_source: dict[str, tuple[list[int], list[str]]] = defaultdict(lambda: ([], []))
        refused: dict[str, list[tuple[int, str, str, str, str]]] = defaultdict(list)
        dropped = 0  # refused calls of forgotten persons (accepted before their tombstones)
        for seq, source, events in rows:
            nums, lines = by_source[source]
            for i, line in enumerate(events.split("\n")):
                if line[:1] == "!":  # refused by the collector (CallRefused.line)
                    bad = _refused_row(seq * _ROWS + i, line)
                    if self._forgotten(bad[1]):
                        dropped += 1
                    else:
                        refused[source].append(bad)
                    continue
                nums.append(seq * _ROWS + i)
                lines.append(line)
        store = self.ws.store
        if self._proc is None:
            self._proc = _Processor(
                identifiers=self.ws.identifier_rules(), salt=self.ws.salt, pii=self.ws.pii_rules
            )
            self._proc.con.execute(f"SET threads = {int(self.threads)}")
        proc = self._proc
        forgotten, expired = proc.forgotten, self.stats.expired
        self.stats.forgotten += dropped
        with self.lock:
            horizon = events_horizon(self.ws)  # older calls are dropped (retention policy)
            for source, (nums, lines) in by_source.items():
                chunk = pa.table(
                    {"_row": pa.array(nums, pa.int64()), "_line": pa.array(lines, pa.string())}
                )
                proc.stage_json(chunk, source)
                proc.add_rejects(refused.get(source, []), source)
                self.stats.forgotten += proc.drop_forgotten(store)  # tombstones
                self.stats.expired += drop_expired(proc, horizon)
                n, reasons = proc.counts()
                accepted, identity_rows = proc.write_chunk(store)
                self._appended_since_compact += identity_rows
                bad = sum(reasons.values())
                self.stats.accepted += accepted
                self.stats.quarantined += bad
                self.stats.duplicates += n - bad - accepted
                for r, k in reasons.items():
                    self.stats.reasons[r] = self.stats.reasons.get(r, 0) + k
                self.dirty = self.dirty or accepted > 0 or identity_rows > 0
        # only now: a crash before this line replays the rows, which adds nothing twice
        self._mark_loaded(rows[-1][0])
        # a forgotten person's calls, or calls older than the retention horizon: no page stays
        if dropped or proc.forgotten > forgotten or self.stats.expired > expired:
            self.state.truncate_wal()
        self.stats.loaded_requests += len(rows)
        self.stats.last_load_at = time.time()
        return len(rows)

    def _forgotten(self, raw: str) -> bool:
        """Whether a refused call (its raw JSON) carries a tombstoned identifier."""
        if self.tombstones is None or not self.tombstones.hashes:
            return False
        try:
            call = json.loads(raw)
        except ValueError:
            return False
        return self.tombstones.forgotten(call)
