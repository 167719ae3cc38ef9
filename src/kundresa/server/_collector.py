"""The Segment-compatible collector: request parsing, limits and the durable inbox writer.

What a request goes through (all of it Segment's HTTP Tracking API behaviour):

1. 429 with ``Retry-After`` when the inbox writer or the loader is too far behind, or when
   the write key (HTTP Basic) has spent its share (a token bucket per key, see
   :mod:`kundresa.server._limits`): checked before the body is read;
2. the body is read up to the limit, gunzipped (``Content-Encoding: gzip`` or gzip magic
   bytes; every member; a truncated member or trailing bytes -> 400), and parsed as JSON
   whatever the ``Content-Type`` (nested beyond 1,024 levels -> 400);
3. the write key comes from HTTP Basic (username, empty password) or ``writeKey`` in the
   body; unknown or revoked -> 401;
4. 500 KB per batch, 32 KB for a single call's body, at most ``MAX_CALLS_PER_BATCH`` calls
   -> 400 with a JSON reason and the number of calls refused; then the key's bucket pays
   for the calls (429 when it is empty);
5. every call is normalised (call type from the path, shared batch ``context``,
   ``receivedAt``; ``timestamp`` defaults to ``receivedAt`` as in Segment); a call that
   cannot be stored as it is (over 32 KB, a lone surrogate, nested deeper than
   ``MAX_DEPTH``) is quarantined with its reason while the others are stored; the answer
   is 200 only after that commit is fsynced. A call carrying an identifier of a forgotten
   person (a tombstone, :mod:`kundresa.server._tombstones`) is dropped before that, refused
   calls included: it is answered like the others but written nowhere.

Validation of the events themselves is the ingest pipeline's (same rules, same quarantine
reasons as files): it runs in the loader, so an invalid event inside an accepted batch is
quarantined with its reason instead of failing the batch.

>>> parse_body(b'{"type": "track"}', None, limit=100)
{'type': 'track'}
>>> split_calls({"batch": [{"type": "track", "event": "A"}], "context": {"ip": "1"}}, "batch")
[{'context': {'ip': '1'}, 'type': 'track', 'event': 'A'}]
"""

from __future__ import annotations

import asyncio
import base64
import collections
import concurrent.futures
import datetime as dt
import json
import logging
import math
import queue
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from kundresa._pii import CONTEXT_KEEP, PiiRules, Scrubber
from kundresa.schema import MAX_EVENT_BYTES
from kundresa.server._limits import CollectorCounters, KeyBuckets
from kundresa.server._state import ServerState
from kundresa.server._tombstones import Tombstones

__all__ = [
    "CALLS",
    "CORS",
    "MAX_BATCH_BYTES",
    "MAX_CALLS_PER_BATCH",
    "MAX_DEPTH",
    "CallRefusedError",
    "CollectorError",
    "CollectorFastPath",
    "InboxWriter",
    "basic_auth_user",
    "handle_call",
    "normalise_call",
    "parse_body",
    "split_calls",
]

log = logging.getLogger("kundresa.server")

#: CORS headers of every collector answer (browsers send with ``Authorization``)
CORS: dict[str, str] = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Content-Encoding",
    "Access-Control-Expose-Headers": "Retry-After",
    "Access-Control-Max-Age": "86400",
}

#: Segment's limit for one batch request, in bytes of (uncompressed) JSON.
MAX_BATCH_BYTES = 500 * 1024

#: Calls in one request at most (Segment's SDKs send at most a few hundred; 500 KB of
#: ``{}`` would be 150,000 calls): more -> 400 ``too_many_calls``, every call counted.
MAX_CALLS_PER_BATCH = 2_500

#: How deep a call may nest JSON (objects and arrays); deeper calls are quarantined with
#: ``too_deeply_nested`` (and a body nested beyond 1,024 levels is refused with 400).
MAX_DEPTH = 254

#: path -> call type; ``batch`` (and ``import``, Segment's old name) carry many calls
CALLS: dict[str, str] = {
    "track": "track",
    "identify": "identify",
    "page": "page",
    "screen": "screen",
    "group": "group",
    "alias": "alias",
    "batch": "batch",
    "import": "batch",
    "t": "track",
    "i": "identify",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
    "b": "batch",
}


@dataclass(frozen=True)
class CollectorError(Exception):
    """A request the collector refuses: HTTP status, a reason code and a message."""

    status: int
    reason: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        return {"success": False, "error": self.reason, "detail": self.detail}


