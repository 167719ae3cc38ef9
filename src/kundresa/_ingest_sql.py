"""SQL that turns raw rows of any supported format into canonical events or quarantine rows.

Stage 1 (per source kind) yields one row per input row with string fields ``f_*``;
stage 2 (shared) parses, validates and derives the canonical columns. Everything runs
vectorised in an in-process DuckDB, whatever engine stores the result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kundresa._pii import PiiRules, prefilter_sql
from kundresa.schema import CALL_TYPES, MAX_EVENT_BYTES

__all__ = ["FIELDS", "IdentifierRule", "canonical_stage", "flat_stage", "json_stage"]


@dataclass(frozen=True)
class IdentifierRule:
    """An identifier that joins a person's records (e-mail, loyalty card, customer number).

    ``pii`` identifiers are stored only as a salted hash; ``normalise`` is ``lower`` (trim and
    lower-case, for e-mails), ``digits`` (keep digits and a leading +, for phone numbers) or
    ``trim``.

    >>> IdentifierRule("email", pii=True, normalise="lower").name
    'email'
    """

    name: str
    pii: bool = False
    normalise: str = "trim"
    aliases: tuple[str, ...] = field(default=())


DEFAULT_IDENTIFIERS = (
    IdentifierRule("email", pii=True, normalise="lower"),
    IdentifierRule("phone", pii=True, normalise="digits"),
    IdentifierRule("loyalty_card"),
    IdentifierRule("customer_number"),
)

# canonical field -> JSON paths, first non-null wins (Segment spec first, flat names after)
FIELDS: dict[str, tuple[str, ...]] = {
    "event_id": ("$.messageId", "$.message_id", "$.event_id"),
    "ts": ("$.timestamp", "$.originalTimestamp", "$.ts", "$.time"),
    "type": ("$.type",),
    "event": ("$.event",),
    "name": ("$.name", "$.properties.name"),
    "anonymous_id": ("$.anonymousId", "$.anonymous_id"),
    "user_id": ("$.userId", "$.user_id"),
    "previous_id": ("$.previousId", "$.previous_id"),
    "channel": ("$.channel", "$.properties.channel", "$.context.channel"),
    "library": ("$.context.library.name",),
    "touchpoint": ("$.touchpoint", "$.properties.touchpoint"),
    "page_path": ("$.context.page.path", "$.properties.path"),
    "campaign": ("$.campaign", "$.utm_campaign", "$.context.campaign.name"),
    "utm_source": ("$.utm_source", "$.context.campaign.source"),
    "utm_medium": ("$.utm_medium", "$.context.campaign.medium"),
    "utm_content": ("$.utm_content", "$.context.campaign.content"),
    "utm_term": ("$.utm_term", "$.context.campaign.term"),
    "revenue": ("$.revenue", "$.properties.revenue", "$.properties.total"),
    "currency": ("$.currency", "$.properties.currency"),
}

# Columns of a flat file that are canonical (anything else goes into ``properties``).
FLAT_ALIASES: dict[str, tuple[str, ...]] = {
    "event_id": ("event_id", "message_id", "messageId", "id"),
    "ts": ("ts", "timestamp", "time", "event_time", "originalTimestamp", "date"),
    "type": ("type",),
    "event": ("event", "event_name"),
    "name": ("name",),
    "anonymous_id": ("anonymous_id", "anonymousId", "device_id"),
    "user_id": ("user_id", "userId", "customer_id"),
    "previous_id": ("previous_id", "previousId"),
    "channel": ("channel",),
    # Segment's and RudderStack's warehouse tables flatten context.* into context_* columns
    "library": ("context_library_name",),
    "touchpoint": ("touchpoint",),
    "page_path": ("page_path", "path", "context_page_path"),
    "campaign": ("campaign", "utm_campaign", "context_campaign_name"),
    "utm_source": ("utm_source", "context_campaign_source"),
    "utm_medium": ("utm_medium", "context_campaign_medium"),
    "utm_content": ("utm_content", "context_campaign_content"),
    "utm_term": ("utm_term", "context_campaign_term"),
    "revenue": ("revenue",),
    "currency": ("currency",),
    "properties": ("properties",),
}


#: the input fields (beside time, type, ids, revenue and the properties as stored) that tell
#: two rows without their own id apart (issue 22: the content hash once left revenue,
#: campaign and UTM out, so two orders of $10 and $99 at one time were one)
CONTENT_FIELDS = ("event", "name", "previous_id", "channel", "library", "touchpoint",
                  "page_path", "campaign", "utm_source", "utm_medium", "utm_content", "utm_term",
                  "currency")  # fmt: skip

#: the white space trimmed from every field (a tab-only id is as absent as an empty one)
WHITE_SPACE = " \t\n\r\x0b\x0c"

#: top-level JSON fields that must be text (or a number): an object, array or boolean there
#: quarantines the row (``invalid_field_type``) instead of being stored as JSON text
TYPED_FIELDS: dict[str, tuple[str, ...]] = {
    "event_id": ("$.messageId", "$.message_id", "$.event_id"),
    "type": ("$.type",),
    "event": ("$.event",),
    "name": ("$.name",),
    "anonymous_id": ("$.anonymousId", "$.anonymous_id"),
    "user_id": ("$.userId", "$.user_id"),
    "previous_id": ("$.previousId", "$.previous_id"),
}

#: fields in which a NUL character quarantines the row (``invalid_field_value``)
NUL_FIELDS = ("event_id", "type", "event", "name", "anonymous_id", "user_id", "previous_id")


def q(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a string literal for DuckDB."""
    return "'" + value.replace("'", "''") + "'"


