"""The canonical event model: tables, columns and vocabularies.

Every loader writes these tables and every analysis reads them, on every engine.
See ``docs/event-model.md`` for the prose version.

>>> from kundresa.schema import EVENTS
>>> EVENTS.names[:4]
['event_id', 'person_id', 'person_key', 'anonymous_id']
>>> str(EVENTS.field("ts").type)
'timestamp[us]'
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "CALL_TYPES",
    "CHANNELS",
    "EVENTS",
    "FORGOTTEN",
    "IDENTITIES",
    "IDENTITY_KEYS",
    "IDENTITY_LINKS",
    "MAX_EVENT_BYTES",
    "QUARANTINE",
    "TOUCHPOINT_TYPES",
]

#: Segment's limit for one event, in bytes of JSON.
MAX_EVENT_BYTES = 32 * 1024

#: Segment call types kundresa accepts. ``identify``/``alias``/``group`` are identity calls.
CALL_TYPES = ("track", "page", "screen", "identify", "alias", "group")
#: Call types that are touchpoints (what analyses count by default).
TOUCHPOINT_TYPES = ("track", "page", "screen")

#: The channel vocabulary. Other lower-case values are kept as given.
CHANNELS = (
    "web",
    "app",
    "store",
    "email",
    "social",
    "search",
    "ads",
    "support",
    "referral",
    "review",
    "sms",
    "push",
    "direct",
    "unknown",
)

_S = pa.string()
_TS = pa.timestamp("us")  # UTC, naive: the same on DuckDB and Spark (session time zone UTC)

EVENTS = pa.schema(
    [
        pa.field("event_id", _S, nullable=False),
        pa.field("person_id", _S),
        pa.field("person_key", _S),
        pa.field("anonymous_id", _S),
        pa.field("user_id", _S),
        pa.field("ts", _TS, nullable=False),
        pa.field("type", _S),
        pa.field("event", _S),
        pa.field("channel", _S),
        pa.field("touchpoint", _S),
        pa.field("session_id", _S),
        pa.field("campaign", _S),
        pa.field("utm_source", _S),
        pa.field("utm_medium", _S),
        pa.field("utm_content", _S),
        pa.field("utm_term", _S),
        pa.field("revenue", pa.float64()),
        pa.field("currency", _S),
        pa.field("properties", _S),
        pa.field("source", _S),
        pa.field("ingested_at", _TS),
    ]
)

QUARANTINE = pa.schema(
    [
        pa.field("quarantine_id", _S, nullable=False),
        pa.field("source", _S),
        pa.field("row_number", pa.int64()),
        pa.field("reason", _S),
        pa.field("field", _S),
        pa.field("detail", _S),
        pa.field("raw", _S),
        pa.field("quarantined_at", _TS),
    ]
)

#: One row per identifier: which person it belongs to and when it was seen.
IDENTITIES = pa.schema(
    [
        pa.field("id_type", _S),
        pa.field("identifier", _S),
        pa.field("person_id", _S),
        pa.field("first_seen", _TS),
        pa.field("last_seen", _TS),
    ]
)

#: Internal: identifier keys (``type:value``) seen per ingest batch.
IDENTITY_KEYS = pa.schema(
    [pa.field("key", _S), pa.field("first_seen", _TS), pa.field("last_seen", _TS)]
)

#: Internal: undirected links between two identifier keys (same event, identify, alias).
IDENTITY_LINKS = pa.schema(
    [
        pa.field("key_a", _S),
        pa.field("key_b", _S),
        pa.field("first_seen", _TS),
        pa.field("via", _S),
    ]
)

#: Internal: tombstones of forgotten persons, one per identifier key, as a salted hash
#: (``sha256(salt || "type:value")``): later arrivals of the same identifiers (a retry, a
#: crash replay, a new event) are dropped and counted, never stored (``Workspace.forget``).
FORGOTTEN = pa.schema([pa.field("key_hash", _S), pa.field("forgotten_at", _TS)])
