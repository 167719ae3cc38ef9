"""The foundation against the synthetic generator's planted truth (issue 2 acceptance)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from kundresa import Workspace
from kundresa.synth import synthesize

from .conftest import normalise


@pytest.fixture
def shop(synthetic_shop: tuple[Workspace, dict[str, Any]]) -> tuple[Workspace, dict[str, Any]]:
    """The session's shared 20,000-person synthetic shop (see conftest)."""
    return synthetic_shop


def test_scale_channels_and_personas(shop: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = shop
    info = ws.info()
    assert info.events >= 500_000
    assert len(info.channels) >= 8
    assert set(truth["personas"]) == {"wheel_kicker", "impulse", "loyal", "trial_churner"}
    assert set(truth["persona_of_person"].values()) == set(truth["personas"])
    assert info.events == truth["events"]


def _person_of(ws: Workspace, id_type: str) -> dict[str, str]:
    t = ws.table("identities")
    rows = ws.store.to_arrow(t.filter(t.id_type == id_type)).to_pylist()
    return {r["identifier"]: r["person_id"] for r in rows}


def test_stitching_recovers_planted_persons(shop: tuple[Workspace, dict[str, Any]]) -> None:
    """>= 99% of identifiable anonymous ids land on their planted person's stitched person,
    and no stitched person ever holds identifiers of two planted persons."""
    ws, truth = shop
    anon = _person_of(ws, "anonymous_id")
    user = _person_of(ws, "user_id")
    card = _person_of(ws, "loyalty_card")
    stitched_of_planted = {truth["person_of_user_id"][u]: p for u, p in user.items()}
    identifiable = truth["identifiable_anonymous_ids"]
    assert len(identifiable) > 1000
    hits = sum(
        1
        for a in identifiable
        if anon.get(a) is not None
        and anon[a] == stitched_of_planted.get(truth["person_of_anonymous_id"][a])
    )
    assert hits / len(identifiable) >= 0.99, hits / len(identifiable)

    planted_in: dict[str, set[str]] = defaultdict(set)
    for mapping, truth_map in (
        (anon, truth["person_of_anonymous_id"]),
        (user, truth["person_of_user_id"]),
        (card, truth["person_of_loyalty_card"]),
    ):
        for ident, stitched in mapping.items():
            planted_in[stitched].add(truth_map[ident])
    merged_wrongly = {p: s for p, s in planted_in.items() if len(s) > 1}
    assert merged_wrongly == {}
    # identifiable loyalty cards (ROPO: bought in store) join their online person too
    cards_ok = sum(
        1
        for c in truth["identifiable_loyalty_cards"]
        if card.get(c) == stitched_of_planted.get(truth["person_of_loyalty_card"][c])
    )
    assert cards_ok / len(truth["identifiable_loyalty_cards"]) >= 0.99


def test_same_seed_same_events(tmp_path: Path) -> None:
    a = synthesize(persons=2_000, seed=7, out=tmp_path / "a")
    b = synthesize(persons=2_000, seed=7, out=tmp_path / "b")
    c = synthesize(persons=2_000, seed=8, out=tmp_path / "c")
    assert a.checksum == b.checksum
    assert a.checksum != c.checksum
    assert (tmp_path / "a" / "events.parquet").read_bytes() == (
        tmp_path / "b" / "events.parquet"
    ).read_bytes()


def test_engines_agree_on_synthetic_shop(tmp_path: Path, spark_session: Any) -> None:
    """A realistic dataset through the whole pipeline: DuckDB and Spark give identical
    persons, sessions and summaries."""
    result = synthesize(persons=1_500, seed=11, out=tmp_path / "s")
    out = {}
    for engine in ("duckdb", "spark"):
        path = tmp_path / ("d.duckdb" if engine == "duckdb" else "sp")
        ws = Workspace.open(path, engine=engine, spark=spark_session)
        ws.ingest([result.events_path])
        cols = ["event_id", "person_id", "session_id", "ts", "channel", "revenue"]
        out[engine] = (
            normalise(ws.store.to_arrow(ws.table("events").select(cols)), ["event_id"]),
            {k: v for k, v in ws.info().to_dict().items() if k != "engine"},
        )
    assert out["duckdb"][1] == out["spark"][1]
    assert out["duckdb"][0] == out["spark"][0]