def _id_paths(rule: IdentifierRule) -> tuple[str, ...]:
    names = (rule.name, *rule.aliases)
    paths: list[str] = []
    for prefix in ("$.", "$.traits.", "$.context.traits.", "$.properties."):
        paths.extend(prefix + n for n in names)
    return tuple(paths)


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(key: str) -> str:
    """The JSON path of a mapped key: a path as given (``$.context.traits.crm_id``), else
    the top-level key (quoted when it is not a plain name).

    >>> json_path("when"), json_path("event time"), json_path("$.context.ip")
    ('$.when', '$."event time"', '$.context.ip')
    """
    if key.startswith("$."):
        return key
    return f"$.{key}" if _KEY.match(key) else '$."' + key.replace('"', '\\"') + '"'


def json_fields(
    identifiers: Sequence[IdentifierRule], mapping: Mapping[str, str] | None = None
) -> dict[str, tuple[str, ...]]:
    """Canonical field -> the JSON paths read for it, first non-null wins: Segment's spec,
    then the flat names CSV honours (``event_name``, ``customer_id``, ...), or only the
    mapped key when ``mapping`` names one.

    >>> json_fields(())["event"], json_fields((), {"event": "what"})["event"]
    (('$.event', '$.event_name'), ('$.what',))
    """
    out: dict[str, tuple[str, ...]] = {}
    for name, paths in FIELDS.items():
        flat = tuple(f"$.{a}" for a in FLAT_ALIASES.get(name, ()) if f"$.{a}" not in paths)
        out[name] = (*paths, *flat)
    for rule in identifiers:
        out["id_" + rule.name] = _id_paths(rule)
    for name, key in (mapping or {}).items():
        if name in out:
            out[name] = (json_path(key),)
    return out


