"""Personal data is hashed or dropped at ingest (issue 14, "Privacy: 'hashed' must be true").

Reproduces the tester's finding: raw e-mail addresses were stored from
``properties.customer.email``, ``properties.Email``, ``properties.contact_email``, a page
URL's ``?email=`` and free text, and a person's name was stored as sent. Files holding
every shape are loaded into a real DuckDB file, and the raw bytes of that file (after the
checkpoint of ``close``) are searched for each raw value; a control value stored beside them
shows that the search finds stored text.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from kundresa import Workspace

PERSON = {
    "email_nested": "carol.customer@example.com",
    "email_upper": "Dave.Upper@Example.org",
    "email_contact": "erin.contact@example.net",
    "email_url": "frank.url@example.se",
    "email_text": "grace.text@example.com",
    "email_broken": "judy.broken@example.com",
    "email_csv": "olga.csv@example.com",
    "phone_text": "+46 70 555 12 34",
    "phone_key": "070-555 98 76",
    "first": "Heidelinde",
    "last": "Perssonsson",
    "street": "Storgatan 12",
    "customer_name": "Ivar Ivarsson",
    "csv_name": "Quintessa",
    "ip": "203.0.113.77",
    "agent": "Mozilla/5.0 (PiiTest; rv:99.0) Gecko/20100101 PiiBrowser/99.0",
}
CONTROL = ("Sofa Deluxe 3000", "Kampanjsida Vinter", "Acme Möbler AB")


def needles() -> list[str]:
    """Every form in which a raw value could be stored."""
    out = set()
    for v in PERSON.values():
        out |= {v, v.lower()}
    out |= {"frank.url%40example.se", "5551234", "555 12 34", "5559876", "555 98 76"}
    out |= {"Heidelinde", "Perssonsson", "Storgatan", "Ivarsson", "PiiBrowser", "203.0.113"}
    return sorted(out)


def calls() -> list[dict[str, Any]]:
    p = PERSON
    ctx = {
        "ip": p["ip"],
        "userAgent": p["agent"],
        "page": {
            "url": f"https://shop.example/kampanj?email={p['email_url']}&first_name=Heidelinde"
        },
        "device": {"type": "mobile", "advertisingId": "ad-123"},
    }
    base = {"anonymousId": "anon-pii-1", "context": ctx}
    return [
        {
            **base,
            "type": "identify",
            "userId": "u-pii-1",
            "messageId": "m-identify",
            "timestamp": "2026-11-02T10:00:00Z",
            "traits": {
                "name": f"{p['first']} {p['last']}",
                "firstName": p["first"],
                "last_name": p["last"],
                "address": {"street": p["street"], "postalCode": "11122", "city": "Stockholm"},
                "plan": "gold",
            },
        },
        {
            **base,
            "type": "page",
            "name": CONTROL[1],
            "messageId": "m-page",
            "timestamp": "2026-11-02T10:01:00Z",
            "properties": {
                "url": f"https://shop.example/kampanj?email={p['email_url'].replace('@', '%40')}"
                "&utm_source=news",
                "search": f"?email={p['email_url']}",
            },
        },
        {
            **base,
            "type": "track",
            "event": "Product Viewed",
            "messageId": "m-track",
            "timestamp": "2026-11-02T10:02:00Z",
            "properties": {
                "product_name": CONTROL[0],
                "customer": {"email": p["email_nested"], "name": p["customer_name"]},
                "Email": p["email_upper"],
                "contact_email": p["email_contact"],
                "phone_number": p["phone_key"],
                "note": f"reach me at {p['email_text']} or {p['phone_text']}",
                "items": [{"sku": "S-1", "shipping_address": p["street"]}],
            },
        },
        {
            **base,
            "type": "group",
            "groupId": "g-1",
            "messageId": "m-group",
            "timestamp": "2026-11-02T10:03:00Z",
            "traits": {"name": CONTROL[2], "email": p["email_contact"]},
        },
        {  # quarantined (a track call needs an event name): the raw call is kept
            **base,
            "type": "track",
            "messageId": "m-bad",
            "timestamp": "2026-11-02T10:04:00Z",
            "properties": {"customer": {"email": p["email_nested"], "firstName": p["first"]}},
        },
    ]


def _remains(paths: list[Path], found_in: list[str]) -> dict[str, list[str]]:
    out = {}
    for f in paths:
        if f.is_file():
            data = f.read_bytes()
            hits = [n for n in found_in if n.encode() in data]
            if hits:
                out[f.name] = hits
    return out


def test_file_ingest_stores_no_raw_personal_data(tmp_path: Path) -> None:
    lines = [json.dumps(c) for c in calls()]
    lines.append('{"type": "track", "note": "broken ' + PERSON["email_broken"] + '"')  # not JSON
    (tmp_path / "calls.jsonl").write_text("\n".join(lines) + "\n")
    with (tmp_path / "rows.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ts", "anonymous_id", "event", "email", "first_name", "note"])
        w.writerow(["2026-11-02T11:00:00Z", "anon-csv", "Signed Up", PERSON["email_csv"],
                    PERSON["csv_name"], f"ring {PERSON['phone_key']}"])  # fmt: skip
        w.writerow(["not a time", "anon-csv", "Signed Up", PERSON["email_csv"],
                    PERSON["csv_name"], CONTROL[0]])  # fmt: skip
    db = tmp_path / "k.duckdb"
    ws = Workspace.open(db)
    report = ws.ingest([tmp_path / "calls.jsonl", tmp_path / "rows.csv"])
    assert (report.accepted, report.quarantined) == (5, 3), str(report)
    ws.close()  # checkpoints: every byte is in the file

    files = [db, db.with_name(db.name + ".wal")]
    found = _remains(files, needles())
    assert not found, f"raw personal data stored: {found}"
    control = _remains(files, list(CONTROL))
    assert control.get(db.name) == list(CONTROL), control  # the search finds stored text


def test_hashed_values_join_the_identifier(tmp_path: Path) -> None:
    email = "Kim.Join@Example.com"
    rows = [
        {"type": "identify", "userId": "u-kim", "traits": {"email": email},
         "timestamp": "2026-11-02T10:00:00Z", "messageId": "k1"},
        {"type": "track", "event": "Order Completed", "anonymousId": "a-kim",
         "timestamp": "2026-11-02T10:05:00Z", "messageId": "k2",
         "properties": {"customer": {"email": email.lower()}, "contactEmail": f" {email} ",
                        "note": f"receipt to {email.upper()}"}},
    ]  # fmt: skip
    (tmp_path / "e.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ws = Workspace.open(tmp_path / "k.duckdb")
    ws.ingest([tmp_path / "e.jsonl"])
    stored = (
        ws.sql("SELECT identifier FROM identities WHERE id_type = 'email'").column(0).to_pylist()
    )
    assert len(stored) == 1
    assert stored[0] == ws.pii_hash(email)
    props = json.loads(ws.sql("SELECT properties FROM events WHERE event_id = 'k2'")[0][0].as_py())
    assert props["customer"]["email"] == stored[0]
    assert props["contactEmail"] == stored[0]
    assert props["note"] == f"receipt to email:{stored[0]}"
    traits = json.loads(ws.sql("SELECT properties FROM events WHERE event_id = 'k1'")[0][0].as_py())
    assert traits == {"email": stored[0]}
    # an analysis joins the property to the person's identifier
    joined = ws.sql(
        "SELECT i.person_id FROM events e JOIN identities i ON i.id_type = 'email' AND "
        "i.identifier = json_extract_string(e.properties, '$.customer.email') "
        "WHERE e.event_id = 'k2'"
    )
    assert joined.num_rows == 1


def test_names_of_things_are_kept(tmp_path: Path) -> None:
    rows = [
        {"type": "page", "name": "Vinterkampanj", "anonymousId": "a1", "messageId": "p1",
         "timestamp": "2026-11-02T10:00:00Z", "properties": {"name": "Vinterkampanj"}},
        {"type": "track", "event": "Product Viewed", "anonymousId": "a1", "messageId": "t1",
         "timestamp": "2026-11-02T10:01:00Z",
         "properties": {"name": "Soffa", "product_name": "Soffa", "product": {"name": "Soffa"}}},
        {"type": "group", "groupId": "g1", "anonymousId": "a1", "messageId": "g1",
         "timestamp": "2026-11-02T10:02:00Z", "traits": {"name": "Acme AB"}},
        {"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "i1",
         "timestamp": "2026-11-02T10:03:00Z", "traits": {"name": "Alice Andersson", "plan": "x"}},
    ]  # fmt: skip
    (tmp_path / "e.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ws = Workspace.open(tmp_path / "k.duckdb")
    ws.ingest([tmp_path / "e.jsonl"])
    got = {
        r["event_id"]: (r["touchpoint"], json.loads(r["properties"]))
        for r in ws.sql("SELECT event_id, touchpoint, properties FROM events").to_pylist()
    }
    assert got["p1"] == ("Vinterkampanj", {"name": "Vinterkampanj"})
    assert got["t1"][1] == {"name": "Soffa", "product_name": "Soffa", "product": {"name": "Soffa"}}
    assert got["g1"][1] == {"name": "Acme AB"}
    assert got["i1"][1] == {"plan": "x"}  # a person's name (identify traits) is dropped


def test_rules_are_configurable_per_workspace(tmp_path: Path) -> None:
    from kundresa import PiiRules

    db = tmp_path / "k.duckdb"
    ws = Workspace.open(db)
    ws.set_pii_rules(
        PiiRules(
            email_keys=("login",),
            drop_keys=("order.note",),
            allow_keys=("mobile",),
            scan_text=False,
        )
    )
    ws.close()
    ws = Workspace.open(db)  # stored in the workspace
    assert ws.pii_rules.drop_keys == ("order.note",)
    row = {"type": "track", "event": "X", "anonymousId": "a", "messageId": "c1",
           "timestamp": "2026-11-02T10:00:00Z",
           "properties": {"login": "Lo@Example.org", "order": {"note": "ring me", "id": 7},
                          "note": "kept", "mobile": "yes", "free": "ann@example.org"}}  # fmt: skip
    (tmp_path / "e.jsonl").write_text(json.dumps(row) + "\n")
    ws.ingest([tmp_path / "e.jsonl"])
    props = json.loads(ws.sql("SELECT properties FROM events")[0][0].as_py())
    assert props == {
        "login": ws.pii_hash("lo@example.org"),
        "order": {"id": 7},
        "note": "kept",
        "mobile": "yes",
        "free": "ann@example.org",  # free-text scanning is off
    }


# -- the scanner and the prefilter, on generated data --------------------------------------
_EMAILS = st.builds(
    lambda a, b, c: f"{a}@{b}.{c}",
    st.from_regex(r"[A-Za-z][A-Za-z0-9._+\-]{0,12}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9\-]{0,10}", fullmatch=True),
    st.sampled_from(["se", "com", "org", "no", "museum"]),
)
_PHONES = st.builds(
    lambda p, d, sep: p + sep.join(d[i : i + 2] for i in range(0, len(d), 2)),
    st.sampled_from(["+46 ", "+47", "0046 ", "07", "08-"]),
    st.from_regex(r"[1-9][0-9]{7,9}", fullmatch=True),
    st.sampled_from(["", " ", "-"]),
)
_WORDS = st.sampled_from(
    ["hej", "order", "2026-01-05", "10:00", "1299.00", "SKU-1234", "0.5", "&", "@", "a-b"]
)
_SEGMENTS = st.lists(
    st.one_of(
        _WORDS.map(lambda w: ("word", w)),
        _EMAILS.map(lambda e: ("email", e)),
        _PHONES.map(lambda p: ("phone", p)),
    ),
    max_size=6,
)
_TEXT = _SEGMENTS.map(lambda segs: " | ".join(v for _, v in segs))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_SEGMENTS)
def test_free_text_scanner(segments: list[tuple[str, str]]) -> None:
    """Every e-mail address and phone number in free text becomes its token (the salted
    hash its identifier gets), and nothing else changes."""
    from kundresa._pii import PiiRules, Scrubber

    rules = PiiRules()
    sc = Scrubber(rules, salt="salt")
    text = " | ".join(v for _, v in segments)
    want = " | ".join(
        v if kind == "word" else f"{kind}:{rules.hash_value(v, kind, salt='salt')}"
        for kind, v in segments
    )
    assert sc.text(text) == want
    assert sc.text(want) == want  # idempotent: tokens are not scanned again


def test_urls_and_query_strings() -> None:
    from kundresa._pii import PiiRules, Scrubber

    rules = PiiRules()
    sc = Scrubber(rules, salt="s")
    h = rules.hash_value("a.b@example.se", "email", salt="s")
    p = rules.hash_value("0701234567", "phone", salt="s")
    assert sc.text("https://x.se/p?email=a.b%40example.se&utm_source=news#top") == (
        f"https://x.se/p?email={h}&utm_source=news#top"
    )
    assert sc.text("?first_name=Al&q=hej") == "?q=hej"
    assert sc.text("/p?first_name=Al") == "/p"
    assert sc.text("/p?tel=070-123%2045%2067") == f"/p?tel={p}"
    assert sc.text("/p?q=ring+070-123+45+67") == f"/p?q=ring%20phone:{p}"
    assert sc.text("/u/a.b@example.se/orders") == f"/u/email:{h}/orders"
    assert sc.text("/p?utm_campaign=summer%20sale&x=1") == "/p?utm_campaign=summer%20sale&x=1"
    assert sc.text("Frågor? Skriv a=b") == "Frågor? Skriv a=b"


_KEYS = st.sampled_from(
    ["email", "Email", "e_mail", "contactEmail", "customer.email", "email_opt_in", "phone",
     "phoneNumber", "mobile", "tel", "hotel", "name", "first_name", "firstName", "surname",
     "customer", "shipping", "address", "street", "postalCode", "zip", "ip", "userAgent",
     "product_name", "note", "url", "path", "search", "plan", "na\"me", "ssn", "x"]
)  # fmt: skip
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10**12), _TEXT,
    st.builds(lambda k, v: f"/p?{k}={v}", _KEYS, st.one_of(_EMAILS, _PHONES, _WORDS)),
)  # fmt: skip
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.dictionaries(_KEYS, _JSON, max_size=5), st.booleans())
def test_prefilter_flags_every_row_the_rules_change(props: dict[str, Any], person: bool) -> None:
    """Python visits only the rows DuckDB's prefilter flags: a row it misses would keep
    its personal data, so the prefilter must flag every row the rules change."""
    from kundresa._pii import PiiRules, Scrubber, prefilter_sql

    rules = PiiRules(drop_keys=("order.note",))
    sc = Scrubber(rules, salt="s")
    changed = sc.value(props, person=person) != props
    for text in (json.dumps(props), json.dumps(props, ensure_ascii=False, separators=(",", ":"))):
        sql = prefilter_sql(rules, "t", "true" if person else "false")
        flagged = duckdb.execute(f"SELECT {sql} FROM (SELECT ? AS t)", [text]).fetchone()
        assert not changed or (flagged and flagged[0]), text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=40), st.sampled_from(["email", "phone"]))
def test_python_hash_equals_the_identifier_hash(value: str, kind: str) -> None:
    from kundresa._ingest_sql import DEFAULT_IDENTIFIERS, WHITE_SPACE, _normalise
    from kundresa._pii import WHITE_SPACE as PII_WHITE_SPACE
    from kundresa._pii import PiiRules

    assert WHITE_SPACE == PII_WHITE_SPACE
    rule = next(r for r in DEFAULT_IDENTIFIERS if r.name == kind)
    # ingest trims the white space first (json_stage), then normalises
    sql = _normalise(rule, "x", "salt")
    if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        return
    want = duckdb.execute(
        f"SELECT {sql} FROM (SELECT nullif(trim(?, '{WHITE_SPACE}'), '') AS x)", [value]
    ).fetchone()
    assert PiiRules().hash_value(value, kind, salt="salt") == (want[0] if want else None)


_SHARED = {}  # one scrubber for all examples: its caches are part of what is tested
_CALLS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["track", "page", "identify", "group"]),
        "messageId": st.one_of(_TEXT, _EMAILS),
    },
    optional={
        "userId": st.one_of(_EMAILS, _TEXT),
        "name": _TEXT,
        "email": _SCALARS,
        "properties": st.dictionaries(_KEYS, _JSON, max_size=4),
        "traits": st.dictionaries(_KEYS, _JSON, max_size=3),
        "context": st.dictionaries(
            st.sampled_from(["ip", "userAgent", "page", "traits", "library", "device"]),
            _JSON,
            max_size=4,
        ),
    },
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_CALLS)
def test_collector_fast_path_and_quarantine_prefilter(call: dict[str, Any]) -> None:
    """The collector skips the walk of a call only when the rules would not change it, and
    ingest's prefilter flags every quarantined raw call the rules change."""
    from kundresa._pii import CONTEXT_KEEP, PiiRules, Scrubber, prefilter_sql

    rules = PiiRules(drop_keys=("order.note",))
    sc = _SHARED.setdefault("scrubber", Scrubber(rules, salt="s"))
    trimmed = dict(call)
    if isinstance(call.get("context"), dict):
        trimmed["context"] = {k: v for k, v in call["context"].items() if k in CONTEXT_KEEP}
    if not sc.needs_call(trimmed):
        assert sc.call(trimmed) == trimmed
    text = json.dumps(call, ensure_ascii=False)
    if sc.raw(text) != text:
        sql = prefilter_sql(rules, "t", "true")
        flagged = duckdb.execute(f"SELECT {sql} FROM (SELECT ? AS t)", [text]).fetchone()
        assert '"context"' in text or (flagged and flagged[0]), text
