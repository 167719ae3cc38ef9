"""The sequence index: every person's touchpoints, cleaned, encoded and totally ordered.

All path analyses read one :class:`Sequences` object: numpy arrays sorted by
``(person_id, ts, event_id)`` with the event label as a small integer code. The engine (DuckDB
or Spark, through one Ibis expression) filters, orders and returns the few columns needed;
cleaning rules are applied to the *distinct* values in Python (regexes never run per row), so
both engines give the same arrays and every analysis after that is plain numpy.

>>> product = PathRule(r"^/product/", "Product page", field="url")
>>> rules = PathRules(rename=(product,), hide=("Email Sent",))
>>> rules.label("Page Viewed", {"url": "/product/42"})
'Product page'
>>> rules.label("Email Sent", {}) is None
True
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kundresa._errors import InvalidOptionError

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["FIELDS", "PathRule", "PathRules", "Sequences", "load_sequences"]

#: Fields a rule can read: columns of the events table, ``url`` (``properties.path`` or
#: ``properties.url``) and any ``properties.NAME``.
FIELDS = ("event", "touchpoint", "channel", "type", "url")

I64 = np.dtype(np.int64)
Ints = np.ndarray[Any, np.dtype[np.int64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]


def _check_field(name: str) -> str:
    if name in FIELDS or (name.startswith("properties.") and len(name) > 11):
        return name
    raise InvalidOptionError("field", name, allowed=(*FIELDS, "properties.NAME"), fix="")


@dataclass(frozen=True)
class PathRule:
    """Rename: when ``pattern`` (a regular expression, searched) matches ``field``, the event
    is labelled ``alias``.

    >>> PathRule(r"^/product/", "Product page", field="url").applies({"url": "/product/7"})
    True
    """

    pattern: str
    alias: str
    field: str = "event"

    def __post_init__(self) -> None:
        _check_field(self.field)
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise InvalidOptionError(
                "pattern", self.pattern, fix=f"write a valid regular expression ({exc})"
            ) from exc

    def applies(self, values: dict[str, str | None]) -> bool:
        """Whether the rule matches these field values."""
        value = values.get(self.field)
        return value is not None and _compiled(self.pattern).search(value) is not None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True)
class PathRules:
    """How raw events become path steps (path cleaning).

    * ``rename``: rules tried in order; the first that matches gives the label (merge
      ``/product/1`` and ``/product/2`` into ``Product page``, or two event names into one).
    * ``hide``: event names or labels (exact, or regular expressions matching the whole
      name) that are dropped from paths (noise such as ``Email Sent``).
    * ``group_by``: a field whose value refines the label, ``"Page Viewed: Product"``
      (e.g. ``touchpoint`` for the page type); events without a value (or whose value is
      their own name) keep their name.
    * ``only``: keep only these labels (after renaming), everything else is hidden.

    >>> PathRules(group_by="touchpoint").label("Page Viewed", {"touchpoint": "Cart"})
    'Page Viewed: Cart'
    """

    rename: tuple[PathRule, ...] = ()
    hide: tuple[str, ...] = ()
    group_by: str | None = None
    only: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.group_by is not None:
            _check_field(self.group_by)
        for h in (*self.hide, *self.only):
            try:
                re.compile(h)
            except re.error as exc:
                raise InvalidOptionError(
                    "hide", h, fix=f"write an event name or a valid regular expression ({exc})"
                ) from exc

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the rules read besides ``event``."""
        names = {r.field for r in self.rename} | ({self.group_by} if self.group_by else set())
        return tuple(sorted(names - {"event"}))

    def label(self, event: str, values: dict[str, str | None]) -> str | None:
        """The label of one event, or None when it is hidden."""
        values = {"event": event, **values}
        out: str | None = None
        for rule in self.rename:
            if rule.applies(values):
                out = rule.alias
                break
        if out is None:
            extra = values.get(self.group_by) if self.group_by else None
            out = f"{event}: {extra}" if extra not in (None, "", event) else event

        def hit(patterns: tuple[str, ...]) -> bool:
            return any(
                p in (out, event) or _compiled(p).fullmatch(out) or _compiled(p).fullmatch(event)
                for p in patterns
            )

        if hit(self.hide) or (self.only and not hit(self.only)):
            return None
        return out


