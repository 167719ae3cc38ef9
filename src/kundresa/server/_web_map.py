"""Routes of the journey-map page (``/map``), its JSON twin (``/api/v1/map``) and the lane
editor (``POST /map/edit``: a logged-in session and its CSRF token, like every form).

The poster is :func:`kundresa.maps.render_svg` (the map renderer of ``kundresa map render``)
embedded inline: stages as columns, lanes as rows, measured numbers beside the qualitative
content, the emotion curve on top; the persona switch is a link per persona.

>>> _pct(0.4567), _pct(None)
('45.7 %', '–')
"""

from typing import Annotated, Any
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response

from kundresa._errors import KundresaError, NotFoundError
from kundresa._util import humanize_seconds
from kundresa.maps._i18n import label as map_label
from kundresa.maps._render import PALETTE, render_svg
from kundresa.maps._validate import ValidationReport
from kundresa.server._i18n import label
from kundresa.server._journey import EDITABLE, MapView, cell_form

__all__ = ["add_map_routes"]

MAP_NAME = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="The map's name (its file stem); the first map when left out.",
    ),
]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _view(request: Request, name: str | None) -> MapView:
    rt = request.app.state.runtime
    return rt.maps.view(rt.ws, name, rt.data_version(), rt.lock)  # type: ignore[no-any-return]


def _measured_rows(view: MapView, persona: str, lang: str) -> list[list[str]]:
    jm = view.journey_map()
    meas = view.measurement
    if jm is None or meas is None:
        return []
    rows = []
    for s in jm.stages:
        sm = meas.stage(s.id, persona)
        if sm is None:
            rows.append([s.name, "–", "–", "–", "–", "–", ""])
            continue
        channels = ", ".join(f"{k} {v:,}" for k, v in sm.channels[:3])
        rows.append(
            [
                s.name,
                f"{sm.persons:,}",
                _pct(sm.progression),
                _pct(sm.drop_off),
                _pct(sm.conversion_rate),
                f"{humanize_seconds(sm.median_seconds)} / {humanize_seconds(sm.p90_seconds)}",
                channels,
            ]
        )
    return rows


def _kpis(view: MapView, persona: str, lang: str) -> list[tuple[str, str, str]]:
    jm = view.journey_map()
    meas = view.measurement
    if jm is None or meas is None:
        return []
    stages = [meas.stage(s.id, persona) for s in jm.stages]
    first = stages[0] if stages else None
    out = [("measured_persons", f"{meas.persons:,}", "")]
    if first is not None:
        out.append(("overall_conversion", _pct(first.conversion_rate), ""))
    worst = None
    for s, sm in zip(jm.stages, stages, strict=True):
        if sm is not None and sm.drop_off is not None and (worst is None or sm.drop_off > worst[1]):
            worst = (s.name, sm.drop_off)
    if worst is not None:
        out.append(("biggest_dropoff", _pct(worst[1]), worst[0]))
    out.append(("unassigned", f"{meas.unassigned:,}", ""))
    return out


def _invalid_fields(report: ValidationReport | None) -> set[str]:
    """The form fields an edit's errors point at (to mark them on the page).

    >>> from kundresa.maps import Problem
    >>> r = ValidationReport("m.yaml", (Problem("error", "m.yaml", 3,
    ...     "stages[0].cells.a.emotion.score", "outside -2..+2"),))
    >>> sorted(_invalid_fields(r))
    ['emotion_score']
    """
    out: set[str] = set()
    for p in report.problems if report is not None else ():
        if p.level != "error":
            continue
        lane = p.path.split(".cells.", 1)[-1].split(".", 1)[-1]
        if lane.startswith("emotion"):
            part = lane.split(".")[1] if "." in lane else "score"
            out.add(f"emotion_{part}" if part in ("score", "emoji", "quote") else "emotion_score")
        else:
            out.add(lane.split("[")[0].split(".")[0])
    return out


