"""Google Analytics 4's BigQuery export, read as it is exported (Parquet, or JSON Lines as
``bq extract`` writes it: integers as strings), mapped onto the event model.

One row per GA4 event: ``event_timestamp`` (µs) is the time, ``user_pseudo_id`` the
anonymous id, ``user_id`` the user id, ``event_name`` the event (``page_view`` a page call
named by its ``page_title``, ``screen_view`` a screen call), ``event_params`` (key/value
structs) and ``items`` go into ``properties``; the event's traffic source
(``collected_traffic_source`` when exported, else the ``source``/``medium``/``campaign``
event parameters GA4 sets on a session's first events) gives the UTM fields and the
channel: GA4's default channel group (:func:`channel_group_sql`, after Google's "Default
channel group" rules), stored in snake case (``paid_search``, ``organic_social``, ...), or the
platform (``web``/``app``) for an event without a source. ``ecommerce.purchase_revenue`` is
the revenue, the ``currency`` parameter its currency, ``page_location``'s path the page path.

>>> sorted(REQUIRED)
['event_name', 'event_timestamp', 'user_pseudo_id']
>>> is_ga4({"event_name", "event_timestamp", "user_pseudo_id", "event_params"})
True
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["REQUIRED", "channel_group_sql", "ga4_view_sql", "is_ga4"]

#: the columns that mark a table as a GA4 export
REQUIRED = frozenset({"event_name", "event_timestamp", "user_pseudo_id"})

# Google's source lists are long; these are their most common members (see docs/ingest.md)
_SEARCH = (
    "google|bing|yahoo|baidu|duckduckgo|yandex|ecosia|naver|ask|aol|seznam|qwant|startpage|"
    "search|brave|sogou|so\\.com|daum|coccoc|dogpile|avg|msn|onet"
)
_SOCIAL = (
    "facebook|fb|instagram|ig|linkedin|lnkd\\.in|twitter|t\\.co|x\\.com|pinterest|reddit|tiktok|"
    "snapchat|tumblr|quora|whatsapp|telegram|vk\\.com|weibo|wechat|threads|mastodon|meetup|"
    "discord|messenger|line|kakao|xing"
)
_VIDEO = "youtube|vimeo|twitch|dailymotion|wistia|youku|netflix|disneyplus|hulu|ted"
_SHOPPING = (
    "amazon|ebay|etsy|shopify|shopping|walmart|alibaba|aliexpress|mercadolibre|rakuten|"
    "zalando|idealo|pricerunner|prisjakt|shopzilla|stripe|igshopping"
)
_PAID = "^(.*cp.*|ppc|retargeting|paid.*)$"


def is_ga4(columns: Collection[str]) -> bool:
    """Whether a table with these columns is a GA4 export.

    >>> is_ga4({"event_name", "ts"})
    False
    """
    return set(columns) >= REQUIRED


def channel_group_sql(source: str, medium: str, campaign: str, gclid: str = "NULL") -> str:
    """GA4's default channel group of (source, medium, campaign[, gclid]) SQL expressions,
    the first rule that holds winning, as Google's table lists them.

    >>> import duckdb
    >>> sql = channel_group_sql("s", "m", "c")
    >>> q = f"SELECT {sql} FROM (SELECT ?::VARCHAR s, ?::VARCHAR m, ?::VARCHAR c)"
    >>> con = duckdb.connect()
    >>> [con.execute(q, v).fetchone()[0] for v in (["(direct)", "(none)", None],
    ...     ["google", "cpc", "x"], ["google", "organic", None], ["facebook", "paid", None],
    ...     ["newsletter", "email", None], ["blog.example", "referral", None])]
    ['Direct', 'Paid Search', 'Organic Search', 'Paid Social', 'Email', 'Referral']
    """
    s = f"lower(coalesce({source}, ''))"
    m = f"lower(coalesce({medium}, ''))"
    c = f"lower(coalesce({campaign}, ''))"

    def matches(expr: str, alternatives: str) -> str:
        return f"regexp_matches({expr}, '(^|[.])({alternatives})([.]|$)')"

    paid = f"regexp_matches({m}, '{_PAID}')"
    shop_campaign = f"regexp_matches({c}, '^(.*(([^a-df-z]|^)shop|shopping).*)$')"
    return f"""CASE
      WHEN {s} IN ('(direct)', '') AND {m} IN ('(not set)', '(none)', '') THEN 'Direct'
      WHEN contains({c}, 'cross-network') THEN 'Cross-network'
      WHEN ({matches(s, _SHOPPING)} OR {shop_campaign}) AND {paid} THEN 'Paid Shopping'
      WHEN ({matches(s, _SEARCH)} AND {paid}) OR {gclid} IS NOT NULL THEN 'Paid Search'
      WHEN {matches(s, _SOCIAL)} AND {paid} THEN 'Paid Social'
      WHEN {matches(s, _VIDEO)} AND {paid} THEN 'Paid Video'
      WHEN {m} IN ('display', 'banner', 'expandable', 'interstitial', 'cpm') THEN 'Display'
      WHEN {paid} THEN 'Paid Other'
      WHEN {matches(s, _SHOPPING)} OR {shop_campaign} THEN 'Organic Shopping'
      WHEN {matches(s, _SOCIAL)} OR {m} IN ('social', 'social-network', 'social-media', 'sm',
           'social network', 'social media') THEN 'Organic Social'
      WHEN {matches(s, _VIDEO)} OR contains({m}, 'video') THEN 'Organic Video'
      WHEN {matches(s, _SEARCH)} OR {m} = 'organic' THEN 'Organic Search'
      WHEN {m} IN ('referral', 'app', 'link') THEN 'Referral'
      WHEN {s} IN ('email', 'e-mail', 'e_mail', 'e mail') OR {m} IN ('email', 'e-mail',
           'e_mail', 'e mail') THEN 'Email'
      WHEN {m} = 'affiliate' THEN 'Affiliates'
      WHEN {m} = 'audio' THEN 'Audio'
      WHEN {s} = 'sms' OR {m} = 'sms' THEN 'SMS'
      WHEN ends_with({m}, 'push') OR contains({m}, 'mobile') OR contains({m}, 'notification')
           OR {s} = 'firebase' THEN 'Mobile Push Notifications'
      ELSE 'Unassigned' END"""


def _value(v: str) -> str:
    """The text of a GA4 value struct ``v``: whichever typed value is set. Read through JSON,
    so a value struct without some of the typed fields (JSON exports leave NULLs out, and
    DuckDB then infers narrower structs) reads the same."""
    paths = "['$.string_value', '$.int_value', '$.double_value', '$.float_value']"
    return f"list_filter(json_extract_string(to_json({v}), {paths}), x -> x IS NOT NULL)[1]"


def _field(struct: str, key: str) -> str:
    """``struct.key`` as text, NULL when the export's struct has no such field."""
    return f"json_extract_string(to_json({struct}), '$.{key}')"


