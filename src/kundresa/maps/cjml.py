"""CJML 2.0 export: a journey map as a *planned* journey in Customer Journey Modeling
Language XML (actors, touchpoints with channel, ordered by stage).

CJML (Halvorsrud et al., SINTEF) models a journey as touchpoints between actors: a
communication point (a message over a channel between the customer and the service provider)
or an action point (something one actor does). A current or future map is a planned journey:
each stage's touchpoints become communication points from the service provider to the
persona over the touchpoint's channel; activities become the persona's action points.
The element names follow CJML 2.0's vocabulary; see ADR 0007 for what is and is not mapped.

>>> from kundresa.maps.templates import new_map
>>> xml = to_cjml(new_map("awareness-to-conversion"))
>>> xml.splitlines()[1][:30]
'<cjml version="2.0" xmlns="htt'
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kundresa.errors import InvalidOptionError
from kundresa.maps.model import JourneyMap

__all__ = ["CJML_NAMESPACE", "to_cjml"]

CJML_NAMESPACE = "https://cjml.no/schema/2.0"
_CHANNELS = {
    "web": "website", "app": "app", "store": "face-to-face", "email": "email",
    "social": "social-media", "search": "website", "ads": "advertisement",
    "review": "website", "referral": "website", "support": "phone", "phone": "phone",
    "sms": "sms", "letter": "letter",
}  # fmt: skip


def to_cjml(jm: JourneyMap) -> str:
    """The map as CJML 2.0 XML: one planned journey per persona."""
    if jm.type == "day_in_the_life":
        raise InvalidOptionError(
            "type", jm.type, fix="CJML holds planned journeys: export current or future maps"
        )
    ET.register_namespace("", CJML_NAMESPACE)
    root = ET.Element("cjml", {"version": "2.0", "xmlns": CJML_NAMESPACE})
    actors = ET.SubElement(root, "actors")
    ET.SubElement(actors, "actor", {"id": "provider", "name": jm.owner or "service provider",
                                    "type": "service-provider"})  # fmt: skip
    for p in jm.personas:
        ET.SubElement(actors, "actor", {"id": p.id, "name": p.name, "type": "end-user"})
    for p in jm.personas:
        journey = ET.SubElement(root, "journey", {
            "id": f"{p.id}-planned", "type": "planned", "name": f"{jm.title} ({p.name})",
            "status": jm.type, "language": jm.language,
        })  # fmt: skip
        ET.SubElement(journey, "description").text = jm.goal
        seq = 0
        for stage in jm.stages:
            cell = stage.cell(p.id)
            phase = ET.SubElement(journey, "phase", {"id": stage.id, "name": stage.name})
            for act in cell.activities:
                seq += 1
                point = ET.SubElement(phase, "actionPoint", {"id": f"{p.id}-{seq}", "seq": str(seq),
                                                             "initiator": p.id})  # fmt: skip
                ET.SubElement(point, "label").text = act
            for tp in cell.touchpoints:
                seq += 1
                point = ET.SubElement(phase, "communicationPoint", {
                    "id": f"{p.id}-{seq}", "seq": str(seq), "initiator": "provider",
                    "receiver": p.id, "channel": _CHANNELS.get(tp.channel, "other"),
                })  # fmt: skip
                ET.SubElement(point, "label").text = tp.name
                if cell.emotion is not None:
                    ET.SubElement(point, "experience", {"score": str(cell.emotion.score)}).text = (
                        cell.emotion.quote or None
                    )
                for pain in cell.pain_points:
                    ET.SubElement(point, "deviation", {"type": "pain-point"}).text = pain
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    body = body.replace(
        f' xmlns="{CJML_NAMESPACE}" xmlns="{CJML_NAMESPACE}"', f' xmlns="{CJML_NAMESPACE}"'
    )
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
