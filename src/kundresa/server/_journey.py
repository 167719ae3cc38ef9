"""The journey-map page: the living map (measured numbers, persona switch, emotion curves) and
editing of its qualitative lanes, saved back to the map file.

The server is given map files (``kundresa serve --map FILE`` or a folder, repeatable);
:class:`MapStore` names them by file stem, measures them on the workspace (cached until the
file or the data changes) and edits one stage x persona cell at a time: the edited file is
written beside the original, checked by the maps validator (:func:`kundresa.maps.validate_file`)
and moved over the original atomically only when it has no error; otherwise the original is
untouched and the problems (field, message, fix) are returned.

>>> import tempfile, pathlib
>>> from kundresa.maps import new_map, save_map, load_map
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.yaml"
>>> save_map(new_map("awareness-to-conversion", lang="en"), p)
>>> jm = load_map(p)
>>> stage, persona = jm.stages[0].id, jm.personas[0].id
>>> before = p.read_bytes()
>>> report = edit_cell(p, stage, persona, {"emotion_score": "5", "emotion_emoji": "😍"})
>>> report.ok, p.read_bytes() == before
(False, True)
>>> print(report.problems[0].path, "|", report.problems[0].message)
stages[0].cells.anna.emotion.score | emotion score 5 is outside -2..+2
>>> edit_cell(p, stage, persona, {"emotion_score": "2", "activities": "Sees an ad"}).ok
True
>>> cell = load_map(p).stages[0].cell(persona)
>>> cell.emotion.score, cell.activities
(2, ('Sees an ad',))
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kundresa._errors import KundresaError, NotFoundError
from kundresa._frozen import thaw
from kundresa._results import Result
from kundresa.maps._io import SUFFIXES, migrate, read_raw, write_text
from kundresa.maps._measure import MapMeasurement, measure_map
from kundresa.maps._model import JourneyMap
from kundresa.maps._validate import Problem, ValidationReport, validate_file

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = [
    "EDITABLE",
    "MapStore",
    "MapView",
    "NoMapError",
    "cell_form",
    "edit_cell",
    "file_version",
    "find_maps",
]

#: the form fields of one cell's qualitative lanes
EDITABLE = (
    "activities",
    "touchpoints",
    "emotion_score",
    "emotion_emoji",
    "emotion_quote",
    "pain_points",
    "opportunities",
    "notes",
)
_INT = re.compile(r"^\s*[+-]?\d+\s*$")


def find_maps(specs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Map files named by ``specs``: files as given, folders as their ``*.yaml|yml|json``
    files that declare ``kundresa_map`` (or a version-1 ``phases`` map).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.yaml").write_text("kundresa_map: 2\\n"); _ = (d / "x.json").write_text("{}")
    >>> [p.name for p in find_maps([d])]
    ['a.yaml']
    """
    out: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            for f in sorted(p.iterdir()):
                if f.suffix.lower() in SUFFIXES and f.is_file():
                    head = f.read_text(encoding="utf-8", errors="replace")[:4000]
                    if "kundresa_map" in head or "phases" in head:
                        out.append(f)
        elif p.is_file():
            out.append(p)
        else:
            raise NotFoundError("--map", str(p), candidates=[])
    return out


class NoMapError(NotFoundError):
    """The server shows no journey map (it was started without ``--map``).

    >>> print(NoMapError("shop"))
    map: no journey map is served; start the server with --map FILE (a map file or a folder)
    """

    def __init__(self, value: str) -> None:
        self.field, self.value, self.candidates = "map", value, []
        KundresaError.__init__(
            self,
            "map: no journey map is served; start the server with --map FILE "
            "(a map file or a folder)",
        )