def json_stage(
    source_table: str,
    identifiers: Sequence[IdentifierRule],
    mapping: Mapping[str, str] | None = None,
) -> str:
    """Stage 1 for JSON text rows (``_row``, ``_line``): extract every field in one parse
    (``mapping``: canonical field -> key or JSON path, as for flat files' columns)."""
    all_fields = json_fields(identifiers, mapping)
    paths: list[str] = []
    slots: dict[str, list[int]] = {}
    for name, ps in all_fields.items():
        slots[name] = []
        for p in ps:
            slots[name].append(len(paths) + 1)
            paths.append(p)
    path_list = "[" + ", ".join(lit(p) for p in paths) + "]"
    cols = []
    for name, idx in slots.items():
        parts = ", ".join(f"nullif(trim(_x[{i}], {lit(WHITE_SPACE)}), '')" for i in idx)
        cols.append(f"coalesce({parts}) AS f_{name}" if len(idx) > 1 else f"{parts} AS f_{name}")
    # where the properties come from, the first JSON object wins: a group call's traits
    # describe a company, other traits (and context.traits) a person (kundresa._pii drops a
    # person's bare "name"); a mapped key is the only source
    sources = (
        [(json_path(mapping["properties"]), "properties")]
        if mapping and "properties" in mapping
        else [("$.properties", "properties"), ("$.traits", "traits"),
              ("$.context.traits", "context")]
    )  # fmt: skip
    objects = [(f"json_type(_j, {lit(path)}) = 'OBJECT'", path, label) for path, label in sources]
    props = "CASE " + " ".join(f"WHEN {c} THEN json_extract(_j, {lit(p)})" for c, p, _ in objects)
    props += " END"
    props_from = "CASE " + " ".join(f"WHEN {c} THEN {lit(lb)}" for c, _, lb in objects) + " END"
    first = lit(sources[0][0])
    props_bad = (
        f"(json_type(_j, {first}) IS NOT NULL AND json_type(_j, {first}) NOT IN ('OBJECT', 'NULL'))"
    )
    props += "::VARCHAR"
    # only rows whose extracted text looks like an object, an array or a boolean are parsed
    # once more for the JSON types (the common row costs a few string comparisons)
    # (the top-level paths of each text field as read: Segment's, the flat names, a mapped key)
    typed = [
        (name, p)
        for name in TYPED_FIELDS
        for p in all_fields[name]
        if not p.startswith(("$.properties.", "$.context."))
    ]
    typed_names = "[" + ", ".join(lit(n) for n, _ in typed) + "]"
    typed_paths = "[" + ", ".join(lit(p) for _, p in typed) + "]"
    suspicious = " OR ".join(
        f"left(_x[{paths.index(p) + 1}], 1) IN ('{{', '[') "
        f"OR _x[{paths.index(p) + 1}] IN ('true', 'false')"
        for _, p in typed
    )
    bad_type = (
        f"CASE WHEN {suspicious} THEN {typed_names}[list_position(list_transform("
        f"json_type(_j, {typed_paths}), t -> t IN ('OBJECT', 'ARRAY', 'BOOLEAN')), true)] END"
    )
    return f"""
    WITH lines AS (
        SELECT _row, _line, json_valid(_line) AS _valid FROM {source_table}
    ), parsed AS (
        SELECT _row, _line, _valid,
               CASE WHEN _valid THEN json(_line) END AS _j
        FROM lines
    )
    SELECT _row, _line AS _raw, strlen(_line) AS _bytes,
           CASE WHEN NOT _valid THEN 'invalid_json'
                WHEN json_type(_j) <> 'OBJECT' THEN 'not_a_json_object' END AS _shape,
           NULL::TIMESTAMP AS f_ts_typed,
           {props} AS f_properties,
           {props_from} AS f_props_from,
           {props_bad} AS f_properties_bad,
           {bad_type} AS f_bad_type,
           {", ".join(cols)}
    FROM (
        SELECT *, CASE WHEN _valid AND json_type(_j) = 'OBJECT'
                       THEN json_extract_string(_j, {path_list}) END AS _x
        FROM parsed
    )
    """


def raw_row_sql(columns: Sequence[str], alias: str) -> str:
    """The raw row as JSON text, for quarantine (built only for rejected rows)."""
    parts = ", ".join(f"{q(c)} := {alias}.{q(c)}" for c in columns)
    return f"to_json(struct_pack({parts}))::VARCHAR"


