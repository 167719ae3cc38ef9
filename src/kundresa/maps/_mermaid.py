"""Mermaid ``journey`` export and import (lossless through ``%%`` comments) and Mermaid
``timeline`` export for day-in-the-life maps.

Mermaid's journey grammar forbids ``#``, ``;`` and ``:`` in title, section and task text (and
``,`` separates actors). Those characters are written as their full-width twins (``＃ ； ： ，``)
in the visible text; the exact text travels in a ``%% kundresa:`` comment line, so importing
our own export gives back the identical map. Scores map -2..+2 to Mermaid's 1..5 (score + 3).

>>> from kundresa.maps import new_map
>>> text = to_mermaid(new_map("awareness-to-conversion"))
>>> text.splitlines()[1]
'journey'
"""

from __future__ import annotations

import json
import re
from typing import Any

from kundresa._errors import FileFormatError
from kundresa.maps._model import JourneyMap

__all__ = ["from_mermaid", "score_from_mermaid", "score_to_mermaid", "to_mermaid", "to_timeline"]

_ESC = {"#": "＃", ";": "；", ":": "：", ",": "，", "\n": " ", "\r": " "}
_TAG = "%% kundresa:"


def score_to_mermaid(score: int) -> int:
    """Map an emotion score -2..+2 to Mermaid's 1..5.

    >>> [score_to_mermaid(s) for s in (-2, 0, 2)]
    [1, 3, 5]
    """
    return score + 3


def score_from_mermaid(score: int) -> int:
    """Map Mermaid's 1..5 to an emotion score -2..+2.

    >>> score_from_mermaid(1)
    -2
    """
    return score - 3


def _esc(text: str) -> str:
    out = "".join(_ESC.get(c, c) for c in text).strip()
    return out or "-"


def _dump(kind: str, obj: Any) -> str:
    return f"{_TAG}{kind} " + json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def to_mermaid(jm: JourneyMap) -> str:
    """The map as a Mermaid ``journey`` diagram (one task per stage x persona cell)."""
    head = jm.to_dict()
    head.pop("stages")
    lines = [_dump("map", head), "journey", f"    title {_esc(jm.title or jm.goal)}"]
    names = {p.id: p.name for p in jm.personas}
    for stage in jm.stages:
        lines.append(f"    section {_esc(stage.name)}")
        meta = stage.to_dict()
        meta.pop("cells")
        lines.append("      " + _dump("stage", meta))
        for pid, cell in stage.cells:
            task = cell.activities[0] if cell.activities else stage.name
            score = cell.emotion.score if cell.emotion else 0
            lines.append(
                f"      {_esc(task)}: {score_to_mermaid(score)}: {_esc(names.get(pid, pid))}"
            )
            lines.append("      " + _dump("cell", {"persona": pid, **cell.to_dict()}))
    return "\n".join(lines) + "\n"


_TASK = re.compile(r"^\s*([^#:;\n]+?)\s*:\s*(\d+)\s*(?::\s*([^#;\n]*))?$")


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"
    if not base[0].isalpha():
        base = "x_" + base
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    taken.add(slug)
    return slug


