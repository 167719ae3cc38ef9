"""Tombstones at the collector's door: a forgotten person's calls are dropped before they are
written anywhere, not even the inbox (issue 14, privacy).

``Workspace.forget`` keeps ``sha256(salt || "type:value")`` of each of the person's identifier
keys in the ``forgotten`` table; the loader drops staged rows carrying one of them. That alone
left the raw call in the SQLite inbox (and its WAL) until the loader ran: after a SIGKILL, an
SDK's resend of a forgotten person's batch sat there raw until the next start. Here the
collector derives the same keys from each call in Python (the ingest's JSON paths, trimming
and normalisation, :mod:`kundresa._ingest_sql`) and drops a call whose key is a tombstone,
refused calls (over 32 KB, lone surrogates) included. The loader's SQL check stays as the
safety net for what this derivation might miss.

>>> from kundresa._ingest_sql import DEFAULT_IDENTIFIERS
>>> keys = call_keys({"userId": " u-1 ", "traits": {"email": "A@x.se"}}, DEFAULT_IDENTIFIERS, "s")
>>> keys[0], keys[1].split(":")[0], len(keys[1].split(":")[1])
('user_id:u-1', 'email', 32)
>>> t = Tombstones("s", DEFAULT_IDENTIFIERS, {tombstone("s", "user_id:u-1")})
>>> kept = t.drop([{"userId": "u-1"}, {"userId": "u-2"}])
>>> kept, t.dropped
([{'userId': 'u-2'}], 1)
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from kundresa._ingest_sql import FIELDS, WHITE_SPACE, IdentifierRule, _id_paths
from kundresa._pii import _HEX32, _lower

if TYPE_CHECKING:
    from kundresa._store import Store

__all__ = ["Tombstones", "call_keys", "stored_tombstones", "tombstone"]

_NOT_DIGITS = re.compile(r"[^0-9+]")


def tombstone(salt: str, key: str) -> str:
    """The tombstone of identifier key ``key`` (as ``Workspace.forget`` stores it).

    >>> tombstone("s", "user_id:u-1")[:12]
    '7d7c053f4417'
    """
    # surrogatepass: a lone surrogate (a refused call's id) hashes, and matches no stored key
    return hashlib.sha256((salt + key).encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: Any) -> str | None:
    """What DuckDB's ``json_extract_string`` returns for a JSON value, trimmed, '' -> None."""
    if value is None or isinstance(value, dict | list):
        return None  # objects and arrays: quarantined by the ingest rules, or no identifier
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    else:
        text = str(value)
    text = text.strip(WHITE_SPACE)
    return text or None


#: (the object's keys, the field) of each JSON path, per field; the objects of all paths
_Plan = tuple[tuple[tuple[str, ...], ...], tuple[tuple[tuple[int, str], ...], ...]]


@functools.lru_cache(maxsize=64)
def _plan(rules: tuple[IdentifierRule, ...]) -> _Plan:
    """Where each field is looked up: the distinct nested objects (``()`` the call itself,
    ``("traits",)``, ``("context", "traits")``, ...) and, per field in order (user id, each
    rule, anonymous id, type, previous id), its paths as (object index, field name)."""
    fields = [
        FIELDS["user_id"],
        *(_id_paths(r) for r in rules),
        FIELDS["anonymous_id"],
        FIELDS["type"],
        FIELDS["previous_id"],
    ]
    objects: list[tuple[str, ...]] = []
    lookups = []
    for paths in fields:
        one = []
        for path in paths:
            *container, name = path[2:].split(".")  # "$.traits.email"
            if tuple(container) not in objects:
                objects.append(tuple(container))
            one.append((objects.index(tuple(container)), name))
        lookups.append(tuple(one))
    return tuple(objects), tuple(lookups)


def _values(call: dict[str, Any], rules: tuple[IdentifierRule, ...]) -> list[str | None]:
    """Each field's first value (``coalesce`` of the ingest's extracts), in plan order."""
    containers, lookups = _plan(rules)
    objs: list[dict[str, Any] | None] = []
    for keys in containers:
        obj: Any = call
        for k in keys:
            obj = obj.get(k) if isinstance(obj, dict) else None
        objs.append(obj if isinstance(obj, dict) else None)
    out: list[str | None] = []
    for paths in lookups:
        got = None
        for i, name in paths:
            o = objs[i]
            if o is not None and (got := _text(o.get(name))) is not None:
                break
        out.append(got)
    return out