class _TooDeepError(ValueError):
    """JSON nested deeper than the parser allows."""


try:  # the [server] extra installs orjson; the stdlib is the fallback (and for what orjson
    # refuses: integers beyond 64 bits, NaN literals)
    import orjson

    def _loads(body: bytes) -> Any:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            if "depth limit" in str(exc):  # orjson: 1024 levels; the stdlib would recurse
                raise _TooDeepError(str(exc)) from exc
            return json.loads(body)

    def _dumps(item: Any) -> bytes:
        try:
            return orjson.dumps(item)
        except TypeError:  # e.g. an integer beyond 64 bits
            return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()

    def _dumps_call(item: Any) -> bytes:
        try:
            return orjson.dumps(item)
        except TypeError as exc:  # orjson.JSONEncodeError
            if "surrogates" in str(exc):
                raise UnicodeEncodeError("utf-8", "", 0, 1, "surrogates not allowed") from exc
            if "ecursion" in str(exc):
                raise _TooDeepError(str(exc)) from exc
        return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()

except ImportError:  # pragma: no cover - without the extra

    def _loads(body: bytes) -> Any:
        return json.loads(body)

    def _dumps(item: Any) -> bytes:
        return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()

    def _dumps_call(item: Any) -> bytes:
        return _dumps(item)


def _gunzip(raw: bytes, limit: int, too_large: CollectorError) -> bytes:
    """Every member of a gzip body (RFC 1952 allows several, concatenated); a truncated
    member (no CRC trailer), a bad CRC or bytes after the last member refuse the body."""
    out = bytearray()
    data = raw
    member = 0
    while True:
        member += 1
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += d.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise CollectorError(
                400,
                "invalid_gzip",
                f"Content-Encoding is gzip but gzip member {member} is not valid ({exc}); "
                "send the body gzip-compressed, or without Content-Encoding",
            ) from exc
        if len(out) > limit or d.unconsumed_tail:
            raise too_large
        if not d.eof:
            raise CollectorError(
                400,
                "invalid_gzip",
                f"gzip member {member} is truncated (no end of stream and CRC trailer); "
                "send the whole compressed body",
            )
        data = d.unused_data
        if not data:
            return bytes(out)
        if data[:2] != b"\x1f\x8b":
            raise CollectorError(
                400,
                "invalid_gzip",
                f"{len(data):,} bytes after the end of gzip member {member} are not gzip; "
                "send only the compressed body",
            )