def file_version(path: Path) -> str:
    """A short hash of the file's bytes: the form sends it back so that a save over a file
    that changed in between is refused instead of overwriting someone else's edit.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.yaml"; _ = p.write_text("a")
    >>> file_version(p)
    'ca978112ca1bbdca'
    """
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class MapView(Result):
    """One served map: its file, its validation, the map itself and its measurement.

    ``map`` is the file's mapping (``JourneyMap.to_dict()``) or None when the file has
    errors (then ``validation`` lists them); ``measurement`` the measured numbers.

    >>> MapView("shop", "shop.yaml", ("shop",), "abc", None, None, None).to_dict()["name"]
    'shop'
    """

    name: str
    file: str
    maps: tuple[str, ...]
    version: str
    map: Mapping[str, Any] | None
    validation: ValidationReport | None
    measurement: MapMeasurement | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the measurement as ``MapMeasurement.to_dict()`` (with the derived
        shares), the validation with ``ok`` and its problems."""
        out = super().to_dict()
        if self.measurement is not None:
            out["measurement"] = self.measurement.to_dict()
        if self.validation is not None:
            out["validation"]["ok"] = self.validation.ok
        return out

    def journey_map(self) -> JourneyMap | None:
        """The map as a :class:`~kundresa.maps.JourneyMap` (None when invalid)."""
        return JourneyMap.from_dict(thaw(self.map)) if self.map is not None else None

    def __str__(self) -> str:
        head = f"{self.name} ({self.file})"
        if self.measurement is not None:
            return f"{head}\n{self.measurement}"
        return f"{head}\n{self.validation}" if self.validation else head


class MapStore:
    """The map files a server shows, by name (file stem), with cached measurements."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths: dict[str, Path] = {}
        for p in paths:
            name, i = p.stem, 2
            while name in self.paths:
                name, i = f"{p.stem}-{i}", i + 1
            self.paths[name] = p.resolve()
        self._cache: dict[str, tuple[Any, MapMeasurement]] = {}
        self._locks = {n: threading.Lock() for n in self.paths}

    def names(self) -> tuple[str, ...]:
        """The names of the served maps, in the order given."""
        return tuple(self.paths)

    def path(self, name: str | None) -> tuple[str, Path]:
        """The (name, file) of ``name``; the first map when None."""
        if not self.paths:
            raise NoMapError(name or "")
        if name is None or name == "":
            name = next(iter(self.paths))
        if name not in self.paths:
            raise NotFoundError("map", name, candidates=list(self.paths))
        return name, self.paths[name]

    def view(self, ws: Workspace, name: str | None, data_key: Any, lock: Any) -> MapView:
        """Validate, load and measure one map (the measurement is cached per file and data
        version ``data_key``); ``lock`` serialises workspace access."""
        name, path = self.path(name)
        report = validate_file(path)
        version = file_version(path)
        if not report.ok:
            return MapView(name, str(path), self.names(), version, None, report, None)
        raw = read_raw(path)
        migrate(raw)
        jm = JourneyMap.from_dict(raw.data)
        key = (version, data_key)
        cached = self._cache.get(name)
        if cached is not None and cached[0] == key:
            meas = cached[1]
        else:
            with lock:
                meas = measure_map(jm, ws)
            self._cache[name] = (key, meas)
        return MapView(name, str(path), self.names(), version, jm.to_dict(), report, meas)

    def edit(
        self, name: str, stage: str, persona: str, lanes: Mapping[str, str], version: str = ""
    ) -> ValidationReport:
        """Edit one cell of map ``name`` (see :func:`edit_cell`), one edit at a time."""
        name, path = self.path(name)
        with self._locks[name]:
            if version and version != file_version(path):
                return _refusal(
                    path,
                    "(file)",
                    "the file changed since this page was opened",
                    "reload the page and make the edit again",
                )
            return edit_cell(path, stage, persona, lanes)


def _refusal(path: Path, where: str, message: str, fix: str) -> ValidationReport:
    return ValidationReport(str(path), (Problem("error", str(path), None, where, message, fix),))


def _lines(text: str | None) -> list[str]:
    return [ln.strip() for ln in (text or "").splitlines() if ln.strip()]


def _parts(line: str) -> list[str]:
    return [p.strip() for p in line.split("|")]


def cell_form(cell: Mapping[str, Any] | None) -> dict[str, str]:
    """The form values of a cell mapping (the inverse of what :func:`edit_cell` reads):
    one item per line; touchpoints ``name | channel``; opportunities ``text | owner | status``.

    >>> cell_form({"touchpoints": [{"name": "Google", "channel": "search"}],
    ...            "emotion": {"score": -1, "emoji": "😟"}})["touchpoints"]
    'Google | search'
    """
    c = dict(cell or {})
    emo = c.get("emotion") if isinstance(c.get("emotion"), dict) else {}
    assert isinstance(emo, dict)
    tps = [f"{t.get('name', '')} | {t.get('channel', '')}" for t in c.get("touchpoints") or []
           if isinstance(t, dict)]  # fmt: skip
    opps = []
    for o in c.get("opportunities") or []:
        if isinstance(o, str):
            opps.append(o)
        elif isinstance(o, dict):
            bits = [str(o.get("text", "")), str(o.get("owner") or ""), str(o.get("status") or "")]
            while bits and not bits[-1]:
                bits.pop()
            opps.append(" | ".join(bits))
    return {
        "activities": "\n".join(str(a) for a in c.get("activities") or []),
        "touchpoints": "\n".join(tps),
        "emotion_score": "" if emo.get("score") is None else str(emo.get("score")),
        "emotion_emoji": str(emo.get("emoji") or ""),
        "emotion_quote": str(emo.get("quote") or ""),
        "pain_points": "\n".join(str(a) for a in c.get("pain_points") or []),
        "opportunities": "\n".join(opps),
        "notes": str(c.get("notes") or ""),
    }


