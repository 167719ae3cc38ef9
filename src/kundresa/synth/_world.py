"""The planted world of the synthetic shop: personas, channels, stores, products, e-mails.

Constants only (and the persona table parser); the simulation is in ``_sim``.
"""

from dataclasses import dataclass
from typing import Any, Final

MINUTE: Final = 60.0
HOUR: Final = 3600.0
DAY: Final = 86400.0

FUNNEL_STEPS: Final = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
#: Probability of funnel entry with no marketing touch at all.
ENTRY_BASE: Final = 0.15
#: Planted effect of being exposed to a channel on funnel entry (noisy-OR, see module doc).
CHANNEL_EFFECTS: Final[dict[str, float]] = {
    "search": 0.30,
    "review": 0.22,
    "email": 0.15,
    "social": 0.10,
    "referral": 0.06,
    "ads": 0.03,
    "support": 0.0,
    "web": 0.0,
    "app": 0.0,
    "store": 0.0,
}
CLOSING_CHANNELS: Final = ("web", "app")
REMINDER_PROBABILITY: Final = 0.5
ALIAS_PROBABILITY: Final = 0.08
MIN_DAYS: Final = 14
# Marketing channels a person can be exposed to in the awareness phase (email = newsletter).
_MARKETING: Final = ("search", "review", "social", "ads", "referral", "support")
_NEWSLETTER_WEEKDAY_OFFSET: Final = 3 * DAY + 7 * HOUR  # Thursdays 07:00 from a Monday start

# Identity flags packed into one int per event.
_USER: Final = 1
_CARD: Final = 2
_EMAIL: Final = 4
_PREV: Final = 8

# Session kinds.
(
    _K_DIRECT,
    _K_EXPO,
    _K_ENTRY,
    _K_RESEARCH,
    _K_ADD,
    _K_RETURN,
    _K_REPEAT,
    _K_STORE,
    _K_EMAIL,
    _K_NEWS_CLICK,
    _K_SURVEY,
    _K_SUPPORT,
    _K_TRIAL_START,
    _K_TRIAL_USE,
    _K_SUB_START,
) = range(15)
_VIEW_ONLY: Final = 3  # "flow" code: entry without a cart; 0/1/2 = add, +checkout, +order
_NO_ENTRY: Final = -1


# Persona parameters, one column per persona. "a/b" values are tuples; see _Persona for meaning.
_PERSONA_TABLE: Final = """
name                 wheel_kicker       impulse            loyal              trial_churner
share                0.30               0.30               0.25               0.15
devices              .2/.45/.35         .6/.3/.1           .3/.45/.25         .3/.5/.2
app_first            0.2                0.3                0.6                1.0
account              0.55               0.35               0.97               1.0
subscriber           0.45               0.4                0.85               0.5
card                 0.8                0.2                0.7                0.3
card_link            0.6                0.4                0.8                0.5
expose_search        0.85               0.15               0.3                0.3
expose_review        0.7                0.05               0.15               0.2
expose_social        0.15               0.85               0.25               0.35
expose_ads           0.35               0.6                0.3                0.4
expose_referral      0.2                0.15               0.1                0.3
expose_support       0.08               0.02               0.1                0.05
more_touches         0.45               0.3                0.35               0.3
aware_start          0.2                0.6                0.3                0.3
aware_days           2/12               0/3                1/10               1/8
entry_delay_hours    3/60               0.2/6              1/48               2/72
continue_entry       0                  1                  0                  0
research_sessions    4/10               0/0                0/2                0/2
research_days        5/21               0/0                0.5/4              1/6
add_in_entry_session 0.0                1.0                0.5                0.3
store_visit          0.6                0.0                0.3                0.2
add                  0.55               0.6                0.7                0.3
checkout             0.35               0.75               0.7                0.5
order                0.6                0.85               0.9                0.7
return_reminded      0.5                0.3                0.6                0.25
return_not_reminded  0.3                0.12               0.4                0.1
store_return         0.65               0.05               0.3                0.1
store_no_cart        0.35               0.02               0.2                0.03
store_offline        0.05               0.03               0.15               0.03
repeat               0.15               0.3                2.5                0.1
repeat_store         0.5                0.1                0.25               0.1
direct_visits        1.5                1.2                3.0                1.0
survey               0.35               0.15               0.55               0.3
support              0.12               0.08               0.1                0.15
"""
# Relative weights of NPS answers 0..10.
_NPS_WEIGHTS: Final = {
    "wheel_kicker": (1, 1, 1, 2, 2, 4, 6, 12, 20, 28, 23),
    "impulse": (3, 2, 3, 4, 5, 8, 10, 14, 18, 18, 15),
    "loyal": (0.5, 0.5, 0.5, 1, 1, 2, 3, 8, 17, 30, 37),
    "trial_churner": (8, 7, 9, 10, 11, 12, 11, 10, 9, 7, 6),
}
_DESCRIPTIONS: Final = {
    "wheel_kicker": "Long, research-heavy journey over weeks: search and comparison sites, many"
    " product views on web and app, a store visit; often buys in the store with the loyalty card"
    " after researching online (ROPO).",
    "impulse": "Short, spontaneous journey: one social-media or ad touch, a product view and a"
    " purchase within the hour.",
    "loyal": "Repeat buyer: reads the newsletter, uses the app, buys several times over the weeks"
    " and answers surveys.",
    "trial_churner": "Starts a trial of the shop's membership app (Trial Started, Feature Used with"
    " decreasing frequency); most stop using it (churn), a few start a subscription.",
}


