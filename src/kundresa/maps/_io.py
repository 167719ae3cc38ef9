"""Reading and writing map files: YAML or JSON, with the line of every value, and migration.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.yaml"
>>> _ = p.write_text("kundresa_map: 2\\ngoal: x\\n")
>>> raw = read_raw(p)
>>> raw.data["goal"], raw.line(("goal",))
('x', 2)
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kundresa._errors import FileFormatError, NotFoundError

__all__ = ["MapFileError", "RawMap", "migrate", "read_raw", "write_text"]

Path_ = tuple[str | int, ...]
SUFFIXES = (".yaml", ".yml", ".json")


class MapFileError(FileFormatError):
    """A map file cannot be read at all (syntax), with file and line.

    >>> print(MapFileError("m.yaml", 3, "a tab character is not allowed", fix="indent with spaces"))
    m.yaml:3: a tab character is not allowed; indent with spaces
    """

    def __init__(self, path: str, line: int | None, problem: str, *, fix: str = "") -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(where, problem, fix=fix)
        self.line = line


@dataclass
class RawMap:
    """The parsed mapping of a map file and the line of every key (1-based)."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicates: list[tuple[Path_, int]] = field(default_factory=list)
    migrated_from: int | None = None

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, or of its closest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


def _walk(node: Any, path: Path_, raw: RawMap) -> Any:
    import yaml

    raw.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            key = str(knode.value)
            if key in out:
                raw.duplicates.append(((*path, key), knode.start_mark.line + 1))
            raw.lines[(*path, key)] = knode.start_mark.line + 1
            out[key] = _walk(vnode, (*path, key), raw)
            raw.lines[(*path, key)] = knode.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, (*path, i), raw) for i, v in enumerate(node.value)]
    value = yaml.SafeLoader(" ").construct_object(node) if node.tag else node.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def read_raw(path: str | Path) -> RawMap:
    """Parse a YAML or JSON map file, keeping lines; syntax errors raise :class:`MapFileError`."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise NotFoundError("map file", str(p), candidates=[str(c) for c in _siblings(p)])
    if p.suffix.lower() not in SUFFIXES:
        raise MapFileError(
            str(p), None, f"unsupported suffix {p.suffix!r}", fix="name it .yaml, .yml or .json"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MapFileError(str(p), None, "not UTF-8 text", fix="save the file as UTF-8") from exc
    raw = RawMap(str(p), None)
    if not text.strip():
        raise MapFileError(str(p), 1, "the file is empty", fix="start from `kundresa map new`")
    if p.suffix.lower() == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise MapFileError(
                str(p),
                exc.lineno,
                f"invalid JSON: {exc.msg} (column {exc.colno})",
                fix="fix the JSON syntax (a trailing comma or a missing quote?)",
            ) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = str(exc.problem or exc.context or "invalid YAML")
        fix = (
            "indent with spaces, not tabs"
            if "\\t" in problem or "tab" in problem
            else "fix the YAML syntax (indentation, a missing ':' or an unclosed quote)"
        )
        raise MapFileError(str(p), line, f"invalid YAML: {problem}", fix=fix) from exc
    raw.data = _walk(node, (), raw) if node is not None else None
    return raw


def _siblings(p: Path) -> list[Path]:
    folder = p.parent if p.parent.exists() else Path(".")
    return [c for c in folder.iterdir() if c.suffix in SUFFIXES][:50]


def migrate(raw: RawMap) -> None:
    """Bring a version-1 mapping to the current version in place (see ADR 0007).

    Version 1 used ``version: 1``, ``phases`` for stages, ``painpoints`` for pain points and an
    emotion as a bare number 1..5; version 2 uses ``kundresa_map: 2``, ``stages``,
    ``pain_points`` and ``emotion: {score: -2..+2, emoji, quote}``.
    """
    d = raw.data
    if not isinstance(d, dict) or "kundresa_map" in d or d.get("version") != 1:
        return
    raw.migrated_from = 1
    new: dict[str, Any] = {"kundresa_map": 2}
    renames = {"phases": "stages"}
    for key, value in d.items():
        if key != "version":
            new[renames.get(str(key), str(key))] = value
    raw.lines = {
        (renames.get(str(k[0]), k[0]), *k[1:]) if k else k: v for k, v in raw.lines.items()
    }
    raw.lines[("kundresa_map",)] = raw.lines.get(("version",), 1)
    for stage in new.get("stages") or []:
        if not isinstance(stage, dict):
            continue
        for cell in (stage.get("cells") or {}).values():
            if not isinstance(cell, dict):
                continue
            if "painpoints" in cell:
                cell["pain_points"] = cell.pop("painpoints")
            emo = cell.get("emotion")
            if isinstance(emo, int) and not isinstance(emo, bool):
                cell["emotion"] = {"score": emo - 3}
    raw.data = new


def write_text(data: dict[str, Any], suffix: str) -> str:
    """Serialise a map mapping as YAML (``.yaml``/``.yml``) or JSON (``.json``)."""
    if suffix.lower() == ".json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    import yaml

    return str(
        yaml.safe_dump(
            data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None
        )
    )


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