def from_mermaid(text: str, *, source: str = "<mermaid>") -> JourneyMap:
    """Read a Mermaid ``journey`` (ours, lossless; or anyone's, best effort) into a map."""
    head: dict[str, Any] | None = None
    title = ""
    stages: list[dict[str, Any]] = []
    persona_ids: dict[str, str] = {}
    seen_journey = False
    pending_task: tuple[str, int, list[str]] | None = None

    def fail(no: int, problem: str, fix: str) -> FileFormatError:
        return FileFormatError(f"{source}:{no}", problem, fix=fix)

    def flush_plain(no: int) -> None:
        nonlocal pending_task
        if pending_task is None:
            return
        task, score, actors = pending_task
        pending_task = None
        if not stages:
            raise fail(no, "a task before any section", "start with 'section <stage name>'")
        for actor in actors or ["persona"]:
            pid = persona_ids.setdefault(actor, _slug(actor, set(persona_ids.values())))
            cell = {"activities": [task], "emotion": {"score": score_from_mermaid(score)}}
            stages[-1]["cells"][pid] = cell

    lines = text.splitlines()
    for no, line in enumerate(lines, 1):
        s = line.strip()
        if not s:
            continue
        if s.startswith(_TAG):
            kind, _, payload = s[len(_TAG) :].partition(" ")
            try:
                obj = json.loads(payload)
            except ValueError as exc:
                raise fail(no, f"the kundresa comment is not JSON ({exc})",
                           "leave '%% kundresa:' lines as exported") from exc  # fmt: skip
            if kind == "map":
                head = obj
            elif kind == "stage":
                if not stages:
                    raise fail(
                        no, "a stage comment before any section", "keep it under its section"
                    )
                visible = stages[-1]["name"]
                stages[-1].update(obj)
                if _esc(obj.get("name", "")) != visible:  # edited in Mermaid: the visible wins
                    stages[-1]["name"] = visible
            elif kind == "cell":
                if pending_task is None or not stages:
                    raise fail(no, "a cell comment without its task line", "keep it under its task")
                task, score, _ = pending_task
                pending_task = None
                pid = str(obj.pop("persona"))
                acts = list(obj.get("activities") or [])
                if _esc(acts[0] if acts else stages[-1]["name"]) != task:
                    obj["activities"] = [task, *acts[1:]]
                emo = obj.get("emotion")
                if emo is None and score != 3:
                    obj["emotion"] = {"score": score_from_mermaid(score)}
                elif emo is not None:
                    emo["score"] = score_from_mermaid(score)
                stages[-1]["cells"][pid] = obj
            continue
        if s.startswith("%%"):
            continue
        flush_plain(no)
        if s == "journey":
            seen_journey = True
            continue
        if not seen_journey:
            raise fail(no, f"expected 'journey', found {s[:30]!r}",
                       "a Mermaid journey starts with the line 'journey'")  # fmt: skip
        if s.startswith("title "):
            title = s[6:].strip()
        elif s.startswith("section "):
            name = s[8:].strip()
            stages.append(
                {"id": _slug(name, {st["id"] for st in stages}), "name": name, "cells": {}}
            )
        else:
            m = _TASK.match(s)
            if not m:
                raise fail(no, f"cannot read the task {s[:40]!r}",
                           "write '<task>: <score 1-5>: <actor>, <actor>'")  # fmt: skip
            score = int(m.group(2))
            if not 1 <= score <= 5:
                raise fail(no, f"score {score} is outside 1..5", "Mermaid scores run from 1 to 5")
            actors = [a.strip() for a in (m.group(3) or "").split(",") if a.strip()]
            pending_task = (m.group(1).strip(), score, actors)
    flush_plain(len(lines))
    if not seen_journey:
        raise fail(1, "no 'journey' line", "export a Mermaid journey diagram")
    if not stages:
        raise fail(len(lines), "no sections", "add 'section <stage name>' lines")
    if head is not None:
        data = dict(head)
        if _esc(data.get("title") or data.get("goal", "")) != title:
            data["title"] = title
    else:
        data = {
            "kundresa_map": 2, "title": title, "goal": f"Imported from Mermaid: {title}",
            "type": "current", "owner": "unknown", "language": "en",
            "personas": [{"id": pid, "name": name} for name, pid in persona_ids.items()],
        }  # fmt: skip
    data["stages"] = stages
    return JourneyMap.from_dict(data)


def to_timeline(jm: JourneyMap) -> str:
    """A Mermaid ``timeline``: one section per persona, one period per column.

    >>> from kundresa.maps import new_map
    >>> print(to_timeline(new_map("day-in-the-life")).splitlines()[3])
        section Anna， the researcher
    """
    lines = ["timeline", f"    title {_esc(jm.title or jm.goal)}"]
    lines.insert(0, "%% " + _esc(jm.goal))
    for p in jm.personas:
        lines.append(f"    section {_esc(p.name)}")
        for stage in jm.stages:
            cell = stage.cell(p.id)
            period = f"{stage.name} {stage.period}".strip()
            events = list(cell.activities)
            if cell.emotion and (cell.emotion.emoji or cell.emotion.quote):
                events.append(f"{cell.emotion.emoji} {cell.emotion.quote}".strip())
            events += [f"⚠ {pp}" for pp in cell.pain_points]
            body = " : ".join(_esc(e) for e in events) or "-"
            lines.append(f"        {_esc(period)} : {body}")
    return "\n".join(lines) + "\n"


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