@dataclass(frozen=True)
class _Persona:
    name: str
    share: float
    devices: tuple[float, ...]  # P(1, 2, 3 devices)
    app_first: float  # P(the first device is the app)
    account: float  # P(has a customer account from the start)
    subscriber: float  # P(newsletter subscriber | account)
    card: float  # P(loyalty-card holder)
    card_link: float  # P(card linked online at sign-in | card)
    expose_search: float  # P(touched in the awareness phase), per channel
    expose_review: float
    expose_social: float
    expose_ads: float
    expose_referral: float
    expose_support: float
    more_touches: float  # P(one more touch of an exposed channel), geometric
    aware_start: float  # awareness starts at U(0, aware_start * window)
    aware_days: tuple[float, ...]
    entry_delay_hours: tuple[float, ...]
    continue_entry: float  # 1: the entry continues the last click session (impulse)
    research_sessions: tuple[float, ...]
    research_days: tuple[float, ...]
    add_in_entry_session: float
    store_visit: float  # P(store visit while researching | card)
    add: float
    checkout: float  # P(checkout in the add session)
    order: float  # P(order in the add session | checkout there)
    return_reminded: float  # P(return and purchase | abandoned, reminded)
    return_not_reminded: float
    store_return: float  # P(the return is a store purchase | card)
    store_no_cart: float  # P(store purchase after research without a cart | card)
    store_offline: float  # P(store purchase without the online funnel | card, no entry)
    repeat: float  # expected further purchases after the first (only after a checkout)
    repeat_store: float
    direct_visits: float
    survey: float  # P(answers the feedback survey)
    support: float  # P(support ticket after an order)

    @property
    def exposure(self) -> tuple[float, ...]:
        """P(exposed) per channel, in the order of ``_MARKETING``."""
        return tuple(getattr(self, f"expose_{ch}") for ch in _MARKETING)

    @property
    def nps_weights(self) -> tuple[float, ...]:
        return _NPS_WEIGHTS[self.name]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self.name]

    def funnel(self) -> list[float]:
        """Planted P(step k | step k-1) for the four funnel steps (see module doc)."""
        c, o = self.checkout, self.order
        ret = 0.5 * self.return_reminded + 0.5 * self.return_not_reminded
        online = 1.0 - self.store_return * self.card
        p3 = c + (1.0 - c) * ret * online
        p4 = (c * o + c * (1.0 - o) * ret + (1.0 - c) * ret * online) / p3
        return [1.0, self.add, p3, p4]


def _parse_personas(text: str) -> tuple[_Persona, ...]:
    rows = [line.split() for line in text.strip().splitlines()]
    names = rows[0][1:]
    fields: list[dict[str, Any]] = [{"name": n} for n in names]
    for key, *values in rows[1:]:
        for f, v in zip(fields, values, strict=True):
            f[key] = tuple(float(x) for x in v.split("/")) if "/" in v else float(v)
    return tuple(_Persona(**f) for f in fields)


_PERSONA_LIST: Final = _parse_personas(_PERSONA_TABLE)
PERSONAS: Final = tuple(p.name for p in _PERSONA_LIST)

_TRIAL_DAYS: Final = 14
_TRIAL_SUBSCRIBE: Final = 0.15
_TRIAL_DECAY_DAYS: Final = (1.5, 5.0)
_TRIAL_SUBSCRIBED_USE: Final = 0.5
_CSAT_OF_NPS: Final = (1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5)
_CSAT_UP, _CSAT_DOWN = 0.25, 0.15
_SURVEY_CSAT: Final = 0.6

