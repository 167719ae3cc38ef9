"""The files the product exported (``--out``), remembered per workspace so that ``forget``
erases them too (privacy: it must erase every byte the product wrote).

``<db>.exports`` lists the absolute paths of the files written by ``--out`` for that
workspace, one a line (paths only, never contents; created owner-only). ``forget`` then
looks into each export that still exists for every identifier of the person (text formats
byte for byte, Parquet by its string values) and erases the files that hold one: zeros
over the bytes, then unlinked. Exports it cannot look into (PNG, PDF: an image of a result
table) are named in the report, for their owner to check.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "people.csv").write_text("user_id\\nu-7f3k\\n")
>>> _ = (d / "funnel.csv").write_text("step,persons\\nView,10\\n")
>>> record_export(d / "w.duckdb", d / "people.csv")
>>> record_export(d / "w.duckdb", d / "funnel.csv")
>>> erase_exports(d / "w.duckdb", ["u-7f3k"])
((...people.csv',), ())
>>> sorted(p.name for p in d.iterdir())
['funnel.csv', 'w.duckdb.exports']
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["erase_exports", "record_export"]

#: formats whose bytes cannot show an identifier as text: named, not inspected
_OPAQUE = (".png", ".pdf")


def _registry(db: str | os.PathLike[str]) -> Path:
    return Path(str(db) + ".exports")


def _listed(db: str | os.PathLike[str]) -> list[str]:
    try:
        text = _registry(db).read_text(encoding="utf-8")
    except OSError:
        return []
    return list(dict.fromkeys(line for line in text.splitlines() if line))


def record_export(db: str | os.PathLike[str] | None, out: str | os.PathLike[str]) -> None:
    """Remember that ``out`` was exported from workspace ``db`` (no-op for ``:memory:``).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> record_export(d / "w.duckdb", d / "x.csv")
    >>> (d / "w.duckdb.exports").read_text().endswith("x.csv\\n")
    True
    """
    if db is None or str(db) in ("", ":memory:"):
        return
    path = str(Path(out).resolve())
    if path in _listed(db):
        return
    reg = _registry(db)
    fd = os.open(reg, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (path + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def _holds(path: Path, needles: Sequence[str]) -> bool:
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        for col in table.columns:
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                values = {v for v in col.to_pylist() if v is not None}
                if any(n in v for v in values for n in needles):
                    return True
        return False
    data = path.read_bytes()
    return any(n.encode("utf-8", "surrogatepass") in data for n in needles)


def _shred(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.write(b"\0" * size)
        f.flush()
        os.fsync(f.fileno())
    path.unlink()


def erase_exports(
    db: str | os.PathLike[str] | None, needles: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Erase the exports of ``db`` that hold any of ``needles``: ``(erased, unchecked)``,
    the paths erased and those that could not be looked into (PNG, PDF). Exports no longer
    there, and the erased ones, leave the list.

    >>> erase_exports(None, ["x"])
    ((), ())
    """
    if db is None or str(db) in ("", ":memory:"):
        return (), ()
    needles = [n for n in needles if n]
    erased: list[str] = []
    unchecked: list[str] = []
    keep: list[str] = []
    for name in _listed(db):
        path = Path(name)
        if not path.is_file():
            continue
        if path.suffix.lower() in _OPAQUE:
            unchecked.append(name)
            keep.append(name)
            continue
        try:
            hit = bool(needles) and _holds(path, needles)
        except Exception:  # unreadable (changed by its owner): name it, do not guess
            unchecked.append(name)
            keep.append(name)
            continue
        if hit:
            _shred(path)
            erased.append(name)
        else:
            keep.append(name)
    reg = _registry(db)
    if reg.exists():
        from kundresa._util import write_private

        with contextlib.suppress(OSError):
            write_private(reg, "".join(k + "\n" for k in keep).encode("utf-8"))
    return tuple(erased), tuple(unchecked)
