"""Which quarantined rows belong to a person being forgotten (issue 14, right to erasure).

A quarantined row keeps the raw call or line, and a raw call may carry the person's e-mail
or phone in clear even when the workspace only knows their salted hash (an identify with a
bad timestamp, say): a search for the person's stored identifiers does not find it. Here
every quarantined JSON row is staged once more with the ingest's own SQL
(:meth:`kundresa._ingest._Processor.stage_json`), which derives its identifier keys
(``email:<hash>``, ``user_id:...``) exactly as at ingest, and the rows whose keys meet the
person's are returned.

>>> from kundresa._store import DuckDBStore
>>> quarantined_with_keys(DuckDBStore(":memory:"), ["user_id:u-1"], (), "salt")
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from kundresa._ingest_sql import IdentifierRule
    from kundresa._store import Store

__all__ = ["quarantined_with_keys"]


def quarantined_with_keys(
    store: Store, keys: Sequence[str], identifiers: Sequence[IdentifierRule], salt: str
) -> list[str]:
    """The ``quarantine_id`` of every quarantined row whose raw JSON carries one of ``keys``
    (identifier keys as in ``identity_keys``); rows that are not JSON are not matched here.

    >>> import pyarrow as pa
    >>> from kundresa._store import DuckDBStore
    >>> from kundresa._ingest_sql import DEFAULT_IDENTIFIERS
    >>> from kundresa.schema import QUARANTINE
    >>> st = DuckDBStore(":memory:")
    >>> st.ensure("quarantine", QUARANTINE)
    >>> raw = '{"user_id": " u-1 ", "traits": {"email": "Bo@X.se"}, "timestamp": "soon"}'
    >>> row = {"quarantine_id": "q1", "reason": "unparseable_timestamp", "raw": raw}
    >>> st.append("quarantine", pa.Table.from_pylist([row], schema=QUARANTINE))
    >>> quarantined_with_keys(st, ["user_id:u-1"], DEFAULT_IDENTIFIERS, "s")
    ['q1']
    """
    if not keys or not store.exists("quarantine"):
        return []
    from kundresa._ingest import _Processor

    q = store.table("quarantine")
    rows = store.fetch(q.select("quarantine_id", "raw"))
    if not rows.num_rows:
        return []
    lines = pa.compute.fill_null(rows.column("raw").combine_chunks().cast(pa.string()), "")
    chunk = pa.table({"_row": pa.array(range(rows.num_rows), pa.int64()), "_line": lines})
    proc = _Processor(identifiers=identifiers, salt=salt)
    try:
        proc.stage_json(chunk, "forget")
        hits = proc.con.execute(
            "SELECT _row FROM staged WHERE list_has_any(list_concat(coalesce(_keys, []), "
            "CASE WHEN _alias_key IS NULL THEN [] ELSE [_alias_key] END), ?::VARCHAR[])",
            [list(keys)],
        ).fetchall()
    finally:
        proc.close()
    ids = rows.column("quarantine_id").to_pylist()
    return sorted(str(ids[int(r[0])]) for r in hits)
