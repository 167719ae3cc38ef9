"""Identity stitching: join devices, accounts and offline identifiers into one person.

Every identifier is a key ``type:value`` (``anonymous_id:a1``, ``user_id:u7``,
``loyalty_card:123``, ``email:<salted hash>``). Links between keys come from events that
carry several identifiers, ``identify`` calls and ``alias`` calls. Persons are the connected
components of that graph, with one guard: a component never holds two ``user_id`` keys
unless an explicit ``alias`` joins them (a shared laptop must not merge two customers);
the earliest link wins and the refused links are counted. Results are applied to all
events retroactively (replay), and sessions are recomputed.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from kundresa._results import Result
from kundresa._util import parse_duration, renamed
from kundresa.schema import EVENTS, IDENTITIES, IDENTITY_KEYS, IDENTITY_LINKS

if TYPE_CHECKING:
    from kundresa._store import Store

__all__ = ["CLUSTER_ORDER", "SessionConfig", "StitchReport", "person_id_for", "stitch_store"]


@dataclass(frozen=True)
class SessionConfig:
    """How events are cut into sessions.

    A new session starts after ``session_gap`` of inactivity, at any of ``start_events``,
    and whenever the person moves between online activity and one of ``separate_channels``
    (a store visit or an e-mail is never part of a web session). ``gap`` is the old
    spelling of ``session_gap`` (it warns, for one release).

    >>> SessionConfig().session_gap
    '30m'
    """

    session_gap: str = "30m"
    start_events: tuple[str, ...] = ()
    separate_channels: tuple[str, ...] = ("store", "email", "support", "sms", "push")

    @property
    def gap(self) -> str:
        """Deprecated: :attr:`session_gap`."""
        warnings.warn(
            "SessionConfig.gap is deprecated, use .session_gap "
            "(the old spelling goes in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.session_gap


SessionConfig.__init__ = renamed(gap="session_gap")(SessionConfig.__init__)  # type: ignore[method-assign]


@dataclass(frozen=True)
class StitchReport(Result):
    """What stitching found.

    ``merged_persons`` counts persons built from more than one identifier (e.g. a phone,
    a laptop and a loyalty card); ``identifiers_merged`` how many identifiers were folded
    into another one; ``refused_links`` links that would have joined two user ids.

    >>> print(StitchReport(identifiers=5, persons=2, merged_persons=1, identifiers_merged=3,
    ...                    refused_links=0))
    5 identifiers -> 2 persons (1 merged from several identifiers;
    0 links refused as joining two user ids)
    """

    identifiers: int
    persons: int
    merged_persons: int
    identifiers_merged: int
    refused_links: int

    def __str__(self) -> str:
        return (
            f"{self.identifiers:,} identifiers -> {self.persons:,} persons "
            f"({self.merged_persons:,} merged from several identifiers; "
            f"{self.refused_links:,} links refused as joining two user ids)"
        )


def person_id_for(canonical_key: str) -> str:
    """The stable person id of a component, from its canonical key.

    >>> person_id_for("user_id:u1")
    'p-90c5bc873dedef80'
    """
    return "p-" + hashlib.sha256(canonical_key.encode()).hexdigest()[:16]


def _components(
    keys: list[str], a: list[int], b: list[int], via: list[str]
) -> tuple[list[int], int]:
    parent = list(range(len(keys)))
    user = [i if keys[i].startswith("user_id:") else -1 for i in range(len(keys))]

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    refused = 0
    for i, j, v in zip(a, b, via, strict=True):
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        ui, uj = user[ri], user[rj]
        if ui >= 0 and uj >= 0 and v != "alias":
            refused += 1
            continue
        if ri < rj:
            ri, rj = rj, ri
        parent[ri] = rj
        user[rj] = uj if uj >= 0 else ui
    return [find(i) for i in range(len(keys))], refused


def _compute_map(store: Store) -> tuple[pa.Table, pa.Table, StitchReport]:
    kt = store.table("identity_keys")
    keys = store.fetch(
        kt.group_by("key")
        .aggregate(first_seen=kt.first_seen.min(), last_seen=kt.last_seen.max())
        .order_by("key")
    )
    lt = store.table("identity_links")
    links = store.fetch(
        lt.group_by(["key_a", "key_b", "via"])
        .aggregate(first_seen=lt.first_seen.min())
        .order_by(["first_seen", "key_a", "key_b", "via"])
    )
    names: list[str] = keys.column("key").to_pylist()
    ia = pc.index_in(links.column("key_a"), value_set=keys.column("key")).to_pylist()
    ib = pc.index_in(links.column("key_b"), value_set=keys.column("key")).to_pylist()
    via = links.column("via").to_pylist()
    pairs = [
        (x, y, v) for x, y, v in zip(ia, ib, via, strict=True) if x is not None and y is not None
    ]
    roots, refused = _components(
        names, [p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs]
    )
    # canonical key per component: its smallest user_id key, else its smallest key
    canon: dict[int, str] = {}
    sizes: dict[int, int] = {}
    for i, r in enumerate(roots):
        sizes[r] = sizes.get(r, 0) + 1
        k = names[i]
        cur = canon.get(r)
        if cur is None:
            canon[r] = k
            continue
        cu, ku = cur.startswith("user_id:"), k.startswith("user_id:")
        if (ku and not cu) or (ku == cu and k < cur):
            canon[r] = k
    pid = {r: person_id_for(k) for r, k in canon.items()}
    persons = [pid[r] for r in roots]
    id_map = pa.table(
        {"key": pa.array(names, pa.string()), "person_id": pa.array(persons, pa.string())}
    )
    split = [n.split(":", 1) for n in names]
    identities = pa.table(
        {
            "id_type": pa.array([s[0] for s in split], pa.string()),
            "identifier": pa.array([s[1] if len(s) > 1 else "" for s in split], pa.string()),
            "person_id": id_map.column("person_id"),
            "first_seen": keys.column("first_seen"),
            "last_seen": keys.column("last_seen"),
        }
    ).cast(IDENTITIES)
    report = StitchReport(
        identifiers=len(names),
        persons=len(sizes),
        merged_persons=sum(1 for n in sizes.values() if n > 1),
        identifiers_merged=len(names) - len(sizes),
        refused_links=refused,
    )
    return id_map, identities, report


def replay_expression(
    events: ibis.Table, id_map: ibis.Table, sessions: SessionConfig
) -> ibis.Table:
    """Events with ``person_id`` from ``id_map`` and ``session_id`` recomputed (pure Ibis)."""
    m = id_map.rename(map_person="person_id", map_key="key")
    j = events.left_join(m, events.person_key == m.map_key)
    t = j.mutate(person_id=ibis.coalesce(j.map_person, "key:" + j.person_key))
    separate = list(sessions.separate_channels) or ["\x00"]
    t = t.mutate(_surface=ibis.cases((t.channel.isin(separate), t.channel), else_="online"))
    w = ibis.window(group_by=t.person_id, order_by=[t.ts, t.event_id])
    t = t.mutate(_prev_ts=t.ts.lag().over(w), _prev_surface=t._surface.lag().over(w))
    gap = parse_duration(sessions.session_gap, "session_gap")
    new = (
        t._prev_ts.isnull()
        | (t.ts > t._prev_ts + ibis.interval(seconds=int(gap.total_seconds())))
        | (t._surface != t._prev_surface)
    )
    if sessions.start_events:
        new = new | t.event.isin(list(sessions.start_events))
    t = t.mutate(_new=new.cast("int64"))
    cw = ibis.cumulative_window(group_by=t.person_id, order_by=[t.ts, t.event_id])
    t = t.mutate(_n=t._new.sum().over(cw))
    t = t.mutate(session_id=t.person_id + "#" + t._n.cast("string"))
    return t.select(*EVENTS.names)


#: the order the events are stored in on DuckDB: each person's events together (persons in
#: hash order), by time and event id. A scan then yields every person's journey in order
#: with no sort (the default funnel streams it: ``kundresa.funnel._fastload``).
CLUSTER_ORDER = "hash(person_id), person_id, ts, event_id"


def stitch_store(store: Store, sessions: SessionConfig | None = None) -> StitchReport:
    """Recompute persons from every identity link and replay them onto all events (on
    DuckDB stored clustered by person: :data:`CLUSTER_ORDER`)."""
    sessions = sessions or SessionConfig()
    for name, schema in (("identity_keys", IDENTITY_KEYS), ("identity_links", IDENTITY_LINKS)):
        store.ensure(name, schema)
    id_map, identities, report = _compute_map(store)
    store.replace("id_map", id_map)
    store.replace("identities", identities)
    if store.exists("events"):
        replayed = replay_expression(store.table("events"), store.table("id_map"), sessions)
        store.replace_sorted("events", replayed, CLUSTER_ORDER)
    return report


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