def parse_body(raw: bytes, encoding: str | None, *, limit: int) -> Any:
    """Decompress (gzip) and parse ``raw`` as JSON; at most ``limit`` bytes after gunzip.

    >>> import gzip
    >>> parse_body(gzip.compress(b'{"a": 1}'), "gzip", limit=100)
    {'a': 1}
    >>> parse_body(b'{"a": 1}', None, limit=3)
    Traceback (most recent call last):
    ...
    kundresa.server._collector.CollectorError: ...
    """
    kind = "batch" if limit > MAX_EVENT_BYTES else "event"
    too_large = CollectorError(
        400,
        f"{kind}_too_large",
        f"the request body is over {limit // 1024} KB; Segment's limits are 32 KB per event "
        "and 500 KB per batch: send smaller batches",
    )
    if (encoding or "").lower().strip() == "gzip" or raw[:2] == b"\x1f\x8b":
        body = _gunzip(raw, limit, too_large)
    else:
        body = raw
    if len(body) > limit:
        raise too_large
    try:
        return _loads(body)
    except (_TooDeepError, RecursionError) as exc:
        raise CollectorError(
            400,
            "too_deeply_nested",
            f"the body nests JSON too deeply (a call may nest at most {MAX_DEPTH} levels); "
            "send flatter events",
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise CollectorError(
            400, "invalid_json", f"the body is not JSON ({exc}); send one JSON object"
        ) from exc


def basic_auth_user(header: str | None) -> str | None:
    """The username of an HTTP Basic ``Authorization`` header (the write key), or None.

    >>> basic_auth_user("Basic " + base64.b64encode(b"kw_abc:").decode())
    'kw_abc'
    """
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    user = decoded.split(":", 1)[0]
    return user or None


def split_calls(body: Any, call: str) -> list[Any]:
    """The calls of a request: a batch's items (with its shared ``context`` and
    ``integrations``) or the single call, whose ``type`` comes from the path."""
    if not isinstance(body, dict):
        raise CollectorError(400, "not_a_json_object", "the body must be one JSON object")
    if call != "batch":
        return [{**body, "type": call}]
    items = body.get("batch")
    if not isinstance(items, list):
        raise CollectorError(400, "missing_batch", 'a batch request needs "batch": [ ...calls... ]')
    shared = {k: body[k] for k in ("context", "integrations") if isinstance(body.get(k), dict)}
    if not shared:
        return items
    return [{**shared, **i} if isinstance(i, dict) else i for i in items]


@dataclass(frozen=True)
class CallRefusedError(Exception):
    """One call of an accepted request that the collector quarantines: reason, the field,
    a one-line fix and the call as JSON text (ASCII, so that any call can be stored)."""

    reason: str
    field: str
    detail: str
    raw: str

    def line(self) -> str:
        """The inbox line the loader turns into a quarantine row (``!`` + JSON: a normalised
        call, being JSON, never starts with ``!``)."""
        return "!" + json.dumps(
            {"reason": self.reason, "field": self.field, "detail": self.detail, "raw": self.raw}
        )


def _ascii_raw(item: Any) -> str:
    """The call as ASCII JSON (lone surrogates escaped); a summary if it nests too deep."""
    try:
        return json.dumps(item, ensure_ascii=True, separators=(",", ":"), default=str)
    except (RecursionError, ValueError):
        keep = (
            {k: v for k, v in item.items() if isinstance(v, str)} if isinstance(item, dict) else {}
        )
        return json.dumps({**keep, "_kundresa": "nested too deeply to keep"}, ensure_ascii=True)


def _surrogate_path(item: Any) -> str:
    """Where the first lone surrogate is (``properties.file``), for the refusal's field."""
    todo: list[tuple[str, Any]] = [("", item)]
    while todo:
        path, v = todo.pop()
        if isinstance(v, str):
            if any("\ud800" <= c <= "\udfff" for c in v):
                return path or "row"
        elif isinstance(v, dict) and len(path) < 2_000:
            for k, x in v.items():
                name = k if isinstance(k, str) else str(k)
                if any("\ud800" <= c <= "\udfff" for c in name):
                    return (path + "." if path else "") + name.encode(errors="replace").decode()
                todo.append(((path + "." if path else "") + name, x))
        elif isinstance(v, list) and len(path) < 2_000:
            todo.extend((f"{path}[{i}]", x) for i, x in enumerate(v))
    return "row"


#: trims ``context`` only (``normalise_call`` without the workspace's rules)
_CONTEXT_ONLY = Scrubber(PiiRules(enabled=False), "")
_KEEP = frozenset(CONTEXT_KEEP)


def normalise_call(item: Any, received_at: str, pii: Scrubber | None = None) -> str:
    """One call as the JSON line the loader validates. Segment semantics: ``receivedAt`` is
    the server's clock; ``timestamp`` defaults to it when the client sent neither
    ``timestamp`` nor ``originalTimestamp``; the write key is never stored, nor ``context``
    beyond what ingest reads (``ip``, ``userAgent``, ``device``, ... are dropped), and
    ``pii`` (the workspace's personal-data rules, see :mod:`kundresa._pii`) hashes or drops
    personal data before the line reaches the inbox on disk. A call that
    cannot be stored as it is raises :class:`CallRefusedError` (quarantined with its reason):
    over 32 KB, a lone surrogate (not Unicode), nested too deeply. (Ids and names that are
    objects or hold NUL are the loader's: the ingest rules quarantine them, as in files.)

    >>> normalise_call({"type": "track", "writeKey": "k"}, "2026-01-05T10:00:00.000Z")
    '{"type":"track","receivedAt":"2026-01-05T10:00:00.000Z","timestamp":"2026-01-05T10:00:00.000Z"}'
    >>> normalise_call({"type": "page", "context": {"ip": "10.1.2.3", "page": {"path": "/"}},
    ...                 "timestamp": "2026-01-05T10:00:00Z"}, "2026-01-05T10:00:00.000Z")
    '{"type":"page","context":{"page":{"path":"/"}},"timestamp":"2026-01-05T10:00:00Z","receivedAt":"2026-01-05T10:00:00.000Z"}'
    >>> normalise_call({"type": "track", "p": "x" * 40_000}, "2026-01-05T10:00:00.000Z")
    Traceback (most recent call last):
    ...
    kundresa.server._collector.CallRefusedError: ...
    """
    pii = pii or _CONTEXT_ONLY
    if isinstance(item, dict):
        item = dict(item)
        item.pop("writeKey", None)
        ctx = item.get("context")
        if isinstance(ctx, dict) and not ctx.keys() <= _KEEP:
            item["context"] = {k: v for k, v in ctx.items() if k in _KEEP}
        item["receivedAt"] = received_at
        if item.get("timestamp") is None and item.get("originalTimestamp") is None:
            item["timestamp"] = received_at
    else:
        item = pii.call(item)
    try:
        raw = _dumps_call(item)
        if isinstance(item, dict) and pii.needs_call(item):  # most calls need no walk
            item = pii.call(item)
            raw = _dumps_call(item)
    except UnicodeEncodeError:
        item = pii.call(item)  # the refusal keeps the call under the rules too
        field = _surrogate_path(item)
        raise CallRefusedError(
            "invalid_unicode",
            field,
            f"{field} holds a lone surrogate (not Unicode text, e.g. a file name decoded "
            "with surrogateescape); send valid UTF-8 text",
            _ascii_raw(item),
        ) from None
    except (_TooDeepError, RecursionError):
        item = pii.call(item)
        raise CallRefusedError(
            "too_deeply_nested",
            "row",
            f"the call nests JSON deeper than {MAX_DEPTH} levels; send flatter properties",
            _ascii_raw(item),
        ) from None
    if len(raw) > MAX_EVENT_BYTES:
        raise CallRefusedError(
            "event_too_large",
            "row",
            f"the event is {len(raw):,} bytes; Segment's limit is 32 KB per event: "
            "move large values out of properties",
            raw.decode(),
        )
    return raw.decode()


def received_now() -> str:
    """The server clock as Segment writes ``receivedAt`` (UTC, milliseconds, ``Z``)."""
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


# an inbox row, or (with None) the loader's "loaded up to seq"
_Item = tuple[tuple[str, str, int, str] | int, "concurrent.futures.Future[None]"]


class InboxWriter:
    """Group commit: requests queue their rows; one thread commits whatever is queued in
    one SQLite transaction (one fsync) and then releases every waiting request.

    It is the only writer of the inbox on the request path: the loader's "loaded up to
    seq" (:meth:`mark_loaded`) rides in the same transactions, so no lower-priority thread
    ever holds SQLite's write lock while requests wait for it, and its commits run no WAL
    checkpoint (the loader runs them, see :meth:`ServerState.checkpoint`).
    """

    def __init__(self, state: ServerState, *, max_queue: int = 2_000) -> None:
        self.state = state
        self.max_queue = max_queue
        self._q: queue.Queue[_Item | None] = queue.Queue()
        self._closed = False
        self._closing = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kundresa-inbox", daemon=True)
        self.on_commit: list[Any] = []  # callbacks (e.g. wake the loader)
        self.commit_seconds: collections.deque[float] = collections.deque(maxlen=2_000)
        self.group_sizes: collections.deque[int] = collections.deque(maxlen=2_000)
        self.thread_id: int | None = None  # the OS thread id (bench: CPU per thread)
        self._thread.start()

    def commit_stats(self) -> dict[str, float]:
        """Recent group commits: how many, p50/p99/max milliseconds, requests per commit."""
        xs = sorted(self.commit_seconds)
        tid = {"thread_id": self.thread_id} if self.thread_id is not None else {}
        if not xs:
            return {"commits": 0, **tid}
        return {
            **tid,
            "commits": len(xs),
            "p50_ms": round(1000 * xs[len(xs) // 2], 2),
            "p99_ms": round(1000 * xs[min(len(xs) - 1, int(len(xs) * 0.99))], 2),
            "max_ms": round(1000 * xs[-1], 2),
            "requests_per_commit": round(sum(self.group_sizes) / len(self.group_sizes), 2),
        }

    def backlog(self) -> int:
        """Requests waiting for their commit."""
        return self._q.qsize()

    def submit(self, source: str, lines: list[str]) -> concurrent.futures.Future[None]:
        """Queue one request's events; the future resolves once they are on disk."""
        return self._put((received_now(), source, len(lines), "\n".join(lines)))

    def mark_loaded(self, seq: int) -> concurrent.futures.Future[None]:
        """Queue "inbox rows up to ``seq`` are in the event store" (they are then deleted),
        committed with the next group; RuntimeError once the writer is closed."""
        return self._put(seq)

    def _put(self, item: tuple[str, str, int, str] | int) -> concurrent.futures.Future[None]:
        fut: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._closing:
            if self._closed:
                raise RuntimeError("the inbox writer is closed")
            self._q.put((item, fut))
        return fut

    def _run(self) -> None:
        self.thread_id = threading.get_native_id()
        try:
            self._loop()
        finally:
            self.state.close()  # this thread's connection

    def _loop(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < 500:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            t0 = time.perf_counter()
            rows = [row for row, _ in batch if not isinstance(row, int)]
            marks = [row for row, _ in batch if isinstance(row, int)]
            try:
                self.state.append_inbox(rows, loaded=max(marks) if marks else None)
            except Exception as exc:  # disk full, locked, ...: fail these requests (5xx)
                for _, fut in batch:
                    fut.set_exception(exc)
            else:
                self.commit_seconds.append(time.perf_counter() - t0)
                self.group_sizes.append(len(batch))
                for _, fut in batch:
                    fut.set_result(None)
                for cb in self.on_commit:
                    cb()
            if stop:
                return

    def close(self) -> None:
        """Commit what is queued, then stop."""
        with self._closing:
            self._closed = True
            self._q.put(None)
        self._thread.join(timeout=30)


# -- the request handler -------------------------------------------------------------------
class CollectorRuntime(Protocol):
    """What :func:`handle_call` needs of the running server (``app.Runtime``)."""

    state: ServerState
    writer: InboxWriter
    config: Any
    buckets: KeyBuckets
    counters: CollectorCounters
    faults: int
    faulted: set[int]
    #: the workspace's personal-data rules (applied before a call reaches the inbox)
    pii: Scrubber
    tombstones: Tombstones

    def overloaded(self) -> bool:
        """Too far behind: answer 429."""
        ...


_OK = b'{"success":true}'


def _error_body(status: int, reason: str, detail: str) -> tuple[int, bytes]:
    return status, _dumps({"success": False, "error": reason, "detail": detail})


async def _read_body(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit + 64 * 1024:  # compressed bodies may be a little larger than JSON
            raise CollectorError(
                400,
                "batch_too_large" if limit > MAX_EVENT_BYTES else "event_too_large",
                f"the request body is over {limit // 1024} KB; Segment's limits are 32 KB per "
                "event and 500 KB per batch: send smaller batches",
            )
        parts.append(chunk)
    return b"".join(parts)


async def handle_call(
    rt: CollectorRuntime,
    call: str,
    content_encoding: str | None,
    authorization: str | None,
    chunks: AsyncIterator[bytes],
) -> tuple[int, bytes, dict[str, str]]:
    """Answer one collector request: ``(status, JSON body, extra headers)``.

    The one implementation of ``POST /v1/{call}`` (see the module docstring for the steps);
    200 only once the request's events are committed (fsynced) in the inbox. Every refusal
    is counted (``rt.counters``); a refused request's answer says how many calls it had.
    """
    kind = CALLS[call]
    limit = MAX_BATCH_BYTES if kind == "batch" else MAX_EVENT_BYTES
    counters = rt.counters

    def refuse(
        status: int, reason: str, detail: str, calls: int | None = None, retry: float = 0
    ) -> tuple[int, bytes, dict[str, str]]:
        counters.refuse(reason, calls)
        body: dict[str, Any] = {"success": False, "error": reason, "detail": detail}
        if calls is not None:
            body["refused"] = calls
        extra = {"Retry-After": str(max(1, math.ceil(retry)))} if status == 429 else {}
        return status, _dumps(body), extra

    if rt.overloaded():
        return refuse(
            429,
            "overloaded",
            "the collector is behind; retry after the given seconds",
            retry=rt.config.retry_after,
        )
    token = basic_auth_user(authorization)
    key = rt.state.check_key(token, "write") if token else None
    if key is not None:  # a key in debt is refused before its body is read (cheap)
        wait = rt.buckets.wait(key.id)
        if wait > 0:
            return refuse(429, "rate_limited", _rate_detail(rt), retry=wait)
    calls: int | None = None
    try:
        raw = await _read_body(chunks, limit)
        parsed = parse_body(raw, content_encoding, limit=limit)
        if key is None and isinstance(parsed, dict) and isinstance(parsed.get("writeKey"), str):
            key = rt.state.check_key(parsed["writeKey"], "write")
        calls = _count_calls(parsed, kind)
        if key is None:
            raise CollectorError(
                401,
                "unauthorized",
                "unknown or revoked write key: send it as the HTTP Basic user name or as "
                "writeKey in the body (create one with: kundresa keys create --name NAME)",
            )
        items = split_calls(parsed, kind)
        calls = len(items)
        if calls > MAX_CALLS_PER_BATCH:
            raise CollectorError(
                400,
                "too_many_calls",
                f"the batch has {calls:,} calls; at most {MAX_CALLS_PER_BATCH:,} per request: "
                "send smaller batches",
            )
    except CollectorError as exc:
        return refuse(exc.status, exc.reason, exc.detail, calls)
    wait = rt.buckets.take(key.id, calls)
    if wait > 0:
        return refuse(429, "rate_limited", _rate_detail(rt), calls, retry=wait)
    items = rt.tombstones.drop(items)  # a forgotten person's calls are written nowhere
    received = received_now()
    lines: list[str] = []
    quarantined: collections.Counter[str] = collections.Counter()
    for i in items:
        try:
            lines.append(normalise_call(i, received, rt.pii))
        except CallRefusedError as bad:
            quarantined[bad.reason] += 1
            lines.append(bad.line())
    if lines:
        try:
            await asyncio.wrap_future(rt.writer.submit(f"collector:{key.name}", lines))
        except Exception as exc:
            log.exception("inbox commit failed")
            return (*_error_body(503, "not_stored", str(exc)), {})
    if quarantined:
        counters.quarantine(quarantined)
    if rt.config.fault_5xx_first_attempt:  # tests: fail each batch's first attempt
        ident = hash(tuple(str(i.get("messageId")) for i in items if isinstance(i, dict)))
        if ident not in rt.faulted:
            rt.faulted.add(ident)
            rt.faults += 1
    if rt.faults > 0:  # tests: the events are stored, but the client sees a failure
        rt.faults -= 1
        return (*_error_body(500, "injected_fault", "test fault"), {})
    if not quarantined:
        return 200, _OK, {}
    n_bad = sum(quarantined.values())
    answer = {
        "success": True,
        "accepted": len(lines) - n_bad,
        "quarantined": n_bad,
        "reasons": dict(sorted(quarantined.items())),
    }
    return 200, _dumps(answer), {}


def _count_calls(parsed: Any, kind: str) -> int | None:
    """How many calls a parsed body holds, also when it is refused (for the answer)."""
    if isinstance(parsed, list):
        return len(parsed)
    if not isinstance(parsed, dict):
        return None
    if kind != "batch":
        return 1
    items = parsed.get("batch")
    if isinstance(items, list):
        return len(items)
    return 1 if isinstance(items, dict) else None


def _rate_detail(rt: CollectorRuntime) -> str:
    b = rt.buckets
    return (
        f"this write key sent more than {b.rate:,.0f} calls a second (bursts up to "
        f"{b.burst:,.0f}); retry after the given seconds, or raise kundresa serve --key-rate"
    )


_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_CORS_RAW = [(k.lower().encode(), v.encode()) for k, v in CORS.items()]


class CollectorFastPath:
    """ASGI middleware: answers ``POST /v1/{call}`` itself, everything else goes on to the
    app. The collector is the hot path (hundreds of requests a second); skipping the
    framework's routing, dependency and exception layers halves its CPU per request. The
    app's ``/v1/*`` routes stay (OpenAPI, preflight) and call the same :func:`handle_call`.
    """

    def __init__(self, app: Callable[[_Scope, _Receive, _Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """Serve one ASGI connection scope."""
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and path[:4] == "/v1/"
            and path[4:] in CALLS
            and hasattr(scope.get("app"), "state")
        ):
            encoding = authorization = None
            for name, value in scope["headers"]:
                if name == b"content-encoding":
                    encoding = value.decode("latin-1")
                elif name == b"authorization":
                    authorization = value.decode("latin-1")

            async def chunks() -> AsyncIterator[bytes]:
                while True:
                    msg = await receive()
                    if msg["type"] == "http.disconnect":
                        raise CollectorError(400, "disconnected", "the client went away")
                    yield msg.get("body", b"")
                    if not msg.get("more_body", False):
                        return

            rt = scope["app"].state.runtime
            status, body, extra = await handle_call(rt, path[4:], encoding, authorization, chunks())
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *_CORS_RAW,
                *((k.lower().encode(), v.encode()) for k, v in extra.items()),
            ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