def _param(name: str) -> str:
    """The text of event parameter ``name``."""
    return _value(f"list_filter(event_params, p -> p.key = '{name}')[1].value")


def ga4_view_sql(src: str, columns: Collection[str]) -> str:
    """A SELECT over relation ``src`` (a GA4 export with ``_row``) giving the flat columns
    the flat stage reads (``ts``, ``type``, ``event``, ..., ``properties`` as JSON text).
    Optional export columns (``ecommerce``, ``items``, ``collected_traffic_source``,
    ``platform``, ``device``, ``geo``) are used when present."""
    cols = set(columns)
    params = "event_params" in cols
    param = _param if params else (lambda _n: "NULL::VARCHAR")
    cts = "collected_traffic_source" in cols

    def traffic(field: str, name: str) -> str:
        own = f"{_field('collected_traffic_source', field)}, " if cts else ""
        return f"coalesce({own}{param(name)})"

    source = traffic("manual_source", "source")
    medium = traffic("manual_medium", "medium")
    campaign = traffic("manual_campaign_name", "campaign")
    term = traffic("manual_term", "term")
    content = traffic("manual_content", "content")
    gclid = traffic("gclid", "gclid")
    platform = (
        "CASE upper(platform) WHEN 'WEB' THEN 'web' WHEN 'IOS' THEN 'app' "
        "WHEN 'ANDROID' THEN 'app' END"
        if "platform" in cols
        else "NULL"
    )
    # the traffic fields once per row (t), the channel group once from them (g)
    group = channel_group_sql("_source", "_medium", "_campaign", "_gclid")
    has_source = "(_source IS NOT NULL OR _medium IS NOT NULL OR _gclid IS NOT NULL)"
    revenue = _field("ecommerce", "purchase_revenue") if "ecommerce" in cols else "NULL"
    props: list[str] = []
    if params:
        props.append(
            "'params', map_from_entries(list_transform(event_params, p -> "
            f"struct_pack(k := p.key, v := {_value('p.value')})))"
        )
    for extra in ("items", "device", "geo", "ecommerce", "platform"):
        if extra in cols:
            props.append(f"'{extra}', {extra}")
    props.append("'ga4_channel_group', _group")
    location = param("page_location")
    return f"""
    WITH t AS (
      SELECT *, {source} AS _source, {medium} AS _medium, {campaign} AS _campaign,
             {term} AS _term, {content} AS _content, {gclid} AS _gclid
      FROM {src}
    ), g AS (
      SELECT *, CASE WHEN {has_source} THEN {group} END AS _group FROM t
    )
    SELECT _row,
      event_timestamp::VARCHAR AS ts,
      CASE event_name WHEN 'page_view' THEN 'page' WHEN 'screen_view' THEN 'screen'
           ELSE 'track' END AS type,
      event_name AS event,
      CASE event_name WHEN 'page_view' THEN {param("page_title")}
           WHEN 'screen_view' THEN {param("firebase_screen")} END AS name,
      user_pseudo_id::VARCHAR AS anonymous_id,
      {"user_id::VARCHAR" if "user_id" in cols else "NULL::VARCHAR"} AS user_id,
      coalesce(replace(lower(_group), ' ', '_'), {platform}) AS channel,
      nullif(regexp_extract({location}, '^[a-z]+://[^/?#]+([^?#]*)', 1), '') AS page_path,
      _campaign AS campaign, _source AS utm_source, _medium AS utm_medium,
      _content AS utm_content, _term AS utm_term,
      {revenue}::VARCHAR AS revenue,
      {param("currency")} AS currency,
      json_object({", ".join(props)})::VARCHAR AS properties
    FROM g
    """