def flat_stage(
    source_table: str,
    columns: dict[str, str],
    mapping: dict[str, str],
    identifiers: Sequence[IdentifierRule],
) -> str:
    """Stage 1 for a flat table (CSV, Parquet). ``columns`` maps column name -> DuckDB type;
    ``mapping`` maps canonical field -> the user's column name."""
    lower = {c.lower(): c for c in columns}
    used: set[str] = set()

    def pick(name: str, aliases: Sequence[str]) -> str | None:
        if name in mapping:
            used.add(mapping[name])
            return mapping[name]
        for a in aliases:
            if a.lower() in lower:
                used.add(lower[a.lower()])
                return lower[a.lower()]
        return None

    cols: list[str] = []
    ws = lit(WHITE_SPACE)
    ts_typed = "NULL::TIMESTAMP"
    for name, aliases in FLAT_ALIASES.items():
        col = pick(name, aliases)
        if name == "properties":
            continue
        if col is None:
            cols.append(f"NULL::VARCHAR AS f_{name}")
            continue
        if name == "ts" and columns[col].upper().startswith("TIMESTAMP"):
            zone = " AT TIME ZONE 'UTC'" if "TIME ZONE" in columns[col].upper() else ""
            ts_typed = f"({q(col)}{zone})::TIMESTAMP"
        cols.append(f"nullif(trim(CAST({q(col)} AS VARCHAR), {ws}), '') AS f_{name}")
    for rule in identifiers:
        col = pick("id_" + rule.name, (rule.name, *rule.aliases))
        expr = (
            "NULL::VARCHAR" if col is None else f"nullif(trim(CAST({q(col)} AS VARCHAR), {ws}), '')"
        )
        cols.append(f"{expr} AS f_id_{rule.name}")
    props_col = pick("properties", FLAT_ALIASES["properties"])
    extras = [c for c in columns if c not in used]
    extra_json = (
        "to_json(struct_pack(" + ", ".join(f"{q(c)} := {q(c)}" for c in extras) + "))::VARCHAR"
        if extras
        else "'{}'"
    )
    if props_col is None:
        props = extra_json
        props_bad = "false"
    else:
        p = f"nullif(trim(CAST({q(props_col)} AS VARCHAR)), '')"
        props_ok = f"(try(json_type({p})) = 'OBJECT')"
        props = (
            f"CASE WHEN {props_ok} THEN json_merge_patch({extra_json}, {p}) ELSE {extra_json} END"
        )
        props_bad = f"({p} IS NOT NULL AND NOT coalesce({props_ok}, false))"
    # one flat list, not a chain of +: a thousand columns must not nest a thousand deep
    size = (
        "list_sum(["
        + ", ".join(f"coalesce(strlen(CAST({q(c)} AS VARCHAR)), 0)" for c in columns)
        + "])"
        if columns
        else ""
    )
    return f"""
    SELECT _row, NULL::VARCHAR AS _raw, ({size or "0"}) AS _bytes, NULL::VARCHAR AS _shape,
           {ts_typed} AS f_ts_typed,
           ({props})::VARCHAR AS f_properties, NULL::VARCHAR AS f_props_from,
           {props_bad} AS f_properties_bad,
           NULL::VARCHAR AS f_bad_type,
           {", ".join(cols)}
    FROM {source_table}
    """


#: canonical text fields that the personal-data rules scan (besides the properties)
PII_TEXT_FIELDS = (
    "event",
    "name",
    "touchpoint",
    "page_path",
    "channel",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_content",
    "utm_term",
)


def _normalise(rule: IdentifierRule, expr: str, salt: str) -> str:
    if rule.normalise == "lower":
        v = f"lower(trim({expr}))"
    elif rule.normalise == "digits":
        v = f"regexp_replace(trim({expr}), '[^0-9+]', '', 'g')"
    else:
        v = f"trim({expr})"
    if rule.pii:
        # a value that already is such a hash (the collector hashes before its inbox) is
        # kept; nothing left after normalising (a phone "n/a") is no identifier
        low = f"lower(trim({expr}))"
        salted = f"{lit(salt + ':' + rule.name + ':')} || nullif({v}, '')"
        v = (
            f"CASE WHEN strlen({low}) = 32 AND regexp_full_match({low}, '[0-9a-f]{{32}}') "
            f"THEN {low} ELSE substr(sha256({salted}), 1, 32) END"
        )
    return f"nullif({v}, '')"


CHANNEL_SQL = """
coalesce(
  CASE lower(f_channel) WHEN 'browser' THEN 'web' WHEN 'mobile' THEN 'app'
       WHEN 'server' THEN NULL ELSE lower(f_channel) END,
  CASE lower(f_utm_medium)
       WHEN 'cpc' THEN 'ads' WHEN 'ppc' THEN 'ads' WHEN 'paid' THEN 'ads' WHEN 'display' THEN 'ads'
       WHEN 'paid_social' THEN 'ads' WHEN 'paidsocial' THEN 'ads'
       WHEN 'email' THEN 'email' WHEN 'e-mail' THEN 'email' WHEN 'newsletter' THEN 'email'
       WHEN 'social' THEN 'social' WHEN 'organic' THEN 'search' WHEN 'seo' THEN 'search'
       WHEN 'referral' THEN 'referral' WHEN 'affiliate' THEN 'referral'
       WHEN 'review' THEN 'review' WHEN 'comparison' THEN 'review'
       WHEN 'sms' THEN 'sms' WHEN 'push' THEN 'push' END,
  CASE WHEN f_library = 'analytics.js' OR f_library LIKE 'analytics-next%' THEN 'web'
       WHEN f_library SIMILAR TO 'analytics-(ios|android|react-native|flutter|swift|kotlin).*'
       THEN 'app' END,
  'unknown')
"""