def _new_cell(old: Mapping[str, Any], lanes: Mapping[str, str]) -> dict[str, Any]:
    cell = dict(old)
    if "activities" in lanes:
        cell["activities"] = _lines(lanes["activities"])
    if "pain_points" in lanes:
        cell["pain_points"] = _lines(lanes["pain_points"])
    if "notes" in lanes:
        cell["notes"] = (lanes["notes"] or "").strip()
    if "touchpoints" in lanes:
        before = {
            str(t.get("name")): t for t in old.get("touchpoints") or [] if isinstance(t, dict)
        }
        tps: list[dict[str, Any]] = []
        for line in _lines(lanes["touchpoints"]):
            bits = _parts(line)
            tp: dict[str, Any] = {"name": bits[0]}
            if len(bits) > 1 and bits[1]:
                tp["channel"] = bits[1]
            kept = before.get(bits[0])
            if kept is not None and kept.get("match") is not None:
                tp["match"] = kept["match"]  # the measurement rule is not edited here
            tps.append(tp)
        cell["touchpoints"] = tps
    if "opportunities" in lanes:
        opps: list[dict[str, Any]] = []
        for line in _lines(lanes["opportunities"]):
            bits = _parts(line)
            op: dict[str, Any] = {"text": bits[0]}
            if len(bits) > 1 and bits[1]:
                op["owner"] = bits[1]
            op["status"] = bits[2] if len(bits) > 2 and bits[2] else "idea"
            opps.append(op)
        cell["opportunities"] = opps
    if any(k.startswith("emotion_") for k in lanes):
        old_emo = old.get("emotion") if isinstance(old.get("emotion"), dict) else {}
        assert isinstance(old_emo, dict)
        score = lanes.get("emotion_score", str(old_emo.get("score", "")))
        emoji = lanes.get("emotion_emoji", str(old_emo.get("emoji") or "")).strip()
        quote = lanes.get("emotion_quote", str(old_emo.get("quote") or "")).strip()
        score = (score or "").strip()
        if not (score or emoji or quote):
            cell.pop("emotion", None)
        else:
            emo: dict[str, Any] = {}
            if score:
                # not a whole number: kept as text so that the validator names the problem
                emo["score"] = int(score) if _INT.match(score) else score
            if emoji:
                emo["emoji"] = emoji
            if quote:
                emo["quote"] = quote
            cell["emotion"] = emo
    return {k: v for k, v in cell.items() if v not in (None, "", [], {})}


def edit_cell(
    path: str | os.PathLike[str], stage: str, persona: str, lanes: Mapping[str, str]
) -> ValidationReport:
    """Replace the qualitative lanes of one stage x persona cell of a map file.

    ``lanes`` holds form values (see :func:`cell_form`); lanes not given stay as they are,
    and touchpoints keep their measurement rule (``match``) by name. The new file is written
    beside the old one, validated, and moved over it atomically only without errors; the
    report's problems name the field, the problem and the fix. (YAML comments are not kept.)
    """
    p = Path(path)
    raw = read_raw(p)
    migrate(raw)
    data = raw.data
    if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
        return validate_file(p)
    stages = [s for s in data["stages"] if isinstance(s, dict)]
    ids = [str(s.get("id")) for s in stages]
    if stage not in ids:
        return _refusal(p, "stage", f"stage {stage!r} is not in the map",
                        f"use one of: {', '.join(ids)}")  # fmt: skip
    personas = [str(x.get("id")) for x in data.get("personas") or [] if isinstance(x, dict)]
    if persona not in personas:
        return _refusal(p, "persona", f"persona {persona!r} is not in the map",
                        f"use one of: {', '.join(personas)}")  # fmt: skip
    target = stages[ids.index(stage)]
    cells = target.get("cells")
    if not isinstance(cells, dict):
        cells = {}
    old = cells.get(persona)
    cells[persona] = _new_cell(old if isinstance(old, dict) else {}, lanes)
    target["cells"] = cells
    text = write_text(data, p.suffix)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.{threading.get_ident()}.edit{p.suffix}")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        report = validate_file(tmp)
        report = dataclasses.replace(
            report,
            file=str(p),
            problems=tuple(dataclasses.replace(pr, file=str(p)) for pr in report.problems),
        )
        if report.ok:
            os.replace(tmp, p)
            _fsync_dir(p.parent)
        return report
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
