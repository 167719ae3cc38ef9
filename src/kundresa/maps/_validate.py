"""Validation of map files: every problem with file, line, path and a fix.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.yaml"
>>> _ = p.write_text("kundresa_map: 2\\ngoal: Fewer carts\\nowner: CX\\ntype: currnet\\n")
>>> report = validate_file(p)
>>> report.ok
False
>>> print(report.problems[0])
error m.yaml:4 type: 'currnet' is not a map type (did you mean 'current'?); use one of: current, future, day_in_the_life
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kundresa._errors import KundresaError, closest
from kundresa._results import Result
from kundresa._util import renamed
from kundresa.maps._io import RawMap, migrate, read_raw
from kundresa.maps._model import (
    LANES,
    LANGUAGES,
    MAP_TYPES,
    OPPORTUNITY_STATUSES,
    SCHEMA_VERSION,
    STATUSES,
    JourneyMap,
)

if TYPE_CHECKING:
    from kundresa._workspace import Workspace

__all__ = ["MapValidationError", "Problem", "ValidationReport", "load_map", "validate_file"]

TOP_KEYS = (
    "kundresa_map", "title", "goal", "type", "owner", "status", "last_validated", "language",
    "compare_to", "personas", "stages", "measurement",
)  # fmt: skip
PERSONA_KEYS = (
    "id", "name", "age_range", "occupation", "needs", "challenges", "buying_preference", "select",
)  # fmt: skip
STAGE_KEYS = ("id", "name", "period", "match", "cells")
RULE_KEYS = ("events", "channels", "touchpoints", "where")
ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
AGE = re.compile(r"^\d{1,3}(\s*[-–]\s*\d{1,3}|\+)?$")


@dataclass(frozen=True)
class Problem:
    """One problem: ``level`` is ``error`` or ``warning``; ``path`` like ``stages[1].name``."""

    level: str
    file: str
    line: int | None
    path: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{Path(self.file).name}:{self.line}" if self.line else Path(self.file).name
        fix = f"; {self.fix}" if self.fix else ""
        return f"{self.level} {where} {self.path}: {self.message}{fix}"


@dataclass(frozen=True)
class ValidationReport(Result):
    """All problems of one map file; ``ok`` when there is no error (warnings allowed)."""

    file: str
    problems: tuple[Problem, ...]
    migrated_from: int | None = None

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not any(p.level == "error" for p in self.problems)

    def __str__(self) -> str:
        lines = [str(p) for p in self.problems]
        n_err = sum(p.level == "error" for p in self.problems)
        n_warn = len(self.problems) - n_err
        if self.migrated_from:
            lines.append(f"note: migrated from version {self.migrated_from}; save to upgrade")
        lines.append(
            f"{Path(self.file).name}: {'valid' if not n_err else 'invalid'}"
            f" ({n_err} errors, {n_warn} warnings)"
        )
        return "\n".join(lines)


class MapValidationError(KundresaError, ValueError):
    """A map file has errors; ``report`` lists every one.

    >>> err = MapValidationError(ValidationReport("m.yaml", (Problem("error", "m.yaml", 2,
    ...     "goal", "missing", "state why the map exists"),)))
    >>> print(err)
    m.yaml has 1 error(s):
      error m.yaml:2 goal: missing; state why the map exists
    """

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        errors = [p for p in report.problems if p.level == "error"]
        body = "\n".join(f"  {p}" for p in errors)
        super().__init__(f"{Path(report.file).name} has {len(errors)} error(s):\n{body}")


def _fmt(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


class _Checker:
    def __init__(self, raw: RawMap) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def add(
        self, path: tuple[str | int, ...], message: str, fix: str = "", level: str = "error"
    ) -> None:
        self.problems.append(
            Problem(level, self.raw.file, self.raw.line(path), _fmt(path), message, fix)
        )

    # -- helpers -----------------------------------------------------------------------
    def keys(self, d: dict[str, Any], allowed: Iterable[str], path: tuple[str | int, ...]) -> None:
        allowed = tuple(allowed)
        for key in d:
            if key not in allowed:
                near = closest(key, allowed, n=1)
                fix = f"did you mean {near[0]!r}?" if near else f"allowed: {', '.join(allowed)}"
                self.add((*path, key), f"unknown key {key!r}", fix)

    def text(
        self, d: dict[str, Any], key: str, path: tuple[str | int, ...], *, required: bool,
        what: str,
    ) -> str | None:  # fmt: skip
        if key not in d or d[key] is None:
            if required:
                self.add((*path, key) if key in d else path, f"{key} is missing", f"add {what}")
            return None
        value = d[key]
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.add(
                (*path, key), f"{key} must be text, not {type(value).__name__}", f"write {what}"
            )
            return None
        if required and not str(value).strip():
            self.add((*path, key), f"{key} is empty", f"write {what}")
            return None
        return str(value)

    def texts(self, d: dict[str, Any], key: str, path: tuple[str | int, ...]) -> None:
        if key not in d or d[key] is None:
            return
        value = d[key]
        if not isinstance(value, list):
            self.add((*path, key), f"{key} must be a list, not {type(value).__name__}",
                     f"write one item per line starting with '- ' under {key}:")  # fmt: skip
            return
        for i, item in enumerate(value):
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                self.add((*path, key, i), f"{key} item must be text, not {type(item).__name__}",
                         "write the item as one line of text (quote it if it contains ':')")  # fmt: skip

    def choice(
        self, d: dict[str, Any], key: str, allowed: tuple[str, ...], path: tuple[str | int, ...],
        what: str, *, required: bool,
    ) -> str | None:  # fmt: skip
        if key not in d:
            if required:
                self.add(path, f"{key} is missing", f"add {key}: one of {', '.join(allowed)}")
            return None
        value = d[key]
        if value not in allowed:
            near = closest(str(value), allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            self.add((*path, key), f"{value!r} is not {what}{hint}",
                     f"use one of: {', '.join(allowed)}")  # fmt: skip
            return None
        return str(value)

    def rule(self, value: Any, path: tuple[str | int, ...], extra: tuple[str, ...] = ()) -> None:
        if not isinstance(value, dict):
            self.add(path, f"a rule must be a mapping, not {type(value).__name__}",
                     "write e.g. {events: [Product Viewed], channels: [web]}")  # fmt: skip
            return
        self.keys(value, RULE_KEYS + extra, path)
        if not any(value.get(k) for k in RULE_KEYS):
            self.add(path, "the rule is empty and would match every event",
                     "name at least one of events, channels, touchpoints or where")  # fmt: skip
        for key in ("events", "channels", "touchpoints"):
            v = value.get(key)
            if v is None or isinstance(v, str):
                continue
            if not isinstance(v, list):
                self.add((*path, key), f"{key} must be a list of names", f"write {key}: [A, B]")
                continue
            for i, item in enumerate(v):
                if not isinstance(item, str):
                    self.add((*path, key, i), f"{key} item {item!r} is not a name",
                             "quote it as text, e.g. 'Order Completed'")  # fmt: skip
        where = value.get("where")
        if where is not None:
            if not isinstance(where, dict):
                self.add((*path, "where"), "where must map property names to values",
                         "write where: {segment: loyal}")  # fmt: skip
            else:
                for k, v in where.items():
                    if not isinstance(v, str | int | float) or isinstance(v, bool):
                        self.add((*path, "where", k),
                                 f"property {k!r} must equal one text or number value",
                                 "one value per property; use several rules for alternatives")  # fmt: skip

    # -- the map ----------------------------------------------------------------------
    def run(self) -> None:
        d = self.raw.data
        if not isinstance(d, dict):
            self.add((), f"the file holds a {type(d).__name__}, not a map",
                     "start the file with 'kundresa_map: 2' and the map's keys")  # fmt: skip
            return
        for path, line in self.raw.duplicates:
            self.problems.append(Problem("error", self.raw.file, line, _fmt(path),
                                 f"duplicate key {path[-1]!r}", "keep one of the two"))  # fmt: skip
        if not self.version(d):
            return
        self.keys(d, TOP_KEYS, ())
        self.text(d, "goal", (), required=True, what="the map's goal: why it exists")
        self.text(d, "title", (), required=False, what="a title")
        self.text(d, "owner", (), required=True, what="who owns the map (a person or team)")
        map_type = self.choice(d, "type", MAP_TYPES, (), "a map type", required=True)
        self.choice(d, "language", LANGUAGES, (), "a supported language", required=True)
        self.choice(d, "status", STATUSES, (), "a map status", required=False)
        if "last_validated" in d:
            self.date(d["last_validated"])
        if d.get("compare_to") is not None:
            if map_type and map_type != "future":
                self.add(("compare_to",), f"compare_to is only for future maps, not {map_type!r}",
                         "remove compare_to, or set type: future")  # fmt: skip
            else:
                target = Path(self.raw.file).parent / str(d["compare_to"])
                if not target.exists():
                    self.add(("compare_to",), f"the current map {str(d['compare_to'])!r} "
                             "does not exist", "give a path relative to this file")  # fmt: skip
        personas = self.personas(d)
        stages = self.stages(d, personas, map_type)
        self.measurement(d, stages)

    def version(self, d: dict[str, Any]) -> bool:
        if "kundresa_map" not in d:
            if "version" in d:
                self.add(("version",), f"version {d['version']!r} cannot be migrated",
                         "only version 1 files migrate; recreate with `kundresa map new`")  # fmt: skip
            else:
                self.add((), "kundresa_map (the format version) is missing",
                         f"add 'kundresa_map: {SCHEMA_VERSION}' as the first line")  # fmt: skip
            return False
        v = d["kundresa_map"]
        if not isinstance(v, int) or isinstance(v, bool):
            self.add(("kundresa_map",), f"the format version must be a whole number, not {v!r}",
                     f"write kundresa_map: {SCHEMA_VERSION}")  # fmt: skip
            return False
        if v > SCHEMA_VERSION:
            self.add(("kundresa_map",), f"version {v} is newer than this kundresa reads"
                     f" ({SCHEMA_VERSION})", "upgrade kundresa (pip install -U kundresa)")  # fmt: skip
            return False
        if v < 1 or v != SCHEMA_VERSION:
            self.add(("kundresa_map",), f"version {v} is not a known format version",
                     f"write kundresa_map: {SCHEMA_VERSION}")  # fmt: skip
            return False
        return True

    def date(self, value: Any) -> None:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            self.add(("last_validated",), f"{value!r} is not a date",
                     "write the date as YYYY-MM-DD, e.g. 2026-03-01")  # fmt: skip
            return
        if day > dt.date.today() + dt.timedelta(days=1):
            self.add(("last_validated",), f"{day} is in the future",
                     "use the date the map was last checked against customers", "warning")  # fmt: skip

    def personas(self, d: dict[str, Any]) -> list[str]:
        ps = d.get("personas")
        if ps is None:
            self.add((), "personas are missing", "add at least two personas (never one)")
            return []
        if not isinstance(ps, list) or not ps:
            self.add(("personas",), "personas must be a non-empty list",
                     "add at least two personas, each with id and name")  # fmt: skip
            return []
        if len(ps) == 1:
            self.add(("personas",), "only one persona: a map of one persona hides the others",
                     "add at least one more persona (several, never one)")  # fmt: skip
        ids: list[str] = []
        for i, p in enumerate(ps):
            path: tuple[str | int, ...] = ("personas", i)
            if not isinstance(p, dict):
                self.add(path, "a persona must be a mapping", "write id: ..., name: ...")
                continue
            self.keys(p, PERSONA_KEYS, path)
            pid = self.text(p, "id", path, required=True, what="a short id such as 'anna'")
            if pid is not None:
                if not ID.match(pid):
                    self.add((*path, "id"), f"persona id {pid!r} has spaces or symbols",
                             "use letters, digits, '_' or '-', starting with a letter")  # fmt: skip
                elif pid in ids:
                    self.add((*path, "id"), f"persona id {pid!r} is used twice",
                             "give each persona its own id")  # fmt: skip
                ids.append(pid)
            self.text(p, "name", path, required=True, what="the persona's name")
            age = p.get("age_range")
            if age is not None and not AGE.match(str(age)):
                self.add((*path, "age_range"), f"age range {age!r} is not like '25-34' or '65+'",
                         "write two ages with a dash, or an age and '+'")  # fmt: skip
            for key in ("needs", "challenges"):
                self.texts(p, key, path)
            if p.get("select") is not None:
                self.rule(p["select"], (*path, "select"))
        return ids

    def stages(self, d: dict[str, Any], personas: list[str], map_type: str | None) -> list[str]:
        ss = d.get("stages")
        if ss is None:
            self.add((), "stages are missing", "add the ordered stages (see `kundresa map new`)")
            return []
        if not isinstance(ss, list) or not ss:
            self.add(("stages",), "stages must be a non-empty list",
                     "add the ordered stages, each with id and name")  # fmt: skip
            return []
        ids: list[str] = []
        seen_events: dict[str, str] = {}
        for i, s in enumerate(ss):
            path: tuple[str | int, ...] = ("stages", i)
            if not isinstance(s, dict):
                self.add(path, "a stage must be a mapping", "write id: ..., name: ...")
                continue
            self.keys(s, STAGE_KEYS, path)
            sid = self.text(s, "id", path, required=True, what="a short id such as 'purchase'")
            if sid is not None:
                if not ID.match(sid):
                    self.add((*path, "id"), f"stage id {sid!r} has spaces or symbols",
                             "use letters, digits, '_' or '-', starting with a letter")  # fmt: skip
                elif sid in ids:
                    self.add((*path, "id"), f"stage id {sid!r} is used twice",
                             "give each stage its own id")  # fmt: skip
                ids.append(sid)
            self.text(s, "name", path, required=True, what="the stage's name")
            if map_type == "day_in_the_life" and not s.get("period"):
                self.add(path, "a day-in-the-life column needs a period",
                         "add period: '07:00-09:00' (or a term, a project phase)")  # fmt: skip
            match = s.get("match")
            if match is not None:
                self.rule(match, (*path, "match"))
                if isinstance(match, dict) and isinstance(match.get("events"), list):
                    only_events = set(match) <= {"events"}
                    for ev in match["events"]:
                        if only_events and ev in seen_events:
                            self.add((*path, "match", "events"),
                                     f"event {ev!r} already marks stage {seen_events[ev]!r}",
                                     "an event marks one stage; add channels or where to split"
                                     )  # fmt: skip
                        elif only_events:
                            seen_events[str(ev)] = str(sid)
            cells = s.get("cells")
            if cells is None:
                continue
            if not isinstance(cells, dict):
                self.add((*path, "cells"), "cells must map persona ids to lanes",
                         f"write cells: {{{personas[0] if personas else 'anna'}: {{...}}}}")  # fmt: skip
                continue
            for pid, cell in cells.items():
                self.cell(pid, cell, (*path, "cells", pid), personas)
        return ids

    def cell(self, pid: str, cell: Any, path: tuple[str | int, ...], personas: list[str]) -> None:
        if personas and pid not in personas:
            near = closest(pid, personas, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"personas: {', '.join(personas)}"
            self.add(path, f"unknown persona {pid!r} in a cell", hint)
        if cell is None:
            return
        if not isinstance(cell, dict):
            self.add(path, "a cell must map lanes to content",
                     f"use the lanes {', '.join(LANES)}")  # fmt: skip
            return
        self.keys(cell, LANES, path)
        for key in ("activities", "pain_points"):
            self.texts(cell, key, path)
        self.text(cell, "notes", path, required=False, what="free notes")
        for i, tp in enumerate(cell.get("touchpoints") or []):
            tpath = (*path, "touchpoints", i)
            if not isinstance(tp, dict):
                self.add(tpath, "a touchpoint must be a mapping",
                         "write {name: Checkout page, channel: web}")  # fmt: skip
                continue
            self.keys(tp, ("name", "channel", "match"), tpath)
            self.text(tp, "name", tpath, required=True, what="the touchpoint's name")
            self.text(tp, "channel", tpath, required=True,
                      what="its channel (web, app, store, email, social, search, ...)")  # fmt: skip
            if tp.get("match") is not None:
                self.rule(tp["match"], (*tpath, "match"))
        if "emotion" in cell and cell["emotion"] is not None:
            self.emotion(cell["emotion"], (*path, "emotion"))
        for i, op in enumerate(cell.get("opportunities") or []):
            opath = (*path, "opportunities", i)
            if isinstance(op, str):
                continue
            if not isinstance(op, dict):
                self.add(opath, "an opportunity must be text or a mapping",
                         "write {text: ..., owner: ..., status: idea}")  # fmt: skip
                continue
            self.keys(op, ("text", "owner", "status"), opath)
            self.text(op, "text", opath, required=True, what="what the company could do")
            self.choice(op, "status", OPPORTUNITY_STATUSES, opath, "an opportunity status",
                        required=False)  # fmt: skip

    def emotion(self, emo: Any, path: tuple[str | int, ...]) -> None:
        if not isinstance(emo, dict):
            self.add(path, "emotion must be a mapping with score, emoji and quote",
                     "write emotion: {score: -1, emoji: '😟', quote: '...'}")  # fmt: skip
            return
        self.keys(emo, ("score", "emoji", "quote"), path)
        if "score" not in emo:
            self.add(path, "emotion score is missing", "add score: a whole number from -2 to 2")
        else:
            score = emo["score"]
            if not isinstance(score, int) or isinstance(score, bool):
                self.add((*path, "score"), f"emotion score {score!r} is not a whole number",
                         "use -2 (very bad), -1, 0, 1 or 2 (very good)")  # fmt: skip
            elif not -2 <= score <= 2:
                self.add((*path, "score"), f"emotion score {score} is outside -2..+2",
                         "use -2 (very bad), -1, 0, 1 or 2 (very good)")  # fmt: skip
        emoji = emo.get("emoji")
        if emoji is not None and (not isinstance(emoji, str) or len(emoji) > 8):
            self.add((*path, "emoji"), f"emoji {emoji!r} is not one emoji",
                     "write one emoji such as '🙂'; put words in quote")  # fmt: skip
        quote = emo.get("quote")
        if quote is not None and not isinstance(quote, str):
            self.add((*path, "quote"), "quote must be text", "put the quote in quotes")

    def measurement(self, d: dict[str, Any], stages: list[str]) -> None:
        m = d.get("measurement")
        if m is None:
            return
        path: tuple[str | int, ...] = ("measurement",)
        if not isinstance(m, dict):
            self.add(path, "measurement must be a mapping", "write conversion: {events: [...]}")
            return
        self.keys(m, ("conversion", "survey"), path)
        conv = m.get("conversion")
        if conv is not None:
            self.rule(conv, (*path, "conversion"), extra=("stage",))
            if isinstance(conv, dict) and conv.get("stage") is not None:
                st = str(conv["stage"])
                if stages and st not in stages:
                    near = closest(st, stages, n=1)
                    hint = f"did you mean {near[0]!r}?" if near else f"stages: {', '.join(stages)}"
                    self.add((*path, "conversion", "stage"),
                             f"stage {st!r} is referenced but missing", hint)  # fmt: skip
        survey = m.get("survey")
        if survey is not None:
            self.rule(survey, (*path, "survey"), extra=("csat", "nps"))
            if isinstance(survey, dict) and not (survey.get("csat") or survey.get("nps")):
                self.add((*path, "survey"), "the survey rule names neither csat nor nps",
                         "add csat: <property> and/or nps: <property>")  # fmt: skip


def _event_warnings(jm: JourneyMap, raw: RawMap, names: list[str]) -> list[Problem]:
    known = set(names)
    out: list[Problem] = []
    rules: list[tuple[tuple[str | int, ...], Any]] = []
    for i, p in enumerate(jm.personas):
        if p.select:
            rules.append((("personas", i, "select"), p.select))
    for i, s in enumerate(jm.stages):
        if s.match:
            rules.append((("stages", i, "match"), s.match))
        for pid, c in s.cells:
            for j, t in enumerate(c.touchpoints):
                if t.match:
                    rules.append((("stages", i, "cells", pid, "touchpoints", j, "match"), t.match))
    if jm.measurement.conversion:
        rules.append((("measurement", "conversion"), jm.measurement.conversion))
    for path, rule in rules:
        for k, ev in enumerate(rule.events):
            if ev not in known:
                near = closest(ev, names)
                fix = f"did you mean: {', '.join(near)}" if near else "check the event name"
                where = (*path, "events", k)
                out.append(Problem("warning", raw.file, raw.line(where), _fmt(where),
                                   f"event {ev!r} never occurs in the data", fix))  # fmt: skip
    return out


@renamed(workspace="ws")
def validate_file(path: str | Path, *, ws: Workspace | None = None) -> ValidationReport:
    """Check a map file; with a workspace ``ws`` also warn about rules naming unseen events."""
    raw = read_raw(path)
    migrate(raw)
    checker = _Checker(raw)
    checker.run()
    problems = list(checker.problems)
    if ws is not None and not any(p.level == "error" for p in problems):
        jm = JourneyMap.from_dict(raw.data)
        names = ws.event_names()
        full = ws.events(touchpoints_only=False)
        extra = ws.store.fetch(full.select("event").distinct()).column(0).to_pylist()
        problems += _event_warnings(jm, raw, sorted({*names, *map(str, extra)}))
    return ValidationReport(str(path), tuple(problems), raw.migrated_from)


def load_map(path: str | Path) -> JourneyMap:
    """Read, migrate and validate a map file; raise :class:`MapValidationError` on errors.

    >>> from kundresa.maps import new_map, save_map
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.yaml"
    >>> save_map(new_map("awareness-to-conversion", lang="sv"), p)
    >>> load_map(p).stages[0].name
    'Medvetenhet'
    """
    report = validate_file(path)
    if not report.ok:
        raise MapValidationError(report)
    raw = read_raw(path)
    migrate(raw)
    return JourneyMap.from_dict(raw.data)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