def _ts_parse(timestamp_format: str | None, timezone: str | None) -> str:
    """The SQL that reads ``f_ts``: a typed column as it is; else ``timestamp_format``
    (strptime codes) when given, or epoch seconds / ms / µs by their digit count, or ISO 8601;
    text without a zone offset is in ``timezone`` (default UTC). The result is naive UTC."""
    zone = lit(timezone) if timezone else None

    def local(expr: str) -> str:  # a naive local time -> naive UTC
        return expr if zone is None else f"(({expr}) AT TIME ZONE {zone} AT TIME ZONE 'UTC')"

    if timestamp_format is not None:
        fmt = lit(timestamp_format)
        if "%z" in timestamp_format or "%Z" in timestamp_format:
            text = f"(try_strptime(f_ts, {fmt}) AT TIME ZONE 'UTC')::TIMESTAMP"
        else:
            text = local(f"try_strptime(f_ts, {fmt})::TIMESTAMP")
        return f"coalesce(f_ts_typed, {text})"
    offset = "regexp_matches(f_ts, '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$')"
    iso = "(TRY_CAST(f_ts AS TIMESTAMPTZ) AT TIME ZONE 'UTC')::TIMESTAMP"
    if zone is not None:
        iso = f"CASE WHEN {offset} THEN {iso} ELSE {local('TRY_CAST(f_ts AS TIMESTAMP)')} END"
    return f"""
      coalesce(f_ts_typed, CASE
        WHEN f_ts IS NULL THEN NULL
        WHEN regexp_full_match(f_ts, '[0-9]{{9,10}}([.][0-9]+)?')
          THEN make_timestamp(CAST(CAST(f_ts AS DOUBLE) * 1000000 AS BIGINT))
        WHEN regexp_full_match(f_ts, '[0-9]{{12,13}}')
          THEN make_timestamp(CAST(f_ts AS BIGINT) * 1000)
        WHEN regexp_full_match(f_ts, '[0-9]{{15,16}}') THEN make_timestamp(CAST(f_ts AS BIGINT))
        WHEN regexp_matches(f_ts, '[0-9]:[0-9]{{2}}([.][0-9]+)?[+-]'
                            || '((1[5-9]|[2-9][0-9])(:?[0-9]{{2}})?|[0-9]{{2}}:?[6-9][0-9])$')
          THEN NULL -- a zone offset beyond +-14:59 (e.g. +25:00) is no time zone
        ELSE {iso} END)"""


def _with_constants(staged: str, constants: Mapping[str, str]) -> str:
    """``staged`` with constant fields (``--set``): ``f_<field>`` replaced by the value for
    every row; ``properties.KEY`` merged into each row's properties (the constant wins)."""
    if not constants:
        return staged
    replace: list[str] = []
    props: dict[str, str] = {}
    for name, value in constants.items():
        if name.startswith("properties."):
            props[name.split(".", 1)[1]] = value
        else:
            replace.append(f"{lit(value)}::VARCHAR AS f_{name}")
    if props:
        obj = "json_object(" + ", ".join(f"{lit(k)}, {lit(v)}" for k, v in props.items()) + ")"
        merged = (
            f"json_merge_patch(CASE WHEN f_properties_bad THEN '{{}}' ELSE "
            f"coalesce(f_properties, '{{}}') END, {obj})::VARCHAR"
        )
        replace.append(f"{merged} AS f_properties")
    return f"SELECT * REPLACE ({', '.join(replace)}) FROM ({staged})"