@dataclass(frozen=True)
class Sequences:
    """Encoded touchpoints sorted by ``(person, ts, event_id)``.

    ``label[i]`` indexes ``labels``; ``person[i]`` indexes ``persons``; ``ts`` in microseconds
    since the epoch (UTC); ``extra`` holds optional per-row codes of further fields.
    """

    label: Ints
    ts: Ints
    person: Ints
    labels: tuple[str, ...]
    persons: tuple[str, ...]
    extra: dict[str, tuple[Ints, tuple[str | None, ...]]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of events."""
        return int(self.label.shape[0])

    def code(self, name: str) -> int:
        """The code of a label, -1 when it never occurs."""
        try:
            return self.labels.index(name)
        except ValueError:
            return -1

    def person_start(self) -> Bools:
        """True at the first event of every person."""
        out = np.ones(self.n, dtype=bool)
        out[1:] = self.person[1:] != self.person[:-1]
        return out

    @classmethod
    def from_rows(
        cls,
        rows: list[tuple[str, int, str]],
    ) -> Sequences:
        """Build from ``(person, ts_us, label)`` rows (any order; ties keep row order).

        >>> s = Sequences.from_rows([("b", 1, "x"), ("a", 2, "y"), ("a", 1, "z")])
        >>> [s.labels[i] for i in s.label], [s.persons[i] for i in s.person]
        (['z', 'y', 'x'], ['a', 'a', 'b'])
        """
        order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], i))
        persons = sorted({r[0] for r in rows})
        labels = sorted({r[2] for r in rows})
        pi = {p: i for i, p in enumerate(persons)}
        li = {x: i for i, x in enumerate(labels)}
        return cls(
            label=np.array([li[rows[i][2]] for i in order], dtype=np.int64),
            ts=np.array([rows[i][1] for i in order], dtype=np.int64),
            person=np.array([pi[rows[i][0]] for i in order], dtype=np.int64),
            labels=tuple(labels),
            persons=tuple(persons),
        )


def _codes(col: pa.ChunkedArray | pa.Array) -> tuple[Ints, list[Any]]:
    """Dictionary codes (nulls -> -1) and the dictionary values of a column."""
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = (
            enc.unify_dictionaries().combine_chunks()
            if enc.num_chunks
            else pa.array([], pa.dictionary(pa.int32(), pa.string()))
        )
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return idx, enc.dictionary.to_pylist()


def _json_value(text: str | None, key: str) -> str | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("path", data.get("url")) if key == "url" else data.get(key)
    return None if value is None else str(value)


def load_sequences(
    ws: Workspace, rules: PathRules | None = None, *, extra: tuple[str, ...] = ()
) -> Sequences:
    """Fetch the workspace's touchpoints on its engine and encode them (see module doc)."""
    rules = rules or PathRules()
    for f in extra:
        _check_field(f)
    t = ws.events()
    needed = sorted(set(rules.fields) | set(extra))
    cols: dict[str, Any] = {
        "person_id": t.person_id,
        "ts": t.ts,
        "event": t.event,
        "event_id": t.event_id,
    }
    for f in needed:
        source = "properties" if f == "url" or f.startswith("properties.") else f
        cols[source] = t[source]
    expr = t.filter(t.person_id.notnull()).select(**cols).order_by(["person_id", "ts", "event_id"])
    table: pa.Table = ws.store.fetch(expr)
    if table.num_rows == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Sequences(empty, empty, empty, (), ())
    ts = table.column("ts").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
    pid = table.column("person_id").combine_chunks()
    start = np.ones(len(pid), dtype=bool)
    start[1:] = pc.not_equal(pid.slice(1), pid.slice(0, len(pid) - 1)).to_numpy(
        zero_copy_only=False
    )
    person = np.cumsum(start, dtype=np.int64) - 1
    persons = tuple(pid.filter(pa.array(start)).to_pylist())

    # distinct combinations of (event, fields) -> label, then one numpy take
    ev_codes, ev_vals = _codes(table.column("event"))
    parts: list[tuple[str, Ints, list[Any]]] = []
    sources: dict[str, tuple[Ints, list[Any]]] = {}
    for f in needed:
        source = "properties" if f == "url" or f.startswith("properties.") else f
        if source not in sources:
            sources[source] = _codes(table.column(source))
        codes, vals = sources[source]
        if source == "properties":
            key = "url" if f == "url" else f.split(".", 1)[1]
            vals = [_json_value(v, key) for v in vals]
            # re-encode parsed values so that equal values share a code
            uniq = {v: i for i, v in enumerate(dict.fromkeys(vals))}
            remap = np.array([uniq[v] for v in vals] + [-1], dtype=np.int64)
            codes = remap[codes]
            vals = list(uniq)
        parts.append((f, codes, vals))
    used = [f for f, _, _ in parts if f in rules.fields]
    if used:
        stacked = np.stack([ev_codes] + [c for f, c, _ in parts if f in used], axis=1)
        combos, inverse = np.unique(stacked, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
    else:
        combos = np.arange(len(ev_vals), dtype=np.int64)[:, None]
        inverse = ev_codes
    vals_of = {f: v for f, _, v in parts}
    names: list[str | None] = []
    for row in combos.tolist():
        values = {
            f: (vals_of[f][c] if c >= 0 else None) for f, c in zip(used, row[1:], strict=True)
        }
        ev = ev_vals[row[0]] if row[0] >= 0 else ""
        names.append(rules.label(str(ev), values))
    vocab = sorted({n for n in names if n is not None})
    index = {n: i for i, n in enumerate(vocab)}
    lut = np.array([index[n] if n is not None else -1 for n in names], dtype=np.int64)
    label = lut[inverse]
    keep = label >= 0
    extras = {
        f: (c[keep], tuple(None if v is None else str(v) for v in vals))
        for f, c, vals in parts
        if f in extra
    }
    kept_person = person[keep]
    # re-number persons so that persons whose events are all hidden disappear
    if kept_person.size:
        present = np.unique(kept_person)
        renum = np.full(len(persons), -1, dtype=np.int64)
        renum[present] = np.arange(present.size)
        kept_person = renum[kept_person]
        persons = tuple(persons[i] for i in present.tolist())
    else:
        persons = ()
    return Sequences(
        label=label[keep],
        ts=ts[keep],
        person=kept_person,
        labels=tuple(vocab),
        persons=tuple(str(p) for p in persons),
        extra=extras,
    )