async def _page(
    request: Request,
    *,
    name: str | None,
    persona: str | None,
    edit: str | None,
    saved: bool = False,
    problems: ValidationReport | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    from kundresa.server._web import _lang, _render, _session

    session = _session(request)
    assert session is not None
    lang = _lang(request)
    rt = request.app.state.runtime
    ctx: dict[str, Any] = {"maps": rt.maps.names(), "saved": saved, "problems": problems}
    status = 400 if problems is not None else 200
    if not rt.maps.names():
        return _render(request, "map.html", page="map", title=label("journey_map", lang),
                       twin=None, session=session, view=None, **ctx)  # fmt: skip
    try:
        view = await anyio.to_thread.run_sync(_view, request, name)
    except NotFoundError as exc:
        return _render(request, "map.html", page="map", title=label("journey_map", lang),
                       twin=None, session=session, view=None, error=str(exc), status=404,
                       **ctx)  # fmt: skip
    twin = "/api/v1/map?" + urlencode({"map": view.name})
    jm = view.journey_map()
    if jm is None:
        return _render(request, "map.html", page="map", title=view.name, twin=twin,
                       session=session, view=view, **ctx)  # fmt: skip
    ids = [p.id for p in jm.personas]
    pid = persona if persona in ids or persona == "*" else (ids[0] if ids else "*")
    stage_ids = [s.id for s in jm.stages]
    sid = edit if edit in stage_ids else (stage_ids[0] if stage_ids else "")
    svg = render_svg(jm, view.measurement, persona=None if pid == "*" else pid)
    edit_persona = pid if pid != "*" else ""
    if form is None and edit_persona and sid:
        form = cell_form(jm.to_dict()["stages"][stage_ids.index(sid)]["cells"].get(pid))
    base = {"map": view.name}
    invalid = _invalid_fields(problems)
    return _render(
        request,
        "map.html",
        page="map",
        title=f"{label('journey_map', lang)} – {jm.title or jm.goal}",
        twin=twin,
        session=session,
        status=status,
        view=view,
        jm=jm,
        svg=svg,
        persona=pid,
        personas=[
            {"id": p.id, "name": p.name, "color": PALETTE[i % len(PALETTE)]}
            for i, p in enumerate(jm.personas)
        ],
        stage=sid,
        edit_persona=edit_persona,
        form=form or {},
        editable=EDITABLE,
        invalid=invalid,
        kpis=[(label(k, lang), v, note) for k, v, note in _kpis(view, pid, lang)],
        measured=_measured_rows(view, pid, lang),
        measured_head=[
            h[:1].upper() + h[1:]
            for h in (
                map_label("stage", lang),
                label("persons", lang),
                map_label("progress", lang),
                map_label("dropoff", lang),
                map_label("conversion", lang),
                f"{map_label('median_time', lang)} / p90",
                map_label("channels", lang),
            )
        ],
        lane_labels={
            k: map_label(k, lang)
            for k in (
                "activities",
                "touchpoints",
                "pain_points",
                "opportunities",
                "notes",
                "emotion",
            )
        },
        all_label=map_label("all_personas", lang),
        url=lambda **kw: "/map?" + urlencode({**base, **{k: v for k, v in kw.items() if v}}),
        **ctx,
    )


def add_map_routes(app: FastAPI) -> None:
    """``GET /map``, ``POST /map/edit`` and ``GET /api/v1/map`` on ``app``."""
    from kundresa.server._app import Reader, error_response, json_response, require_reader
    from kundresa.server._web import _login_redirect, _session, _signed_form

    @app.get(
        "/api/v1/map",
        tags=["analyses"],
        summary="Journey map",
        description="A served journey map: the file's content, its validation and its "
        "measurement on the workspace (MapView; the same numbers as `kundresa map measure`).",
        response_class=Response,
        responses={
            200: {"description": "MapView.to_dict()"},
            401: {"description": "No read key or session"},
            404: {"description": "No such map (the served names)"},
        },
    )
    async def api_map(
        request: Request,
        reader: Annotated[Reader, Depends(require_reader)],
        map: MAP_NAME = None,
    ) -> Response:
        try:
            view = await anyio.to_thread.run_sync(_view, request, map)
        except NotFoundError as exc:
            return error_response(404, "not_found", str(exc))
        except KundresaError as exc:
            return error_response(400, "invalid_request", str(exc))
        return json_response(view.to_dict())

    @app.get("/map", include_in_schema=False)
    async def map_page(
        request: Request,
        map: str | None = None,
        persona: str | None = None,
        edit: str | None = None,
        saved: int = 0,
    ) -> Response:
        if _session(request) is None:
            return _login_redirect(request)
        return await _page(request, name=map, persona=persona, edit=edit, saved=bool(saved))

    @app.post("/map/edit", include_in_schema=False)
    async def map_edit(request: Request) -> Response:
        signed = await _signed_form(request)
        if isinstance(signed, Response):
            return signed
        _, form = signed
        rt = request.app.state.runtime
        name, stage, persona = (str(form.get(k) or "") for k in ("map", "stage", "persona"))
        lanes = {k: str(form.get(k) or "") for k in EDITABLE if k in form}
        try:
            report = await anyio.to_thread.run_sync(
                rt.maps.edit, name, stage, persona, lanes, str(form.get("version") or "")
            )
        except NotFoundError as exc:
            return Response(str(exc), 404)
        if report.ok:
            query = {"map": name, "persona": persona, "edit": stage, "saved": 1}
            return RedirectResponse("/map?" + urlencode(query) + "#edit", status_code=303)
        return await _page(request, name=name, persona=persona, edit=stage,
                           problems=report, form=lanes)  # fmt: skip