def canonical_stage(
    staged: str,
    *,
    source: str,
    identifiers: Sequence[IdentifierRule],
    salt: str,
    now_sql: str = "now()::TIMESTAMP",
    pii: PiiRules | None = None,
    timestamp_format: str | None = None,
    timezone: str | None = None,
    constants: Mapping[str, str] | None = None,
) -> str:
    """Stage 2: validate and derive canonical columns. Yields every input row with
    ``_reason`` (NULL when accepted), ``_field`` and ``_detail`` for rejected rows, and
    ``_pii`` (the personal-data rules may change the row's properties or text columns:
    :class:`kundresa._ingest._Processor` then scrubs it) and ``_person`` (its properties
    are a person's traits)."""
    id_exprs = {r.name: _normalise(r, f"f_id_{r.name}", salt) for r in identifiers}
    types = ", ".join(lit(t) for t in CALL_TYPES)
    ts_parse = _ts_parse(timestamp_format, timezone)
    staged = _with_constants(staged, constants or {})
    any_id = " OR ".join(
        ["g_anonymous_id IS NOT NULL", "g_user_id IS NOT NULL"]
        + [f"g_id_{n} IS NOT NULL" for n in id_exprs]
    )
    key_parts = ["CASE WHEN g_user_id IS NOT NULL THEN 'user_id:' || g_user_id END"]
    for n in ("customer_number", "loyalty_card", "email", "phone"):
        if n in id_exprs:
            key_parts.append(f"CASE WHEN g_id_{n} IS NOT NULL THEN '{n}:' || g_id_{n} END")
    for n in id_exprs:
        if n not in ("customer_number", "loyalty_card", "email", "phone"):
            key_parts.append(f"CASE WHEN g_id_{n} IS NOT NULL THEN '{n}:' || g_id_{n} END")
    key_parts.append(
        "CASE WHEN g_anonymous_id IS NOT NULL THEN 'anonymous_id:' || g_anonymous_id END"
    )
    id_keys = ", ".join(
        ["CASE WHEN g_user_id IS NOT NULL THEN 'user_id:' || g_user_id END"]
        + [f"CASE WHEN g_id_{n} IS NOT NULL THEN '{n}:' || g_id_{n} END" for n in id_exprs]
        + ["CASE WHEN g_anonymous_id IS NOT NULL THEN 'anonymous_id:' || g_anonymous_id END"]
    )
    nul_field = (
        "CASE "
        + " ".join(f"WHEN contains(f_{n}, chr(0)) THEN {lit(n)}" for n in NUL_FIELDS)
        + " END"
    )
    # the field of a reason, when the row says which (SQL), else the check's field
    field_sql = {"invalid_field_type": "f_bad_type", "invalid_field_value": nul_field}
    # (reason, field, condition, detail) - the first that holds wins
    checks = [
        (
            "invalid_json",
            "row",
            "_shape = 'invalid_json'",
            "'the row is not valid JSON; fix the syntax or export one JSON object per line'",
        ),
        (
            "not_a_json_object",
            "row",
            "_shape = 'not_a_json_object'",
            "'the row is JSON but not an object; send one {...} object per event'",
        ),
        (
            "event_too_large",
            "row",
            f"_bytes > {MAX_EVENT_BYTES}",
            f"'the event is ' || _bytes || ' bytes; the limit is {MAX_EVENT_BYTES} "
            "(32 KB, as Segment); move large values out of properties'",
        ),
        (
            "invalid_field_type",
            "",
            "f_bad_type IS NOT NULL",
            "f_bad_type || ' is an object, an array or a boolean; send it as a string "
            "(an id may be a number)'",
        ),
        (
            "invalid_field_value",
            "",
            f"({nul_field}) IS NOT NULL",
            f"({nul_field}) || ' contains a NUL character; send it without control characters'",
        ),
        (
            "unknown_call_type",
            "type",
            f"g_type NOT IN ({types})",
            f"'type ' || g_type || ' is unknown; use one of: {', '.join(CALL_TYPES)}'",
        ),
        (
            "missing_event_name",
            "event",
            "g_type = 'track' AND f_event IS NULL",
            "'a track call needs an event name; set event (e.g. \"Order Completed\")'",
        ),
        (
            "missing_timestamp",
            "ts",
            "f_ts IS NULL AND f_ts_typed IS NULL",
            "'no timestamp; a loaded row needs ts/timestamp (ISO 8601 such as "
            "2026-01-05T10:00:00Z, or epoch seconds/ms)'",
        ),
        (
            "unparseable_timestamp",
            "ts",
            "g_ts IS NULL",
            (
                "'timestamp ' || f_ts || ' cannot be read; use ISO 8601 such as "
                "2026-01-05T10:00:00Z or name the format with --timestamp-format'"
                if timestamp_format is None
                else f"'timestamp ' || f_ts || ' does not match the format ' || "
                f"{lit(timestamp_format)} || '; fix the value or --timestamp-format'"
            ),
        ),
        (
            "timestamp_out_of_range",
            "ts",
            f"g_ts < TIMESTAMP '1970-01-01' OR g_ts > {now_sql} + INTERVAL 1 DAY",
            "'timestamp ' || g_ts::VARCHAR || ' is before 1970 or in the future; check the clock "
            "or the unit (seconds vs milliseconds)'",
        ),
        (
            "missing_previous_id",
            "previous_id",
            "g_type = 'alias' AND f_previous_id IS NULL",
            "'an alias call needs previousId and userId'",
        ),
        (
            "missing_identity",
            "anonymous_id",
            f"NOT ({any_id}) OR (g_type = 'alias' AND g_user_id IS NULL)",
            f"'no identity: set anonymous_id or user_id (or one of: {', '.join(id_exprs)})'",
        ),
        (
            "unparseable_revenue",
            "revenue",
            "f_revenue IS NOT NULL AND g_revenue IS NULL",
            "'revenue ' || f_revenue || ' is not a number; write it like 1299.00'",
        ),
        (
            "invalid_properties",
            "properties",
            "f_properties_bad",
            "'properties must be a JSON object'",
        ),
    ]
    reason = "CASE " + " ".join(f"WHEN {c} THEN {lit(r)}" for r, _, c, _ in checks) + " END"
    fld = (
        "CASE "
        + " ".join(f"WHEN {c} THEN {field_sql.get(r, lit(f))}" for r, f, c, _ in checks)
        + " END"
    )
    detail = "CASE " + " ".join(f"WHEN {c} THEN {d}" for _, _, c, d in checks) + " END"
    ids_sel = ", ".join(f"{e} AS g_id_{n}" for n, e in id_exprs.items())
    props = "coalesce(f_properties, '{}')"
    person = "(f_props_from = 'context' OR (f_props_from = 'traits' AND g_type <> 'group'))"
    texts = ", ".join(f"f_{n}" for n in PII_TEXT_FIELDS)
    pii_flag = prefilter_sql(
        pii or PiiRules(enabled=False), f"concat_ws(chr(31), {props}, {texts})", person
    )
    # a row without its own id is named by its content: every input of a stored column (not
    # the file's name, not the time of ingest), as one JSON array, so a NULL keeps its place
    content = ", ".join(
        ["g_ts::VARCHAR", "g_type", "g_anonymous_id", "g_user_id", "g_revenue::VARCHAR"]
        + [f"f_{n}" for n in CONTENT_FIELDS]
        + [f"({props})::VARCHAR"]  # as stored: no properties is '{}' from every format
    )
    return f"""
    WITH g AS (
      SELECT *,
        lower(coalesce(f_type, 'track')) AS g_type,
        {ts_parse} AS g_ts,
        f_anonymous_id AS g_anonymous_id,
        f_user_id AS g_user_id,
        TRY_CAST(f_revenue AS DOUBLE) AS g_revenue,
        {ids_sel}
      FROM ({staged})
    ), v AS (
      SELECT *, {reason} AS _reason, {fld} AS _field, {detail} AS _detail FROM g
    )
    SELECT
      _row, _raw, _reason, _field, _detail,
      coalesce(f_event_id, 'h-' || substr(sha256(to_json([{content}])), 1, 32)) AS event_id,
      f_event_id IS NULL AS _derived,
      NULL::VARCHAR AS person_id,
      coalesce({", ".join(key_parts)}) AS person_key,
      g_anonymous_id AS anonymous_id,
      g_user_id AS user_id,
      g_ts AS ts,
      g_type AS type,
      CASE g_type WHEN 'track' THEN f_event WHEN 'page' THEN 'Page Viewed'
           WHEN 'screen' THEN 'Screen Viewed' WHEN 'identify' THEN 'Identify'
           WHEN 'alias' THEN 'Alias' WHEN 'group' THEN 'Group' END AS event,
      {CHANNEL_SQL} AS channel,
      coalesce(f_touchpoint, CASE WHEN g_type IN ('page', 'screen')
               THEN coalesce(f_name, f_page_path) END, f_event) AS touchpoint,
      NULL::VARCHAR AS session_id,
      f_campaign AS campaign, f_utm_source AS utm_source, f_utm_medium AS utm_medium,
      f_utm_content AS utm_content, f_utm_term AS utm_term,
      g_revenue AS revenue, upper(f_currency) AS currency,
      ({props})::VARCHAR AS properties,
      {lit(source)} AS source,
      now()::TIMESTAMP AS ingested_at,
      list_filter([{id_keys}], x -> x IS NOT NULL) AS _keys,
      coalesce({pii_flag}, false) AS _pii,
      coalesce({person}, false) AS _person,
      CASE WHEN g_type = 'alias' THEN 'anonymous_id:' || f_previous_id END AS _alias_key
    FROM v
    """


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
