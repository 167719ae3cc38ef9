"""GA4's BigQuery export read natively (issue 22, "Formats"): a GA4 row was quarantined as
``missing_event_name``. Rows generated in the export's schema (Google's "GA4 BigQuery Export
schema": ``event_timestamp`` in µs, ``event_params`` as key/value structs with
``string_value``/``int_value``/``double_value``, ``collected_traffic_source``, ``ecommerce``,
``items``), once as Parquet and once as JSON Lines the way ``bq extract`` writes them
(integers as strings); both give the same events, mapped onto the event model with GA4's
default channel group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kundresa import Workspace

T0 = 1_767_607_200_000_000  # 2026-01-05T10:00:00Z in µs

VALUE = pa.struct([("string_value", pa.string()), ("int_value", pa.int64()),
                   ("float_value", pa.float64()), ("double_value", pa.float64())])  # fmt: skip
PARAMS = pa.list_(pa.struct([("key", pa.string()), ("value", VALUE)]))
SCHEMA = pa.schema([
    ("event_date", pa.string()),
    ("event_timestamp", pa.int64()),
    ("event_name", pa.string()),
    ("event_params", PARAMS),
    ("user_id", pa.string()),
    ("user_pseudo_id", pa.string()),
    ("platform", pa.string()),
    ("collected_traffic_source", pa.struct([("manual_source", pa.string()),
                                            ("manual_medium", pa.string()),
                                            ("manual_campaign_name", pa.string()),
                                            ("gclid", pa.string())])),
    ("ecommerce", pa.struct([("purchase_revenue", pa.float64()),
                             ("transaction_id", pa.string())])),
    ("items", pa.list_(pa.struct([("item_id", pa.string()), ("price", pa.float64()),
                                  ("quantity", pa.int64())]))),
])  # fmt: skip


def _p(key: str, value: Any) -> dict[str, Any]:
    v: dict[str, Any] = {"string_value": None, "int_value": None, "float_value": None,
                         "double_value": None}  # fmt: skip
    v["int_value" if isinstance(value, int) else "string_value"] = value
    return {"key": key, "value": v}


def _cts(source: str | None, medium: str | None, campaign: str | None = None,
         gclid: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {"manual_source": source, "manual_medium": medium, "manual_campaign_name": campaign,
            "gclid": gclid}  # fmt: skip


ROWS: list[dict[str, Any]] = [
    {"event_timestamp": T0, "event_name": "page_view", "user_pseudo_id": "111.222",
     "event_params": [_p("page_title", "Home"), _p("page_location", "https://shop.example/?q=1"),
                      _p("ga_session_id", 17)],
     "collected_traffic_source": _cts("google", "cpc", "spring", "Cj0")},
    {"event_timestamp": T0 + 60_000_000, "event_name": "page_view", "user_pseudo_id": "111.222",
     "event_params": [_p("page_title", "Jacket"),
                      _p("page_location", "https://shop.example/p/jacket?x=1")]},
    {"event_timestamp": T0 + 120_000_000, "event_name": "purchase", "user_pseudo_id": "111.222",
     "user_id": "cust-9", "event_params": [_p("currency", "SEK")],
     "ecommerce": {"purchase_revenue": 1299.0, "transaction_id": "T1"},
     "items": [{"item_id": "jacket", "price": 1299.0, "quantity": 1}]},
    {"event_timestamp": T0 + 3_600_000_000, "event_name": "session_start",
     "user_pseudo_id": "333.444", "platform": "IOS",
     "event_params": [_p("source", "facebook"), _p("medium", "social")]},
    {"event_timestamp": T0 + 3_700_000_000, "event_name": "screen_view",
     "user_pseudo_id": "333.444", "platform": "ANDROID",
     "event_params": [_p("firebase_screen", "Cart")]},
    {"event_timestamp": T0 + 3_800_000_000, "event_name": "newsletter_click",
     "user_pseudo_id": "555.666", "platform": "WEB",
     "collected_traffic_source": _cts("newsletter", "email")},
]  # fmt: skip


def _full(row: dict[str, Any]) -> dict[str, Any]:
    out = {f.name: None for f in SCHEMA}
    out.update(row)
    out["event_date"] = "20260105"
    out.setdefault("platform", "WEB")
    if out["platform"] is None:
        out["platform"] = "WEB"
    return out


def _bq_json(row: dict[str, Any]) -> str:
    """A row as ``bq extract --destination_format NEWLINE_DELIMITED_JSON`` writes it: INT64
    as strings, NULL fields left out."""

    def conv(v: Any) -> Any:
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            return str(v)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return json.dumps({k: conv(v) for k, v in _full(row).items() if v is not None})


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("ga4")
    pq.write_table(pa.Table.from_pylist([_full(r) for r in ROWS], SCHEMA), folder / "e.parquet")
    (folder / "e.jsonl").write_text("".join(_bq_json(r) + "\n" for r in ROWS))
    out = {}
    for name in ("e.parquet", "e.jsonl"):
        with Workspace.open(folder / f"{name}.duckdb") as ws:
            report = ws.ingest([folder / name])
            assert (report.accepted, report.quarantined) == (len(ROWS), 0), (name, report)
            out[name] = (
                ws.store.raw.execute(
                    "SELECT ts, type, event, touchpoint, anonymous_id, user_id, channel, campaign, "
                    "utm_source, utm_medium, revenue, currency, properties, person_id "
                    "FROM events ORDER BY ts"
                )
                .fetch_arrow_table()
                .to_pylist()
            )
    return out


def test_ga4_rows_map_onto_the_event_model(loaded: dict[str, list[dict[str, Any]]]) -> None:
    rows = loaded["e.parquet"]
    got = [(r["type"], r["event"], r["touchpoint"], r["anonymous_id"], r["user_id"],
            r["channel"]) for r in rows]  # fmt: skip
    assert got == [
        ("page", "Page Viewed", "Home", "111.222", None, "paid_search"),
        ("page", "Page Viewed", "Jacket", "111.222", None, "web"),
        ("track", "purchase", "purchase", "111.222", "cust-9", "web"),
        ("track", "session_start", "session_start", "333.444", None, "organic_social"),
        ("screen", "Screen Viewed", "Cart", "333.444", None, "app"),
        ("track", "newsletter_click", "newsletter_click", "555.666", None, "email"),
    ]
    assert rows[0]["ts"].isoformat() == "2026-01-05T10:00:00"
    assert (rows[0]["campaign"], rows[0]["utm_source"], rows[0]["utm_medium"]) == (
        "spring", "google", "cpc")  # fmt: skip
    assert (rows[2]["revenue"], rows[2]["currency"]) == (1299.0, "SEK")
    props = json.loads(rows[2]["properties"])
    assert props["items"] == [{"item_id": "jacket", "price": 1299.0, "quantity": 1}]
    assert json.loads(rows[0]["properties"])["params"]["ga_session_id"] == "17"
    assert json.loads(rows[0]["properties"])["ga4_channel_group"] == "Paid Search"
    # the purchase's user id joins the pseudo id's earlier pages into one person
    assert len({r["person_id"] for r in rows[:3]}) == 1


def test_parquet_and_bq_json_lines_give_the_same_events(
    loaded: dict[str, list[dict[str, Any]]],
) -> None:
    def key(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(r["ts"], r["event"], r["channel"], r["revenue"], r["anonymous_id"]) for r in rows]

    assert key(loaded["e.parquet"]) == key(loaded["e.jsonl"])


def test_segment_and_rudderstack_exports_as_written(tmp_path: Path) -> None:
    """Segment's (and RudderStack's) warehouse tables as exported: ``tracks`` with ``id``,
    ``timestamp``, flattened ``context_*`` columns; ``pages`` (no event column) loaded with
    ``--set type=page``; and Segment's S3 archive files (``<ms>.events-archive-<id>.gz``,
    gzipped JSON lines without a .jsonl suffix)."""
    import gzip

    (tmp_path / "tracks.csv").write_text(
        "id,anonymous_id,user_id,event,event_text,timestamp,received_at,context_library_name,"
        "context_page_path,context_campaign_source,context_campaign_medium,context_campaign_name\n"
        "m1,a1,,Product Viewed,Product Viewed,2026-01-05T10:00:00Z,2026-01-05T10:00:01Z,"
        "analytics.js,/p/1,news,email,spring\n"
    )
    (tmp_path / "pages.csv").write_text(
        "id,anonymous_id,name,path,timestamp,context_library_name\n"
        "m2,a1,Home,/,2026-01-05T09:59:00Z,analytics.js\n"
    )
    call = {"type": "track", "event": "Order Completed", "anonymousId": "a1",
            "messageId": "m3", "timestamp": "2026-01-05T10:05:00Z",
            "properties": {"revenue": 10}}  # fmt: skip
    archive = tmp_path / "1767607200000.events-archive-abc.gz"
    archive.write_bytes(gzip.compress((json.dumps(call) + "\n").encode()))
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        assert ws.ingest([tmp_path / "tracks.csv"]).accepted == 1
        assert ws.ingest([tmp_path / "pages.csv"], constants={"type": "page"}).accepted == 1
        assert ws.ingest([archive]).accepted == 1
        rows = ws.store.raw.execute(
            "SELECT event_id, type, event, touchpoint, channel, campaign, utm_source, "
            "revenue FROM events ORDER BY ts"
        ).fetchall()
    assert rows == [
        ("m2", "page", "Page Viewed", "Home", "web", None, None, None),
        ("m1", "track", "Product Viewed", "Product Viewed", "email", "spring", "news", None),
        ("m3", "track", "Order Completed", "Order Completed", "unknown", None, None, 10.0),
    ]
