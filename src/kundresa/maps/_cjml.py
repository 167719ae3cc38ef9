"""CJML 2.0 export: a journey map as *planned* journeys in Customer Journey Modeling Language
XML (Halvorsrud et al., SINTEF; https://cjml.no), one ``plannedJourney`` per persona.

CJML models a journey as atomic touchpoints between actors: a communication point (initiator,
receiver, channel) or an action (something one actor does), grouped into journey phases. A
current or future map is a planned journey (CJML's hypothetical state of a service): each
stage becomes a ``journeyPhase``, the persona's activities ``plannedAction`` s and the stage's
touchpoints ``plannedCommunicationPoint`` s from the service provider (the map's owner) to the
persona over the touchpoint's channel. CJML allows experience only in *actual* journeys, so
emotions are not exported; pain points travel in the touchpoint's ``comment``.

The element names and their order follow what CJML 2.0 tools write and read (the data-format
example on cjml.no and the CJML diagram tool's 2.0 reader and writer): ``CJML/@version``,
``journeyID, journeyTitle, journeyPhases, journeyShortSummary, journeyLongSummary, actors,
touchpoints``; a touchpoint ``touchpointID, belongsTo/@phaseIDref, initiator, receiver,
channel, comment``. Actor and phase ids are declared once in the document (``actorID``,
``phaseID``) and referenced after that (``actorIDref``, ``phaseIDref``), so that they are
valid XML ids. The official XSD ships inside cjml.no's "Data format" download, which was not
available offline: tests/cjml_structure.xsd restates this structure and the tests validate
every template against it (see ADR 0007).

>>> from kundresa.maps import new_map
>>> xml = to_cjml(new_map("awareness-to-conversion"))
>>> xml.splitlines()[2]
'<CJML version="2.0">'
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from kundresa._errors import InvalidOptionError
from kundresa.maps._i18n import label
from kundresa.maps._model import JourneyMap

__all__ = ["CJML_VERSION", "to_cjml"]

CJML_VERSION = "2.0"
# Channel names of the CJML symbol gallery (camelCase as the CJML tools write them).
_CHANNELS = {
    "web": "internetViaPC", "app": "appOnSmartphone", "store": "faceToFace",
    "email": "email", "social": "socialMediaMessage", "search": "internetViaPC",
    "ads": "internetViaPC", "review": "internetViaPC", "referral": "internetViaPC",
    "support": "phone", "phone": "phone", "sms": "sms", "letter": "letter", "chat": "chat",
}  # fmt: skip


def _xml_id(text: str) -> str:
    """An XML NCName (xs:ID) from a map id: letters, digits, ``-``, ``_``, ``.``."""
    out = re.sub(r"[^A-Za-z0-9_.-]", "_", text)
    return out if re.match(r"[A-Za-z_]", out) else "_" + out


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _party(parent: ET.Element, role: str, actor: str, label_text: str) -> None:
    el = _sub(parent, role)
    _sub(el, "refersTo", actorIDref=actor)
    _sub(el, f"{role}Label", label_text)


def to_cjml(jm: JourneyMap) -> str:
    """The map as CJML 2.0 XML: one planned journey per persona (current and future maps)."""
    if jm.type == "day_in_the_life":
        raise InvalidOptionError(
            "type", jm.type, fix="CJML holds planned journeys: export current or future maps"
        )
    lang = jm.language
    root = ET.Element("CJML", {"version": CJML_VERSION})
    provider = "provider"
    declared: set[str] = set()
    for p in jm.personas:
        pid = _xml_id(p.id)
        journey = _sub(root, "plannedJourney")
        _sub(journey, "journeyID", f"PJ-{pid}")
        _sub(journey, "journeyTitle", f"{jm.title} ({p.name})" if jm.title else p.name)
        phases = _sub(journey, "journeyPhases")
        for stage in jm.stages:
            phase = _sub(phases, "journeyPhase", phaseID=f"{pid}.{_xml_id(stage.id)}")
            _sub(phase, "phaseName", stage.name)
            _sub(phase, "phaseDescription", stage.period or "")
        _sub(journey, "journeyShortSummary", jm.goal)
        meta = [label("type." + jm.type, lang), f"{label('owner', lang)}: {jm.owner}",
                f"{label('status', lang)}: {jm.status}"]  # fmt: skip
        if jm.last_validated:
            meta.append(f"{label('last_validated', lang)}: {jm.last_validated}")
        _sub(journey, "journeyLongSummary", " · ".join(meta))
        actors = _sub(journey, "actors")
        for role, actor, name_tag, name in (
            ("endUser", pid, "actorName", p.name),
            ("serviceProvider", provider, "companyName", jm.owner or "service provider"),
        ):
            if actor in declared:
                _sub(actors, role, actorIDref=actor)
            else:
                declared.add(actor)
                _sub(_sub(actors, role, actorID=actor), name_tag, name)
        points = _sub(journey, "touchpoints")
        seq = 0
        for stage in jm.stages:
            cell = stage.cell(p.id)
            phase_ref = f"{pid}.{_xml_id(stage.id)}"
            for act in cell.activities:
                seq += 1
                point = _sub(points, "plannedAction")
                _sub(point, "touchpointID", f"T{seq}")
                _sub(point, "belongsTo", phaseIDref=phase_ref)
                _party(point, "initiator", pid, act)
            for tp in cell.touchpoints:
                seq += 1
                point = _sub(points, "plannedCommunicationPoint")
                _sub(point, "touchpointID", f"T{seq}")
                _sub(point, "belongsTo", phaseIDref=phase_ref)
                _party(point, "initiator", provider, tp.name)
                _party(point, "receiver", pid, tp.name)
                _sub(_sub(point, "channel"), "channelName", _CHANNELS.get(tp.channel, "unknown"))
                if cell.pain_points:
                    pains = "; ".join(cell.pain_points)
                    _sub(point, "comment", f"{label('pain_points', lang)}: {pains}")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    head = f"<!-- kundresa journey map, CJML {CJML_VERSION} planned journeys: one per persona -->"
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + head + "\n" + body + "\n"


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
