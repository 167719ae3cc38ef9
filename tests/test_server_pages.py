"""The journey-map, funnel-builder and flows pages in process: their JSON twins return the
library's result objects, the lane editor saves valid edits atomically into the map file
(YAML and JSON) and refuses invalid ones with the validator's message, leaving the file
byte-for-byte unchanged; write access needs a session and its CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundresa import Workspace
from kundresa.funnel import funnel
from kundresa.maps import load_map, measure_map, new_map, save_map, validate_file
from kundresa.paths import flows
from kundresa.server._app import ServerConfig, create_app
from kundresa.server._journey import cell_form, edit_cell, find_maps
from kundresa.server._state import ServerState, state_path
from kundresa.synth import synthesize
from tests._server import create_key

PASSWORD = "correct horse battery"
STEPS = ["Product Viewed", "Product Added", "Order Completed"]


class Site:
    def __init__(self, client: TestClient, read: str, maps: dict[str, Path]) -> None:
        self.client = client
        self.read = read
        self.maps = maps

    @property
    def rt(self) -> Any:
        return self.client.app.state.runtime  # type: ignore[attr-defined]


def _anonymous(site: Site) -> TestClient:
    """A second browser on the running app (not entered: no second lifespan)."""
    return TestClient(site.client.app, base_url="https://testserver")


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no csrf field"
    return m.group(1)


def _version(html: str) -> str:
    m = re.search(r'name="version" value="([^"]+)"', html)
    assert m, "no version field"
    return m.group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    d = tmp_path_factory.mktemp("pages")
    db = d / "p.duckdb"
    synth = synthesize(persons=300, seed=9, out=d / "synth", days=21)
    with Workspace.open(db) as ws:
        ws.ingest([synth.events_path])
    maps = d / "maps"
    save_map(new_map("shop", lang="sv"), maps / "shop.yaml")
    save_map(new_map("shop", lang="en"), maps / "shop-en.json")
    (maps / "notes.yaml").write_text("just: notes\n")  # not a map: not served
    st_ = ServerState(state_path(db))
    st_.set_user("anna", PASSWORD, "en")
    st_.close()
    read = create_key(db, "dash", "read")
    app = create_app(ServerConfig(db=str(db), maps=(str(maps),), loader_interval=0.05))
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/login")
        r = client.post(
            "/login",
            data={"user": "anna", "password": PASSWORD, "csrf": _csrf(page.text), "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        yield Site(client, read, {"shop": maps / "shop.yaml", "shop-en": maps / "shop-en.json"})


def test_a_folder_serves_its_map_files_only(site: Site) -> None:
    assert site.rt.maps.names() == ("shop-en", "shop")  # sorted file names
    with pytest.raises(LookupError, match="--map"):
        find_maps(["/no/such/map.yaml"])


def test_the_start_page_is_the_living_map(site: Site) -> None:
    r = site.client.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/map")


def test_map_twin_is_the_library_measurement(site: Site) -> None:
    r = site.client.get("/api/v1/map", params={"map": "shop"})
    assert r.status_code == 200
    data = r.json()
    with site.rt.lock:
        expected = measure_map(load_map(site.maps["shop"]), site.rt.ws).to_dict()
    assert data["measurement"] == expected
    assert data["map"] == load_map(site.maps["shop"]).to_dict()
    assert data["maps"] == ["shop-en", "shop"]
    # a read key works too; no key does not
    key = {"Authorization": f"Bearer {site.read}"}
    anon = _anonymous(site)
    assert anon.get("/api/v1/map").status_code == 401
    assert anon.get("/api/v1/map", headers=key).json()["name"] == "shop-en"
    anon.close()
    missing = site.client.get("/api/v1/map", params={"map": "shp"})
    assert missing.status_code == 404
    assert "shop" in missing.json()["detail"]


def test_map_page_shows_the_measured_poster_and_persona_switch(site: Site) -> None:
    jm = load_map(site.maps["shop"])
    pid = jm.personas[1].id
    page = site.client.get("/map", params={"map": "shop", "persona": pid})
    assert page.status_code == 200
    html = page.text
    assert 'class="kundresa-map"' in html  # the map renderer's SVG, inline
    assert 'class="emotion-line"' in html
    assert f'data-persona="{pid}"' in html
    for p in jm.personas:  # one switch per persona (and "all")
        assert f'data-persona="{p.id}"' in html
    with site.rt.lock:
        meas = measure_map(jm, site.rt.ws)
    first = meas.stage(jm.stages[0].id, pid)
    assert first is not None
    assert f"<td>{first.persons:,}</td>" in html  # the measured table of that persona
    assert '<link rel="alternate" type="application/json" href="/api/v1/map?map=shop">' in html


def _save(site: Site, name: str, stage: str, persona: str, **lanes: str) -> Any:
    page = site.client.get("/map", params={"map": name, "persona": persona, "edit": stage})
    data = {"csrf": _csrf(page.text), "version": _version(page.text), "map": name,
            "stage": stage, "persona": persona, **lanes}  # fmt: skip
    return site.client.post("/map/edit", data=data, follow_redirects=False)


def test_a_valid_edit_is_saved_to_the_file_and_revalidates(site: Site) -> None:
    path = site.maps["shop"]
    jm = load_map(path)
    stage, persona = jm.stages[2].id, jm.personas[0].id
    old = jm.stages[2].cell(persona)
    tps = cell_form(jm.to_dict()["stages"][2]["cells"][persona])["touchpoints"]
    r = _save(
        site,
        "shop",
        stage,
        persona,
        activities="Jämför tre modeller\nLäser recensioner",
        touchpoints=tps + "\nButikens chatt | chat",
        emotion_score="-2",
        emotion_emoji="😫",
        emotion_quote="Varför är det så dyrt?",
        pain_points="Frakten syns först i kassan",
        opportunities="Visa frakten direkt | CX-teamet | planned",
        notes="",
    )
    assert r.status_code == 303
    assert "saved=1" in r.headers["location"]
    assert validate_file(path).ok
    cell = load_map(path).stages[2].cell(persona)
    assert cell.activities == ("Jämför tre modeller", "Läser recensioner")
    assert (cell.emotion.score, cell.emotion.emoji) == (-2, "😫")  # type: ignore[union-attr]
    assert cell.pain_points == ("Frakten syns först i kassan",)
    assert [(o.text, o.owner, o.status) for o in cell.opportunities] == [
        ("Visa frakten direkt", "CX-teamet", "planned")
    ]
    # touchpoints keep their measurement rules; the new one has none
    assert cell.touchpoints[:-1] == old.touchpoints
    assert (cell.touchpoints[-1].name, cell.touchpoints[-1].channel) == ("Butikens chatt", "chat")
    # other cells are untouched
    assert load_map(path).stages[0] == jm.stages[0]
    page = site.client.get(r.headers["location"])
    assert 'id="saved"' in page.text
    assert "Frakten syns först i kassan" in page.text


def test_an_invalid_edit_shows_the_validator_message_and_leaves_the_file(site: Site) -> None:
    path = site.maps["shop"]
    before = path.read_bytes()
    jm = load_map(path)
    r = _save(site, "shop", jm.stages[0].id, jm.personas[0].id, emotion_score="5",
              emotion_emoji="😍", activities="x")  # fmt: skip
    assert r.status_code == 400
    assert "emotion score 5 is outside -2..+2" in r.text
    assert "emotion.score</code>" in r.text  # names the field
    assert "use -2 (very bad), -1, 0, 1 or 2 (very good)" in r.text  # and the fix
    assert 'value="5"' in r.text  # the user's input is kept in the form
    r = _save(site, "shop", jm.stages[0].id, jm.personas[0].id,
              touchpoints="Kundtjänst", opportunities="Ring upp | CX | someday")  # fmt: skip
    assert r.status_code == 400
    assert "touchpoints[0]</code>: channel is missing" in r.text
    assert "someday" in r.text
    assert "opportunities[0].status" in r.text
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_json_map_files_stay_json(site: Site) -> None:
    path = site.maps["shop-en"]
    jm = load_map(path)
    r = _save(site, "shop-en", jm.stages[1].id, jm.personas[2].id, pain_points="Slow site")
    assert r.status_code == 303
    import json

    assert json.loads(path.read_text())["kundresa_map"] == 2
    assert load_map(path).stages[1].cell(jm.personas[2].id).pain_points == ("Slow site",)


def test_editing_needs_a_session_csrf_and_the_current_version(site: Site) -> None:
    path = site.maps["shop"]
    before = path.read_bytes()
    jm = load_map(path)
    form = {"map": "shop", "stage": jm.stages[0].id, "persona": jm.personas[0].id,
            "activities": "hijacked"}  # fmt: skip
    assert site.client.post("/map/edit", data=form).status_code == 403  # no CSRF token
    anon = _anonymous(site)
    r = anon.post("/map/edit", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
    anon.close()
    page = site.client.get("/map", params={"map": "shop", "persona": jm.personas[0].id})
    stale = {**form, "csrf": _csrf(page.text), "version": "0000000000000000"}
    r = site.client.post("/map/edit", data=stale)
    assert r.status_code == 400
    assert "the file changed since this page was opened" in r.text
    assert path.read_bytes() == before


def test_funnel_twin_and_page_equal_the_library_result(site: Site) -> None:
    r = site.client.get("/api/v1/funnel", params={"steps": STEPS, "window": "3d"})
    assert r.status_code == 200, r.text
    with site.rt.lock:
        lib = funnel(site.rt.ws, STEPS, window="3d")
    got, want = r.json(), lib.to_dict()
    got.pop("seconds"), want.pop("seconds")
    assert got == want
    page = site.client.get("/funnel", params={"steps": [*STEPS, ""], "window": "3d", "by": ""})
    assert page.status_code == 200
    table = page.text.split('id="funnel-table"')[1]
    for s in lib.steps:
        assert f"{s.count:,}</td>" in table
    for e in STEPS:  # the chosen steps stay selected in the builder
        assert f'<option value="{e}" selected>' in page.text
    assert "/api/v1/funnel?steps=Product+Viewed&amp;steps=Product+Added" in page.text
    by = site.client.get("/funnel", params={"steps": STEPS, "by": "channel"})
    assert 'id="breakdown-table"' in by.text


def test_funnel_page_opens_with_a_suggested_funnel(site: Site) -> None:
    page = site.client.get("/funnel")
    assert page.status_code == 200
    assert 'id="funnel-table"' in page.text
    assert 'id="figure-data"' in page.text
    bad = site.client.get("/funnel", params={"steps": ["Product Viewed", "Prodcut Added"]})
    assert bad.status_code == 400
    assert "Product Added" in bad.text


def test_flows_twin_and_page_equal_the_library_result(site: Site) -> None:
    q = {"start": "Product Viewed", "max_steps": 4, "top": 3}
    r = site.client.get("/api/v1/flows", params=q)
    assert r.status_code == 200, r.text
    with site.rt.lock:
        lib = flows(site.rt.ws, start="Product Viewed", max_steps=4, top=3)
    assert r.json() == lib.to_dict()
    page = site.client.get("/flows", params=q)
    assert page.status_code == 200
    assert '"type":"sankey"' in page.text
    assert f'id="kpi-persons">{lib.persons:,}<' in page.text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("sv", ["Kundresekarta", "Redigera raderna", "Tratt", "Flöden"]),
        ("nb", ["Kundereisekart", "Rediger radene", "Trakt", "Flyter"]),
        ("en", ["Journey map", "Edit the lanes", "Funnel", "Flows"]),
    ],
)
def test_new_pages_have_labels_in_three_languages(site: Site, lang: str, words: list[str]) -> None:
    html = site.client.get("/map", params={"lang": lang}).text
    for w in words:
        assert w in html
    assert f"<h1>{words[2]}</h1>" in site.client.get("/funnel", params={"lang": lang}).text
    site.client.get("/map", params={"lang": "en"})


lines = st.lists(
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda s: s and "|" not in s),
    max_size=4,
)


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(activities=lines, pains=lines, score=st.integers(-2, 2))
def test_edit_round_trips_through_the_form(
    tmp_path_factory: pytest.TempPathFactory, activities: list[str], pains: list[str], score: int
) -> None:
    path = tmp_path_factory.mktemp("rt") / "m.yaml"
    save_map(new_map("awareness-to-conversion", lang="nb"), path)
    jm = load_map(path)
    sid, pid = jm.stages[1].id, jm.personas[0].id
    report = edit_cell(path, sid, pid, {"activities": "\n".join(activities),
                                        "pain_points": "\n".join(pains),
                                        "emotion_score": str(score)})  # fmt: skip
    assert report.ok, str(report)
    cell = load_map(path).stages[1].cell(pid)
    assert list(cell.activities) == activities
    assert list(cell.pain_points) == pains
    assert cell.emotion is not None
    assert cell.emotion.score == score
    form = cell_form(load_map(path).to_dict()["stages"][1]["cells"].get(pid))
    assert form["activities"].splitlines() == activities


def test_demo_ends_serving_its_living_journey_map(tmp_path: Path) -> None:
    """The main job: ``kundresa demo`` ends with the web app showing the demo's measured map,
    printing the URL and a login."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from tests._server import free_port

    port = free_port()
    out = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kundresa.cli", "demo", "--persons", "200", "--out", str(out),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "KUNDRESA_DB": str(out / "kundresa.duckdb")},
    )  # fmt: skip
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.strip().startswith("login"):
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/map" in text, text[-2000:]
        # the password is in an owner-only file beside the workspace, not in the output
        user = text.strip().splitlines()[-1].split()[1]
        login_file = out / "kundresa.duckdb.login"
        assert str(login_file) in text
        password = login_file.read_text().splitlines()[1].split(": ", 1)[1]
        assert password not in text
        assert oct(login_file.stat().st_mode & 0o777) == "0o600"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as c:
            while time.monotonic() < deadline:  # announced just before it listens
                try:
                    if c.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            page = c.get("/login")
            r = c.post("/login", data={"user": user, "password": password, "next": "/map",
                                       "csrf": _csrf(page.text)})  # fmt: skip
            assert r.status_code == 200, r.text[:500]
            assert 'class="kundresa-map"' in r.text
            twin = c.get("/api/v1/map").json()
            assert twin["file"] == str((out / "journey-map.yaml").resolve())
            assert twin["measurement"]["persons"] > 0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
