"""Templates, file format, schema, migration, Mermaid/CJML round trips and rendering."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from kundresa.maps import (
    TEMPLATES,
    JourneyMap,
    from_mermaid,
    load_map,
    new_map,
    render_html,
    render_map,
    render_svg,
    save_map,
    schema_path,
    to_cjml,
    to_mermaid,
    to_timeline,
    validate_file,
)
from kundresa.maps._browser import chromium as maps_chromium
from kundresa.maps._templates import _NAMES
from tests._images import check_pdf, check_png, require_chromium, svg_size

SEED_MODELS = ("need-to-experience", "awareness-to-loyalty", "awareness-to-conversion",
               "awareness-to-post-purchase")  # fmt: skip
LANGS = ("sv", "nb", "en")
ALL = [(t, lang, kind) for t in TEMPLATES for lang in LANGS
       for kind in (("day_in_the_life",) if t == "day-in-the-life" else ("current", "future"))]  # fmt: skip
SCHEMA = json.loads(schema_path().read_text())
# The CJML 2.0 structure restated from public sources (the official XSD was not available
# offline; see the file's header and ADR 0007).
CJML_SCHEMA = xmlschema.XMLSchema(str(Path(__file__).with_name("cjml_structure.xsd")))


def test_seed_stage_models_in_every_language() -> None:
    """The four stage models of the seeds (DOMAIN.md), word for word."""
    assert [s.name for s in new_map("need-to-experience", lang="sv").stages] == [
        "Behov", "Informationssökning", "Utvärdering av alternativ", "Köp", "Upplevelse efter köp"]  # fmt: skip
    assert [s.name for s in new_map("awareness-to-loyalty", lang="nb").stages] == [
        "Bevissthet", "Vurdering", "Kjøp", "Etterkjøp", "Lojalitet"]  # fmt: skip
    assert [s.name for s in new_map("awareness-to-conversion", lang="sv").stages] == [
        "Medvetenhet", "Övervägande", "Beslut", "Konvertering"]  # fmt: skip
    assert [s.name.lower() for s in new_map("awareness-to-post-purchase", lang="sv").stages] == [
        "medvetenhet", "övervägande", "utvärdering", "köp", "upplevelser efter köpet"]  # fmt: skip
    assert all(len(v) == 3 for v in _NAMES.values())


@pytest.mark.parametrize(("template", "lang", "kind"), ALL)
def test_template_validates_roundtrips_and_matches_schema(
    template: str, lang: str, kind: str, tmp_path: Path
) -> None:
    jm = new_map(template, lang=lang, type=kind)
    assert len(jm.personas) >= 2
    for suffix in (".yaml", ".json"):
        p = tmp_path / f"m{suffix}"
        save_map(jm, p)
        report = validate_file(p)
        assert report.ok, str(report)
        assert load_map(p) == jm
    jsonschema.validate(jm.to_dict(), SCHEMA)
    # Mermaid journey: lossless round trip, and only grammar-legal lines
    text = to_mermaid(jm)
    assert from_mermaid(text) == jm
    _assert_mermaid_grammar(text)
    if kind == "day_in_the_life":
        tl = to_timeline(jm)
        assert tl.splitlines()[1] == "timeline"
        assert all(s.period.replace(":", "：") in tl for s in jm.stages)
    else:
        xml = to_cjml(jm)
        CJML_SCHEMA.validate(xml)
        root = ET.fromstring(xml)
        assert root.get("version") == "2.0"
        assert len(root.findall("plannedJourney")) == len(jm.personas)


def _assert_mermaid_grammar(text: str) -> None:
    """Mermaid journey grammar (jison): title [^#\\n;]+, section [^#:\\n;]+, task [^#:\\n;]+
    followed by ':' data [^#\\n;]+; comments are '%%' lines not starting a directive."""
    lines = text.splitlines()
    assert "journey" in lines
    for ln in lines:
        s = ln.strip()
        if s.startswith("%%"):
            assert not s.startswith("%%{")
            continue
        if s == "journey":
            continue
        if s.startswith("title "):
            assert re.fullmatch(r"title [^#\n;]+", s), s
        elif s.startswith("section "):
            assert re.fullmatch(r"section [^#:\n;]+", s), s
        else:
            assert re.fullmatch(r"[^#:\n;]+: [1-5]: [^#:\n;,]+(, [^#:\n;,]+)*", s), s


def test_mermaid_escapes_forbidden_characters() -> None:
    jm = new_map("awareness-to-conversion")
    d = jm.to_dict()
    d["stages"][0]["name"] = "Steg 1: #hashtag; kolon"
    d["stages"][0]["cells"]["anna"]["activities"] = ["Reads: reviews; #1"]
    odd = JourneyMap.from_dict(d)
    text = to_mermaid(odd)
    _assert_mermaid_grammar(text)
    assert from_mermaid(text) == odd


def test_import_plain_mermaid(tmp_path: Path) -> None:
    text = "journey\n  title My day\n  section Go to work\n    Make tea: 5: Me, Cat\n    Go upstairs: 1: Me\n"
    jm = from_mermaid(text)
    assert [s.name for s in jm.stages] == ["Go to work"]
    assert {p.name for p in jm.personas} == {"Me", "Cat"}
    assert jm.stages[0].cell("me").emotion is not None
    assert jm.stages[0].cell("me").emotion.score == -2  # the last task of Me wins: 1 -> -2
    p = tmp_path / "m.yaml"
    save_map(jm, p)
    assert validate_file(p).ok


def test_mermaid_edit_in_mermaid_wins() -> None:
    jm = new_map("awareness-to-loyalty", lang="nb")
    text = to_mermaid(jm).replace("section Bevissthet", "section Oppmerksomhet")
    text = re.sub(r": 4: Jonas", ": 1: Jonas", text, count=1)
    back = from_mermaid(text)
    assert back.stages[0].name == "Oppmerksomhet"
    assert back.stages[0].cell("jonas").emotion.score == -2  # type: ignore[union-attr]


def test_cjml_export_reads_like_the_cjml_tool() -> None:
    """What the CJML diagram tool's 2.0 reader takes from a file (journeyID, actors by
    actorID/actorIDref with actorName/companyName, touchpoints in order with initiator and
    receiver refersTo, channelName): every reference resolves, each stage is a phase of its
    persona's journey, activities are the persona's actions and touchpoints communication
    points from the provider; no experience in a planned journey (CJML: experience only in
    actual journeys)."""
    jm = new_map("shop", lang="sv", type="future")
    root = ET.fromstring(to_cjml(jm))
    declared = {a.get("actorID"): a for a in root.iter() if a.get("actorID")}
    assert set(declared) == {p.id for p in jm.personas} | {"provider"}
    assert declared["provider"].findtext("companyName") == jm.owner
    journeys = root.findall("plannedJourney")
    assert [j.findtext("journeyID") for j in journeys] == [f"PJ-{p.id}" for p in jm.personas]
    for j, p in zip(journeys, jm.personas, strict=True):
        actors = [a.get("actorID") or a.get("actorIDref") for a in j.find("actors") or []]
        assert actors == [p.id, "provider"]
        phases = j.findall("journeyPhases/journeyPhase")
        assert [ph.findtext("phaseName") for ph in phases] == [s.name for s in jm.stages]
        points = list(j.find("touchpoints") or [])
        cells = [s.cell(p.id) for s in jm.stages]
        assert len(points) == sum(len(c.activities) + len(c.touchpoints) for c in cells)
        assert [t.findtext("touchpointID") for t in points] == [
            f"T{i + 1}" for i in range(len(points))
        ]
        for t in points:
            assert t.find("initiator/refersTo").get("actorIDref") in actors  # type: ignore[union-attr]
            if t.tag == "plannedCommunicationPoint":
                assert t.find("initiator/refersTo").get("actorIDref") == "provider"  # type: ignore[union-attr]
                assert t.find("receiver/refersTo").get("actorIDref") == p.id  # type: ignore[union-attr]
                assert t.findtext("channel/channelName")
            else:
                assert t.tag == "plannedAction"
        assert j.find(".//touchpointExperience") is None
    # pain points travel in the comment of the stage's communication points
    pains = [
        (s.name, pp) for p in jm.personas for s in jm.stages for pp in s.cell(p.id).pain_points
    ]
    assert pains
    comments = " ".join(c.text or "" for c in root.iter("comment"))
    assert all(pp in comments for _, pp in pains)


def test_cjml_schema_rejects_broken_exports() -> None:
    """The restated schema is not a rubber stamp: a dangling actor reference, a phase reference
    to nowhere, receiver before initiator, and an experience in a planned journey all fail."""
    xml = to_cjml(new_map("awareness-to-conversion", lang="en"))
    CJML_SCHEMA.validate(xml)
    broken = [
        xml.replace('actorIDref="provider"', 'actorIDref="nobody"', 1),
        re.sub(r'phaseIDref="[^"]+"', 'phaseIDref="nowhere"', xml, count=1),
        re.sub(
            r"(<initiator>.*?</initiator>)(\s*)(<receiver>.*?</receiver>)",
            r"\3\2\1",
            xml,
            count=1,
            flags=re.S,
        ),
        xml.replace("</channel>", "</channel><touchpointExperience/>", 1),
        xml.replace('<CJML version="2.0">', '<CJML version="1.1">'),
    ]
    for bad in broken:
        assert bad != xml
        assert not CJML_SCHEMA.is_valid(bad), bad[:400]


def test_version_1_file_migrates(tmp_path: Path) -> None:
    p = tmp_path / "old.yaml"
    p.write_text(
        "version: 1\ngoal: old map\ntype: current\nowner: CX\nlanguage: en\n"
        "personas: [{id: a, name: A}, {id: b, name: B}]\n"
        "phases:\n  - id: buy\n    name: Buy\n    cells:\n      a: {emotion: 5, painpoints: [slow]}\n"
    )
    report = validate_file(p)
    assert report.ok
    assert report.migrated_from == 1
    jm = load_map(p)
    cell = jm.stages[0].cell("a")
    assert cell.emotion is not None
    assert cell.emotion.score == 2
    assert cell.pain_points == ("slow",)


def test_schema_published_in_docs_equals_package_data() -> None:
    docs = Path(__file__).parents[1] / "docs" / "map.schema.json"
    assert json.loads(docs.read_text()) == SCHEMA
    bad = new_map().to_dict()
    bad["stages"][0]["cells"]["anna"]["emotion"]["score"] = 5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


# -- rendering: structure snapshots ------------------------------------------------------


def _structure(svg: str) -> dict[str, int]:
    return {k: svg.count(f'class="{k}') for k in (
        "kundresa-map", "map-title", "emotion-chart", "emotion-line", "persona-section",
        "persona-name", "stage-name", "lane lane-activities", "lane lane-touchpoints",
        "lane lane-emotion", "lane lane-pain_points", "lane lane-opportunities",
        "lane lane-measured", "dropoff-marker")}  # fmt: skip


def test_svg_structure_snapshot() -> None:
    jm = new_map("awareness-to-post-purchase", lang="sv")
    svg = render_svg(jm)
    ET.fromstring(svg)  # well-formed XML
    assert _structure(svg) == {
        "kundresa-map": 1, "map-title": 1, "emotion-chart": 1, "emotion-line": 2,
        "persona-section": 2, "persona-name": 2, "stage-name": 10,
        "lane lane-activities": 2, "lane lane-touchpoints": 2, "lane lane-emotion": 2,
        "lane lane-pain_points": 2, "lane lane-opportunities": 2, "lane lane-measured": 0,
        "dropoff-marker": 0,
    }  # fmt: skip
    for word in ("Smärtpunkter", "Möjligheter", "Känslokurva", "Aktiviteter", "Kontaktpunkter"):
        assert word in svg


def test_future_map_overlays_current() -> None:
    cur, fut = new_map(lang="en"), new_map(lang="en", type="future")
    svg = render_svg(fut, compare=cur)
    assert svg.count('class="emotion-line"') == 4
    assert "as-is" in svg
    assert "to-be" in svg
    assert 'stroke-dasharray="8 6"' in svg


def test_html_is_self_contained_with_persona_switch() -> None:
    jm = new_map("need-to-experience", lang="nb")
    page = render_html(jm)
    assert page.startswith("<!DOCTYPE html>")
    assert 'lang="nb"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no network
    assert page.count('<button data-persona="') == len(jm.personas) + 1
    assert page.count('class="persona-view"') == len(jm.personas)
    assert "Smertepunkter" in page
    assert "Alle personas" in page


# Every seed model in every language as it is (current), each model once as a future map
# over its current counterpart (the as-is/to-be overlay), and the day-in-the-life map type.
RENDER = (
    [(t, lang, "current") for t in SEED_MODELS for lang in LANGS]
    + [(t, LANGS[i % 3], "future") for i, t in enumerate(SEED_MODELS)]
    + [("day-in-the-life", lang, "day_in_the_life") for lang in LANGS]
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless chromium (Debian's, through Playwright) for every PNG/PDF of the module:
    a browser start costs ~2 s, one render ~0.8 s."""
    require_chromium()
    with maps_chromium() as browser:
        yield browser


@pytest.mark.parametrize(("template", "lang", "kind"), RENDER)
def test_template_renders_to_every_format(
    template: str, lang: str, kind: str, tmp_path: Path, chromium: Any
) -> None:
    """HTML, SVG, PNG and PDF of each map: the PNG has exactly the poster's size (nothing cut),
    is not blank and shows colour emoji; the PDF is one page of the poster's size with its
    fonts embedded."""
    jm = new_map(template, lang=lang, type=kind)
    compare = new_map(template, lang=lang) if kind == "future" else None
    svg = render_svg(jm, compare=compare)
    size = svg_size(svg)
    for suffix in (".html", ".svg"):
        out = render_map(jm, tmp_path / f"m{suffix}", compare=compare)
        assert out.stat().st_size > 5000
    assert 'lang="' + lang + '"' in (tmp_path / "m.html").read_text(encoding="utf-8")
    check_png(render_map(jm, tmp_path / "m.png", compare=compare, browser=chromium), size)
    check_pdf(render_map(jm, tmp_path / "m.pdf", compare=compare, browser=chromium), size)


def test_long_labels_wrap_instead_of_running_off() -> None:
    """A long title and stage name wrap (title on at most two lines), and text lines of a cell
    fit its column by the renderer's width estimate (bold counted wider)."""
    d = new_map("need-to-experience", lang="sv").to_dict()
    d["title"] = "Kundresa för privatkunder som byter bredbandsleverantör: " * 5
    d["stages"][1]["name"] = "Informationssökning och jämförelse av erbjudanden hos leverantörer"
    d["stages"][2]["cells"]["anna"]["pain_points"] = ["Handlekurven forsvinner mellom enheter"]
    svg = render_svg(JourneyMap.from_dict(d))
    root = ET.fromstring(svg)
    title = next(e for e in root.iter() if e.get("class") == "map-title")
    assert len(list(title)) == 2  # two tspans
    assert "".join(title.itertext()).endswith("…")
    stage = next(e for e in root.iter() if e.get("class") == "stage-name"
                 and "Informationssökning" in "".join(e.itertext()))  # fmt: skip
    assert len(list(stage)) >= 2
    assert max(len(t) for t in stage.itertext()) <= 32
    # the bold pain point (40 characters) wraps within its 292 px column
    assert "⚠ Handlekurven forsvinner mellom enheter" not in svg
    assert '<tspan font-family="' in svg  # emoji set in a colour-emoji font