_STORES: Final = (
    ("S01", "Stockholm Kungsgatan"),
    ("S02", "Göteborg Nordstan"),
    ("S03", "Malmö Triangeln"),
    ("S04", "Uppsala Forumgallerian"),
    ("S05", "Linköping Tornby"),
)
_CATEGORIES: Final = (
    ("tv", 3990, 24990),
    ("laptop", 5990, 21990),
    ("phone", 2490, 15990),
    ("headphones", 490, 4990),
    ("robot-vacuum", 1990, 9990),
    ("coffee-machine", 990, 12990),
    ("kitchen", 290, 3990),
    ("gaming", 490, 7990),
    ("smart-home", 190, 2990),
    ("camera", 2990, 19990),
)
_PRODUCTS_PER_CATEGORY: Final = 24
_FEATURES: Final = ("price_alerts", "free_delivery", "extended_warranty", "member_prices")
_FIRST = ("anna", "erik", "maria", "lars", "karin", "johan", "sara", "nils", "emma", "oskar")
_LAST = ("andersson", "johansson", "karlsson", "nilsson", "eriksson", "larsson", "olsson")

# (channel, event, touchpoint, campaign, utm_source, utm_medium, utm_content, utm_term)
# Marketing touches: channel | event | touchpoint | campaign | utm_source | utm_medium |
# utm_content | utm_term ("-" = null). Each is followed by a landing page with the same UTM.
_VARIANT_TABLE: Final = """
ads|Ad Clicked|Google Ads: TV week|tv_week|google|cpc|text_a|köpa tv
ads|Ad Clicked|Google Ads: laptops|back_to_work|google|cpc|text_b|bärbar dator
ads|Ad Clicked|Meta: spring sale|spring_sale|meta|cpc|carousel_1|-
ads|Ad Clicked|Meta: robot vacuums|spring_sale|meta|cpc|video_2|-
ads|Ad Clicked|YouTube: headphones|sound_month|youtube|cpc|bumper|-
social|Social Post Clicked|Instagram: unboxing|influencer_unboxing|instagram|social|reel_1|-
social|Social Post Clicked|Instagram: spring sale|spring_sale|instagram|social|story_2|-
social|Social Post Clicked|Facebook: store opening|store_opening|facebook|social|post_1|-
social|Social Post Clicked|TikTok: gadget tips|gadget_tips|tiktok|social|video_3|-
search|Search Result Clicked|Google|-|google|organic|-|bästa tv 2026
search|Search Result Clicked|Google|-|google|organic|-|robotdammsugare test
search|Search Result Clicked|Google|-|google|organic|-|hörlurar brusreducerande
search|Search Result Clicked|Google|-|google|organic|-|kaffemaskin bäst i test
search|Search Result Clicked|Bing|-|bing|organic|-|tv 55 tum
review|Comparison Site Visited|PriceRunner|-|pricerunner|review|-|-
review|Comparison Site Visited|Prisjakt|-|prisjakt|review|-|-
review|Comparison Site Visited|Råd & Rön test|-|radron|review|-|-
referral|Referral Link Clicked|Teknikbloggen|-|blog|referral|article_tv|-
referral|Referral Link Clicked|Friend invite|refer_a_friend|friend|referral|-|-
referral|Referral Link Clicked|Partner: bank offers|partner_bank|partner|referral|-|-
"""
_VARIANTS: Final = [
    [None if cell.strip() == "-" else cell.strip() for cell in line.split("|")]
    for line in _VARIANT_TABLE.strip().splitlines()
]

_EMAILS: Final = (
    ("cart_reminder", "Cart reminder"),
    ("thank_you", "Thank you"),
    ("how_to", "How-to guide"),
    ("feedback_request", "Feedback request"),
    ("trial_welcome", "Trial welcome"),
    ("trial_feedback", "Trial feedback"),
)
_SUPPORT_TOUCHPOINTS: Final = ("Chat", "Phone", "Contact form")

_Row = tuple[str | None, ...]
_Event = tuple[float, int, int, int, int]  # (seconds, template, properties, device, flags)
_Plan = tuple[float, int, int, int, int, int]  # (seconds, seq, kind, device, a, b)


def _cumulative(weights: tuple[float, ...]) -> list[float]:
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc / total)
    return out


_NPS_CUM: Final = [_cumulative(p.nps_weights) for p in _PERSONA_LIST]