def _normalised(rule: IdentifierRule, value: str, salt: str) -> str | None:
    """``_ingest_sql._normalise`` in Python: a PII value that already is such a hash (the
    collector hashes before its inbox) is kept, and nothing left after normalising (a phone
    "n/a") is no identifier."""
    if rule.normalise == "lower":
        v = _lower(value.strip(" "))
    elif rule.normalise == "digits":
        v = _NOT_DIGITS.sub("", value.strip(" "))
    else:
        v = value.strip(" ")
    if rule.pii:
        low = _lower(value.strip(" "))
        if len(low) == 32 and _HEX32.fullmatch(low):
            return low
        if not v:
            return None
        data = f"{salt}:{rule.name}:{v}".encode("utf-8", "surrogatepass")
        v = hashlib.sha256(data).hexdigest()[:32]
    return v or None


def call_keys(call: Any, rules: Sequence[IdentifierRule], salt: str) -> list[str]:
    """The identifier keys the ingest derives from one call (``user_id:..``, ``email:<hash>``,
    ``anonymous_id:..``, and an alias call's ``previousId``); [] for a call that is no object.

    >>> call_keys({"type": "alias", "userId": "u", "previousId": "a"}, (), "s")
    ['user_id:u', 'anonymous_id:a']
    """
    if not isinstance(call, dict):
        return []
    rules = tuple(rules)
    user, *ids, anon, kind, previous = _values(call, rules)
    keys = [] if user is None else ["user_id:" + user]
    for rule, raw in zip(rules, ids, strict=True):
        value = None if raw is None else _normalised(rule, raw, salt)
        if value is not None:
            keys.append(f"{rule.name}:{value}")
    if anon is not None:
        keys.append("anonymous_id:" + anon)
    if previous is not None and (kind or "track").lower() == "alias":
        keys.append("anonymous_id:" + previous)
    return keys


def stored_tombstones(store: Store) -> set[str]:
    """The tombstones kept in ``store`` (its ``forgotten`` table; empty when there is none).

    >>> from kundresa._store import DuckDBStore
    >>> stored_tombstones(DuckDBStore(":memory:"))
    set()
    """
    if not store.exists("forgotten"):
        return set()
    got = store.fetch(store.table("forgotten").select("key_hash")).column(0).to_pylist()
    return {str(h) for h in got}


class Tombstones:
    """The tombstones a running server checks every call against (read from the workspace
    at start and after each ``forget``); ``dropped`` counts the calls dropped so far."""

    def __init__(
        self, salt: str, rules: Sequence[IdentifierRule], hashes: Iterable[str] = ()
    ) -> None:
        self.salt = salt
        self.rules = tuple(rules)
        self.hashes: frozenset[str] = frozenset(hashes)
        self.dropped = 0
        self._lock = threading.Lock()

    def update(self, hashes: Iterable[str]) -> None:
        """Replace the tombstones (atomically: a request sees the old set or the new).

        >>> t = Tombstones("s", ())
        >>> t.update({tombstone("s", "user_id:u-1")}); t.forgotten({"userId": "u-1"})
        True
        """
        self.hashes = frozenset(hashes)

    def forgotten(self, call: Any) -> bool:
        """Whether ``call`` carries an identifier key of a forgotten person.

        >>> Tombstones("s", ()).forgotten({"userId": "u-1"})
        False
        """
        hashes = self.hashes
        if not hashes:
            return False
        keys = call_keys(call, self.rules, self.salt)
        return any(tombstone(self.salt, k) in hashes for k in keys)

    def drop(self, calls: list[Any]) -> list[Any]:
        """``calls`` without those of forgotten persons (counted in ``dropped``).

        >>> t = Tombstones("s", (), {tombstone("s", "anonymous_id:a-1")})
        >>> t.drop([{"anonymousId": "a-1"}, "not a call", {"anonymousId": "a-2"}])
        ['not a call', {'anonymousId': 'a-2'}]
        """
        if not self.hashes:
            return calls
        kept = [c for c in calls if not self.forgotten(c)]
        if len(kept) < len(calls):
            with self._lock:
                self.dropped += len(calls) - len(kept)
        return kept
