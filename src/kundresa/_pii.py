"""Personal data in events: which keys are hashed, which are dropped, what text is scanned.

The rules run wherever an event is stored: at ingest (files and the collector's loader
share :class:`kundresa._ingest._Processor`) on ``properties`` / ``traits``, on the text
columns (event name, touchpoint, page path, campaign fields) and on quarantined raw rows;
and in the collector, before a call is written to its inbox, on the whole call.

* **Keys** are split into lower-case words (``contactEmail``, ``contact_email`` and
  ``Contact-Email`` are all ``contact email``; trailing digits are ignored). A key whose
  words end in an e-mail word (``email``, ``e mail``, ``mail``, ``epost``, optionally
  followed by ``address``) or a phone word (``phone``, ``tel``, ``mobile``, ``cell``,
  ``telefon``, ``fax``, ``msisdn``, optionally followed by ``number`` / ``no`` / ``nr``) has
  its value replaced by the salted hash an identifier of that kind gets (so a property joins
  ``identities``): ``properties.customer.email`` equals the ``email`` identifier's hash.
* **Dropped keys**: person names (``first name``, ``last name``, ``full name``,
  ``surname``, ``user name``, ``förnamn``, ``etternavn``, ...; ``customer name``,
  ``billing name``: a person word before ``name``), addresses (any key with the word
  ``address``, ``street``, ``zip``, ``postcode``, ``postal code``, ``postnummer``),
  ``ip``, ``user agent``, ``ssn``, ``personnummer``, ``fødselsnummer``, ``password``. The
  bare key ``name`` is dropped only where it is a person's: in the ``traits`` of an
  identify call, in ``context.traits``, and in an object under a person key
  (``customer``, ``user``, ``contact``, ``buyer``, ``recipient``, ``shipping``, ...).
  ``product_name``, a page call's ``name`` and a group's ``traits.name`` are kept.
  ``null`` and boolean values are left as they are (they say nothing about a person).
* **Free text**: e-mail addresses and phone numbers inside any string (also keys) become
  ``email:<hash>`` / ``phone:<hash>``. A phone number is 8 to 15 digits written
  internationally (``+46 70 123 45 67``, ``0046...``) or nationally with a leading 0
  (``070-123 45 67``); other numbers (ids, prices, dates) are not touched. In a URL or query
  string (``?email=...&first_name=...``) each parameter meets the key rules (hashed,
  dropped) and its decoded value the free-text scan.
* **Context**: of Segment's ``context`` only what ingest reads is kept (``page``,
  ``campaign``, ``channel``, ``library``, ``traits``, see :data:`CONTEXT_KEEP`); ``ip``,
  ``userAgent``, ``device``, ``location``, ... are never stored.

Per workspace the rules are a :class:`PiiRules` (``Workspace.set_pii_rules``): extra keys
to hash or drop, keys to keep as sent, free-text scanning off, or everything off.

>>> rules = PiiRules()
>>> out = rules.scrub({"customer": {"email": "Alice@Example.org", "name": "Alice"},
...                    "product_name": "Sofa", "note": "call +46 70 123 45 67"}, salt="s")
>>> out["customer"]["email"] == rules.hash_value("alice@example.org", "email", salt="s")
True
>>> "name" in out["customer"], out["product_name"], out["note"][:11]
(False, 'Sofa', 'call phone:')
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, unquote, unquote_plus

from kundresa._errors import InvalidOptionError

__all__ = [
    "CONTEXT_KEEP",
    "STRUCTURAL",
    "WHITE_SPACE",
    "PiiRules",
    "Scrubber",
    "key_words",
    "prefilter_patterns",
    "prefilter_sql",
]

#: the white space ingest trims from every field (``kundresa._ingest_sql.WHITE_SPACE``)
WHITE_SPACE = " \t\n\r\x0b\x0c"

#: the only ``context`` fields kept (ingest reads these; everything else is dropped)
CONTEXT_KEEP = ("campaign", "channel", "library", "page", "traits")

#: top-level fields of a call kept as sent when they are strings: ids (ingest stores them as
#: identifiers; an e-mail address used as ``userId`` stays one) and timestamps
STRUCTURAL = frozenset(
    (
        "type",
        "messageId",
        "anonymousId",
        "userId",
        "previousId",
        "groupId",
        "timestamp",
        "originalTimestamp",
        "sentAt",
        "receivedAt",
        "version",
    )
)

#: how deep the scrubber descends; deeper values become this marker (such a call is
#: refused as too deeply nested anyway, see ``kundresa.server._collector.MAX_DEPTH``)
MAX_SCRUB_DEPTH = 300
TOO_DEEP = "[nested too deeply]"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_EMAIL_WORDS = ("mail", "post", "mejl")  # RE2 only
_EMAIL_ENDS = (("email",), ("mail",), ("e", "mail"), ("epost",), ("e", "post"), ("mejl",))
_ADDRESS_WORDS = ("address", "adress", "adresse", "addr")
_PHONE_WORDS = _words("phone telephone tel telefon mobile mobil cell cellphone msisdn fax")
_NUMBER_WORDS = ("number", "no", "nr", "num", "nummer", "numero")
_NAME_WORDS = ("name", "namn", "navn")
_PERSON_WORDS = _words(
    "customer customers user users contact contacts person persons people buyer buyers "
    "recipient recipients member members client guest guests passenger passengers patient "
    "owner sender receiver billing shipping holder cardholder kund kunden kunde mottagare "
    "mottaker avsändare avsender"
)
#: person-name keys (their words end so), dropped everywhere
_NAME_ENDS = (
    ("first", "name"),
    ("firstname",),
    ("last", "name"),
    ("lastname",),
    ("full", "name"),
    ("fullname",),
    ("given", "name"),
    ("givenname",),
    ("family", "name"),
    ("familyname",),
    ("middle", "name"),
    ("middlename",),
    ("maiden", "name"),
    ("maidenname",),
    ("sur", "name"),
    ("surname",),
    ("username",),
    ("förnamn",),
    ("efternamn",),
    ("mellannamn",),
    ("fornavn",),
    ("etternavn",),
    ("mellomnavn",),
)
#: other keys dropped everywhere (their words end so)
_OTHER_ENDS = (
    ("ip",),
    ("user", "agent"),
    ("useragent",),
    ("ssn",),
    ("social", "security", "number"),
    ("personnummer",),
    ("personnr",),
    ("fødselsnummer",),
    ("fodselsnummer",),
    ("national", "id"),
    ("password",),
    ("passwd",),
)
#: a key with any of these words is an address (or part of one): dropped
_ADDRESS_ANY = _words(
    "address adress adresse addr street streetaddress gatuadress gateadresse postcode "
    "postalcode zip zipcode postnummer postnr"
)
_ADDRESS_PAIRS = (("postal", "code"), ("post", "code"), ("zip", "code"), ("house", "number"))

_SPLIT = re.compile(r"[\W_]+")
_CAMEL = re.compile(
    r"(?<=[^\W_])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])|(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])"
)
_HEX32 = re.compile(r"[0-9a-f]{32}")
_EMAIL = re.compile(r"[\w.%+\-]+(?:@|%40)[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
_PHONE = re.compile(r"(?<![\w+\-./#%])(?:\+|00|0)[1-9](?:[ ()\-]{0,2}[0-9]){6,13}(?![\w])")
_DIGITS_ONLY = re.compile(r"[^0-9+]")
#: a string without these characters has no e-mail address, phone number or query string
_MAYBE = re.compile(r"[0+@%?]")
# actions of a key
KEEP, ALLOW, DROP, EMAIL, PHONE = "keep", "allow", "drop", "email", "phone"


def key_words(key: str) -> tuple[str, ...]:
    """The lower-case words of a key (camelCase, snake_case, kebab-case, dots, spaces).

    >>> key_words("contactEmail"), key_words("E-Mail"), key_words("ZIPCode"), key_words("address2")
    (('contact', 'email'), ('e', 'mail'), ('zip', 'code'), ('address', '2'))
    """
    return tuple(w for w in _SPLIT.split(_CAMEL.sub(" ", key).lower()) if w)


def _ends(words: tuple[str, ...], ends: Iterable[tuple[str, ...]]) -> bool:
    return any(len(words) >= len(e) and words[len(words) - len(e) :] == e for e in ends)


def _strip(words: tuple[str, ...], tail: Iterable[str]) -> tuple[str, ...]:
    drop = set(tail)
    while words and (words[-1] in drop or words[-1].isdigit()):
        words = words[:-1]
    return words


def _lower(text: str) -> str:
    """Lower case as DuckDB's ``lower`` (it maps ``İ`` to ``i``, Python to ``i̇``)."""
    return text.replace("İ", "i").lower()


