"""Journey archetypes against the synthetic generator's planted personas (DuckDB)."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict

import pytest

from kundresa import Workspace
from kundresa.paths import journey_archetypes
from kundresa.synth import synthesize


def test_archetypes_recover_planted_journey_lengths(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """truth["journey_length"]: median touches and days to the first order per persona.
    Recovered on stitched persons whose user_id names one planted person."""
    folder = tmp_path_factory.mktemp("truth")
    result = synthesize(persons=3000, seed=11, out=folder)
    truth = json.loads(result.truth_path.read_text())
    ws = Workspace.open(folder / "k.duckdb")
    ws.ingest([result.events_path])
    ids = ws.table("identities")
    users = ws.store.to_arrow(ids.filter(ids.id_type == "user_id")).to_pylist()
    planted_of = {r["person_id"]: truth["person_of_user_id"][r["identifier"]] for r in users}
    persona = truth["persona_of_person"]
    arch = journey_archetypes(ws)
    ws.close()
    by: dict[str, list[dict[str, float]]] = defaultdict(list)
    for j in arch.journeys:
        planted = planted_of.get(j["person_id"])
        if planted:
            by[persona[planted]].append(j)
    planted_len = truth["journey_length"]
    for name in ("wheel_kicker", "impulse", "loyal"):
        rows = by[name]
        assert len(rows) >= 0.5 * planted_len[name]["buyers"], name  # persons with a user_id
        touches = statistics.median(r["touches"] for r in rows)
        days = statistics.median(r["days"] for r in rows)
        assert touches == pytest.approx(planted_len[name]["median_touches"], rel=0.15), name
        assert days == pytest.approx(planted_len[name]["median_days"], rel=0.25, abs=0.1), name
    share_long = {n: sum(r["archetype"] == "long" for r in by[n]) / len(by[n]) for n in by}
    assert share_long["wheel_kicker"] >= 0.9, share_long
    assert share_long["impulse"] <= 0.5, share_long