def _entry(path: str) -> tuple[tuple[str, ...], ...]:
    """A configured key (``note``, ``customer.note``) as words per level."""
    parts = tuple(key_words(p) for p in path.split("."))
    if not path.strip() or any(not p for p in parts) or len(parts) > 2:
        raise InvalidOptionError(
            "pii key",
            path,
            fix="name a key (note) or a key under a parent key (customer.note), "
            "letters or digits in each",
        )
    return parts


@dataclass(frozen=True)
class PiiRules:
    """The personal-data rules of a workspace (see the module docstring for the defaults).

    ``email_keys`` / ``phone_keys``: extra keys whose values are e-mail addresses / phone
    numbers (hashed like identifiers); ``drop_keys``: extra keys never stored;
    ``allow_keys``: keys kept exactly as sent (no rule applies to them or inside them);
    ``scan_text``: look for e-mail addresses and phone numbers in free text; ``enabled``:
    off stores properties and traits as sent (Segment ``context`` is trimmed regardless).
    A key is matched by its words (``contact_note`` matches ``contactNote``), optionally
    under a parent key (``customer.note``).

    >>> r = PiiRules(drop_keys=("order.note",), allow_keys=("mobile",))
    >>> r.action("note", parent="order"), r.action("mobile"), r.action("contactEmail")
    ('drop', 'allow', 'email')
    >>> r.action("name"), r.action("name", person=True), r.action("product_name")
    ('keep', 'drop', 'keep')
    """

    enabled: bool = True
    email_keys: tuple[str, ...] = ()
    phone_keys: tuple[str, ...] = ()
    drop_keys: tuple[str, ...] = ()
    allow_keys: tuple[str, ...] = ()
    scan_text: bool = True
    _parsed: dict[str, tuple[tuple[tuple[str, ...], ...], ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        parsed = {}
        for name in ("email_keys", "phone_keys", "drop_keys", "allow_keys"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise InvalidOptionError(
                    name, value, fix=f'give {name} as a list of key names, e.g. ["note"]'
                )
            object.__setattr__(self, name, tuple(value))
            parsed[name] = tuple(_entry(v) for v in value)
        for name in ("enabled", "scan_text"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidOptionError(name, getattr(self, name), fix="use true or false")
        object.__setattr__(self, "_parsed", parsed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as stored in the workspace).

        >>> PiiRules(drop_keys=("note",)).to_dict()["drop_keys"]
        ['note']
        """
        d = asdict(self)
        d.pop("_parsed", None)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PiiRules:
        """Rules from :meth:`to_dict` output; an unknown field is an error naming it.

        >>> PiiRules.from_dict({"scan_text": False}).scan_text
        False
        """
        known = {"enabled", "email_keys", "phone_keys", "drop_keys", "allow_keys", "scan_text"}
        for k in data:
            if k not in known:
                raise InvalidOptionError("pii rules", k, allowed=sorted(known))
        kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**kw)

    def _configured(self, name: str, words: tuple[str, ...], parent: str | None) -> bool:
        for entry in self._parsed[name]:
            if entry[-1] != words:
                continue
            if len(entry) == 1 or (parent is not None and key_words(parent) == entry[0]):
                return True
        return False

    def action(self, key: str, *, parent: str | None = None, person: bool = False) -> str:
        """What happens to the value of ``key`` (in an object under ``parent``; ``person``:
        the object describes a person): ``allow`` (kept as sent), ``email`` / ``phone``
        (hashed), ``drop`` or ``keep`` (kept; its strings are scanned).

        >>> PiiRules().action("phone_number"), PiiRules().action("hotel")
        ('phone', 'keep')
        """
        words = key_words(key)
        if self._configured("allow_keys", words, parent):
            return ALLOW
        if self._configured("email_keys", words, parent):
            return EMAIL
        if self._configured("phone_keys", words, parent):
            return PHONE
        if self._configured("drop_keys", words, parent):
            return DROP
        w = _strip(words, ())
        if _ends(_strip(w, _ADDRESS_WORDS), _EMAIL_ENDS):
            return EMAIL
        stem = _strip(w, _NUMBER_WORDS)
        if stem and stem[-1] in _PHONE_KEYS:
            return PHONE
        if _ends(w, _NAME_ENDS) or _ends(w, _OTHER_ENDS):
            return DROP
        if any(x in _ADDRESS_ANY for x in w) or any(
            w[i : i + 2] == p for p in _ADDRESS_PAIRS for i in range(len(w) - 1)
        ):
            return DROP
        if w and w[-1] in _NAME_WORDS and ((len(w) == 1 and person) or w[-2:-1] in _PW):
            return DROP
        return KEEP

    def hash_value(self, value: str, kind: str, *, salt: str) -> str | None:
        """The stored form of an e-mail address (``kind="email"``) or phone number
        (``"phone"``): the salted hash its identifier gets (None when nothing is left after
        normalising; a value that already is such a hash is kept).

        >>> h = PiiRules().hash_value(" Alice@Example.org", "email", salt="s")
        >>> h == PiiRules().hash_value("alice@example.org", "email", salt="s"), len(h)
        (True, 32)
        >>> PiiRules().hash_value("+46 70-123 45 67", "phone", salt="s") == PiiRules(
        ...     ).hash_value("+46701234567", "phone", salt="s")
        True
        """
        if kind not in (EMAIL, PHONE):
            raise InvalidOptionError("kind", kind, allowed=(EMAIL, PHONE))
        return _hash(value, kind, salt)

    def scrub(self, value: Any, *, salt: str, person: bool = False) -> Any:
        """``value`` (properties, traits: JSON-like) with the rules applied.

        >>> PiiRules().scrub({"first_name": "Alice", "plan": "gold"}, salt="s")
        {'plan': 'gold'}
        """
        return Scrubber(self, salt).value(value, person=person)

    def scrub_call(self, call: Any, *, salt: str) -> Any:
        """A Segment call with the rules applied (``context`` trimmed to
        :data:`CONTEXT_KEEP`; identify ``traits`` describe a person).

        >>> c = {"type": "identify", "traits": {"name": "Alice", "plan": "gold"},
        ...      "context": {"ip": "10.0.0.1", "userAgent": "Mozilla/5.0"}}
        >>> PiiRules().scrub_call(c, salt="s")
        {'type': 'identify', 'traits': {'plan': 'gold'}, 'context': {}}
        """
        return Scrubber(self, salt).call(call)


_PW = frozenset((w,) for w in _PERSON_WORDS)
_PHONE_KEYS = frozenset((*_PHONE_WORDS, "phonenumber", "telefonnummer", "mobilnummer"))


@functools.lru_cache(maxsize=65_536)
def _hash(value: str, kind: str, salt: str) -> str | None:
    """``kundresa._ingest_sql._normalise`` in Python (equal output, tested)."""
    v = value.strip(WHITE_SPACE)
    low = _lower(v)
    if len(low) == 32 and _HEX32.fullmatch(low):
        return low
    v = low if kind == EMAIL else _DIGITS_ONLY.sub("", v)
    if not v:
        return None
    data = f"{salt}:{kind}:{v}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]


class Scrubber:
    """:class:`PiiRules` bound to a salt, with the key decisions cached (the collector
    scrubs every call with one of these).

    >>> s = Scrubber(PiiRules(), salt="s")
    >>> s.text("mail alice@example.org")[:11]
    'mail email:'
    >>> s.text("/p?email=a%40b.se&utm_source=x").endswith("&utm_source=x")
    True
    """

    def __init__(self, rules: PiiRules, salt: str) -> None:
        self.rules = rules
        self.salt = salt
        self._enabled = rules.enabled
        self._scan = rules.scan_text
        #: (key, parent, person) -> (action, whether the key names a person, scanned key)
        self._keys: dict[tuple[str, str | None, bool], tuple[str, bool, str]] = {}
        #: keys and strings known to be kept as they are (the collector's fast path)
        self._seen: set[str] = set()

    # -- keys ------------------------------------------------------------------------------
    def _key(self, key: str, parent: str | None, person: bool) -> tuple[str, bool, str]:
        k = (key, parent, person)
        got = self._keys.get(k)
        if got is None:
            if len(self._keys) > 50_000:
                self._keys.clear()
            words = _strip(key_words(key), ())
            got = self._keys[k] = (
                self.rules.action(key, parent=parent, person=person),
                bool(words) and words[-1] in _PERSON_WORDS,
                self.text(key),
            )
        return got

    def action(self, key: str, parent: str | None, person: bool) -> str:
        """:meth:`PiiRules.action`, cached.

        >>> Scrubber(PiiRules(), "s").action("surname", None, False)
        'drop'
        """
        return self._key(key, parent, person)[0]

    # -- text ------------------------------------------------------------------------------
    def _email(self, m: re.Match[str]) -> str:
        raw = m.group(0)
        h = _hash(unquote(raw) if "%" in raw else raw, EMAIL, self.salt)
        return f"email:{h}"

    def _phone(self, m: re.Match[str]) -> str:
        return f"phone:{_hash(m.group(0), PHONE, self.salt)}"

    def _free(self, s: str) -> str:
        if "@" in s or "%40" in s:
            s = _EMAIL.sub(self._email, s)
        return _PHONE.sub(self._phone, s)

    def _query(self, s: str) -> str:
        head, _, rest = s.partition("?")
        query, hashmark, fragment = rest.partition("#")
        out = []
        changed = False
        for part in query.split("&"):
            name, eq, value = part.partition("=")
            if not eq:
                out.append(part)
                continue
            act = self.action(unquote_plus(name), None, False)
            if act == DROP:
                changed = True
                continue
            if act in (EMAIL, PHONE) and value:
                value = _hash(unquote_plus(value), act, self.salt) or ""
            elif act == KEEP and self.rules.scan_text and ("%" in value or "+" in value):
                # an encoded value (the whole string's scan sees the plain ones)
                decoded = unquote_plus(value)
                scanned = self._free(decoded)
                if scanned != decoded:
                    value = quote(scanned, safe=":")
            changed = changed or f"{name}={value}" != part
            out.append(f"{name}={value}")
        if not changed:
            return s
        q = "&".join(out)
        return head + ("?" + q if q else "") + hashmark + fragment

    def text(self, s: str) -> str:
        """A string with the query parameters of a URL in it (``?a=b&c=d``) under the key
        rules and e-mail addresses and phone numbers replaced by tokens."""
        if not self._enabled or not _MAYBE.search(s):
            return s
        if "?" in s and "=" in s:
            s = self._query(s)
        return self._free(s) if self._scan else s

    # -- values ----------------------------------------------------------------------------
    def _hashed(self, v: Any, kind: str, parent: str, depth: int) -> Any:
        if isinstance(v, str):
            return _hash(v, kind, self.salt)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return _hash(str(v), kind, self.salt)
        if isinstance(v, list):
            return [self._hashed(x, kind, parent, depth + 1) for x in v]
        return self._walk(v, False, parent, depth)

    def _object(self, v: dict[Any, Any], person: bool, parent: str | None, depth: int) -> Any:
        """An object's keys and values under the rules (the hot loop of the collector)."""
        if depth > MAX_SCRUB_DEPTH:
            return TOO_DEEP
        out: dict[Any, Any] = {}
        keys = self._keys
        maybe = _MAYBE.search
        for k, x in v.items():
            key = k if type(k) is str else str(k)
            got = keys.get((key, parent, person)) or self._key(key, parent, person)
            act = got[0]
            if act is ALLOW:
                out[k] = x
            elif x is None or x is True or x is False:
                out[got[2]] = x
            elif act is KEEP:
                t = type(x)
                if t is str:
                    out[got[2]] = self.text(x) if maybe(x) else x
                elif t is dict:
                    out[got[2]] = self._object(x, got[1], key, depth + 1)
                elif t is list:
                    out[got[2]] = self._walk(x, got[1], key, depth + 1)
                else:
                    out[got[2]] = x
            elif act is not DROP:
                out[got[2]] = self._hashed(x, act, key, depth + 1)
        return out

    def _walk(self, v: Any, person: bool, parent: str | None, depth: int) -> Any:
        if isinstance(v, str):
            return self.text(v)
        if depth > MAX_SCRUB_DEPTH:
            return TOO_DEEP
        if isinstance(v, list):
            return [self._walk(x, person, parent, depth + 1) for x in v]
        if isinstance(v, dict):
            return self._object(v, person, parent, depth)
        return v

    def value(self, v: Any, *, person: bool = False) -> Any:
        """Properties or traits (JSON-like) with the rules applied.

        >>> Scrubber(PiiRules(), "s").value({"name": "Al", "plan": "x"}, person=True)
        {'plan': 'x'}
        """
        if not self.rules.enabled:
            return v
        return self._walk(v, person, None, 0)

    def call(self, item: Any) -> Any:
        """A whole call (or flat row): ``context`` trimmed to :data:`CONTEXT_KEEP`, the
        rest under the rules; ``traits`` (but a group call's: a company's) and
        ``context.traits`` describe a person.

        >>> Scrubber(PiiRules(), "s").call({"type": "page", "name": "A", "context": {"ip": "1"}})
        {'type': 'page', 'name': 'A', 'context': {}}
        """
        if not isinstance(item, dict):
            return self.value(item)
        ctx = item.get("context")
        if isinstance(ctx, dict):
            item = {**item, "context": {k: v for k, v in ctx.items() if k in CONTEXT_KEEP}}
        if not self.rules.enabled:
            return item
        # Segment's ids and timestamps are kept as sent (ingest stores ids as identifiers)
        special: dict[str, Any] = {
            k: v for k, v in item.items() if k in STRUCTURAL and type(v) is str
        }
        ctx = item.get("context")
        if isinstance(ctx, dict):
            special["context"] = {
                ck: self._walk(cv, ck == "traits", ck, 1) for ck, cv in ctx.items()
            }
        traits = item.get("traits")
        if isinstance(traits, dict):
            special["traits"] = self._object(traits, item.get("type") != "group", "traits", 1)
        out = self._object({k: v for k, v in item.items() if k not in special}, False, None, 0)
        ordered = {
            k: special[k] if k in special else out.pop(k) for k in item if k in special or k in out
        }
        ordered.update(out)  # keys renamed by the scan (an e-mail address as a key)
        return ordered

    # -- the collector's fast path ---------------------------------------------------------
    def _safe_key(self, key: str) -> bool:
        """Whether a key is kept as it is wherever it stands (any parent, not a person's
        object): no rule depends on it."""
        words = _strip(key_words(key), ())
        dotted = any(
            len(e) > 1 and e[-1] == key_words(key)
            for name in ("email_keys", "phone_keys", "drop_keys", "allow_keys")
            for e in self.rules._parsed[name]
        )
        return (
            self.rules.action(key, person=False) in (KEEP, ALLOW)
            and not (words and words[-1] in _PERSON_WORDS)
            and not dotted
            and self.text(key) == key
        )

    def _plain(self, v: dict[Any, Any] | list[Any], depth: int) -> bool:
        """Whether no rule changes anything in ``v``: every key safe, every string
        unchanged by :meth:`text` (both remembered, so a call of known keys and repeated
        values costs a few set lookups)."""
        if depth > MAX_SCRUB_DEPTH:
            return False
        seen = self._seen
        for k, x in v.items() if type(v) is dict else enumerate(v):
            if type(k) is str and k not in seen:
                if not self._safe_key(k):
                    return False
                seen.add(k)
            t = type(x)
            if t is str:
                if depth == 0 and k in STRUCTURAL:
                    continue
                if x not in seen:
                    if self.text(x) != x:
                        return False
                    seen.add(x)
            elif (t is dict or t is list) and not self._plain(x, depth + 1):
                return False
        return True

    def needs_call(self, item: dict[str, Any]) -> bool:
        """Whether the rules may change ``item`` (a call, ``context`` already trimmed):
        False only when :meth:`call` would return it unchanged. The collector walks (and
        copies) only the calls that need it.

        >>> s = Scrubber(PiiRules(), "s")
        >>> s.needs_call({"type": "track", "properties": {"sku": "S-1"}})
        False
        >>> s.needs_call({"type": "track", "properties": {"e_mail": "a@b.se"}})
        True
        """
        if not self._enabled:
            return False
        if "traits" in item or "traits" in (item.get("context") or {}):
            return True
        if len(self._seen) > 100_000:
            self._seen.clear()
        return not self._plain(item, 0)

    # -- JSON text (ingest) ----------------------------------------------------------------
    def json_text(self, text: str, *, person: bool = False) -> str:
        """Properties as JSON text, scrubbed (``text`` itself when unchanged).

        >>> Scrubber(PiiRules(), "s").json_text('{"sku": "S-1"}')
        '{"sku": "S-1"}'
        >>> Scrubber(PiiRules(), "s").json_text('{"street": "Storgatan 1", "sku": "S-1"}')
        '{"sku":"S-1"}'
        """
        try:
            v = _loads(text)
        except ValueError:
            return self.text(text)
        out = self.value(v, person=person)
        return text if out == v else _dumps(out)

    def raw(self, text: str) -> str:
        """A quarantined raw row: a JSON call (or row) scrubbed as a call, other text
        (invalid JSON, a CSV line) scanned as free text.

        >>> Scrubber(PiiRules(), "s").raw("not json, mail a@b.se")[:21]
        'not json, mail email:'
        """
        try:
            v = _loads(text)
        except ValueError:
            return self.text(text)
        out = self.call(v)
        return text if out == v else _dumps(out)


try:  # the [server] extra installs orjson (5-10x faster); the stdlib is the fallback
    import orjson

    def _loads(text: str) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:  # also what only the stdlib reads (NaN, huge ints)
            return json.loads(text)

    def _dumps(v: Any) -> str:
        try:
            return orjson.dumps(v).decode()
        except TypeError:
            return json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str)

except ImportError:  # pragma: no cover - without the extra

    def _loads(text: str) -> Any:
        return json.loads(text)

    def _dumps(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str)


# -- the SQL prefilter ---------------------------------------------------------------------
# Python visits only rows the prefilter flags, so the prefilter must flag every row the
# rules would change (a superset; tests/test_pii.py checks it on generated data).
_VALUE = r"""\s*:\s*["\-0-9\[{]"""  # a key followed by a string, number, array or object
_END = r"""(?:[^a-zA-Z"\\]|\\.)*"""  # the rest of the key: digits, separators, escapes
_ANY = r"""(?:[^"\\]|\\.)*"""
_SEP = "[^a-z0-9]*"


def _seq(words: Sequence[str]) -> str:
    return _SEP.join(re.escape(w) for w in words)


def _alt(items: Iterable[str]) -> str:
    return "(?:" + "|".join(dict.fromkeys(items)) + ")"


def prefilter_patterns(rules: PiiRules) -> tuple[str, str, str]:
    """RE2 patterns (DuckDB ``regexp_matches``) over JSON or plain text: (any change but a
    person's bare ``name``, a bare ``name`` key, a person key holding an object or array).

    >>> any_change, name, person = prefilter_patterns(PiiRules())
    >>> bool(re.search(any_change, '{"customer":{"e_mail":"x"}}'))
    True
    """
    parts: list[str] = []
    if rules.scan_text:
        parts += [
            "@",
            "%40",
            r"\\u00[2-7]",  # an escaped printable character in JSON text
            # what may stand before a number (as in _PHONE), also as a JSON escape
            r"(?:^|[^0-9a-zA-Z_\-./#%]|\\[bfnrt]|\\u[0-9a-fA-F]{4}|%[0-9a-fA-F]{2})"
            r"(?:\+|%2[bB]|00|0)[1-9](?:(?:[ ()+\-]|%2[0bBdD89]){0,2}[0-9]){6,}",
        ]
    email = _alt(_EMAIL_WORDS) + "(?:" + _END + _alt(_ADDRESS_WORDS) + ")?"
    phone = _alt(_PHONE_WORDS) + "(?:" + _END + _alt(_NUMBER_WORDS) + ")?"
    ends = [_seq(e) for e in (*_NAME_ENDS, *_OTHER_ENDS) if e != ("ip",)]
    ends += [_alt(_PERSON_WORDS) + _SEP + _alt(_NAME_WORDS)]
    seqs = [email, phone, *ends]
    anywhere = [re.escape(w) for w in _ADDRESS_ANY] + [_seq(p) for p in _ADDRESS_PAIRS]
    configured = [
        _seq(e[-1])
        for name in ("email_keys", "phone_keys", "drop_keys")
        for e in rules._parsed[name]
    ]
    ip = r"(?:(?:^|[^a-zA-Z])(?i:ip)|Ip|IP)"
    keys = (
        "(?i:" + _alt(seqs) + ")" + _END + '"' + _VALUE,
        ip + _END + '"' + _VALUE,
        "(?i:" + _alt([*anywhere, *configured]) + ")" + _ANY + '"' + _VALUE,
    )
    parts += keys
    # a query parameter named like a key rule (its name may be %-encoded)
    param = r"[^=&#\"\s]*"
    words = _alt([*seqs, *anywhere, *configured, "ip"])
    parts += [
        r"[?&]" + param + "(?i:" + words + ")" + param + "=",
        r"[?&]" + param + "%[0-9a-fA-F]{2}" + param + "=",
    ]
    name = r"(?:^|[^a-zA-Z])(?i:" + _alt(_NAME_WORDS) + ")" + _END + '"' + _VALUE
    person = "(?i:" + _alt(_PERSON_WORDS) + ")" + _END + r'"\s*:\s*[\[{]'
    return "|".join(parts), name, person


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def prefilter_sql(rules: PiiRules, text_sql: str, person_sql: str) -> str:
    """A SQL boolean: may the rules change ``text_sql`` (JSON or text; ``person_sql``: the
    JSON describes a person)? ``false`` when the rules are off.

    >>> prefilter_sql(PiiRules(enabled=False), "x", "false")
    'false'
    """
    if not rules.enabled:
        return "false"
    changes, name, person = prefilter_patterns(rules)
    return (
        f"(regexp_matches({text_sql}, {_lit(changes)}) OR (regexp_matches({text_sql}, "
        f"{_lit(name)}) AND ({person_sql} OR regexp_matches({text_sql}, {_lit(person)}))))"
    )


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
