"""Parameters shared by several declarations (one definition each)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kundresa._contract import Param
from kundresa._errors import InvalidOptionError

if TYPE_CHECKING:
    from kundresa._contract import Params

#: the unit of analysis for path analyses
UNIT_PATHS = ("session", "person")


def unit(default: str = "session") -> Param:
    """The path unit: one path per session or per person."""
    return Param(
        "unit",
        "choice",
        default,
        "One path per session or per person.",
        choices=UNIT_PATHS,
        deprecated=("grain",),
    )


SESSION_GAP = Param(
    "session_gap", "duration", "30m", "Inactivity that ends a session (paths).", deprecated=("gap",)
)


def collapse(default: bool) -> Param:
    """Merge repeated labels (a a -> a)."""
    return Param("collapse_repeats", "bool", default, "Merge repeats: a a b -> a b.")


#: path relabelling rules, folded into ``rules=PathRules(...)`` of the library call
RULES = (
    Param(
        "rename",
        "text",
        None,
        "PATTERN=ALIAS: events matching the regex get ALIAS.",
        multiple=True,
        python=None,
    ),
    Param(
        "rename_url",
        "text",
        None,
        "PATTERN=ALIAS on the page URL, e.g. '^/product/=Product'.",
        multiple=True,
        python=None,
    ),
    Param("hide", "event", None, "Event to hide from paths.", multiple=True, python=None),
    Param("group_by", "column", None, "Refine labels by a field, e.g. touchpoint.", python=None),
)


def rules(p: Params) -> Any:
    """The :class:`~kundresa.paths.PathRules` of ``rename``/``rename_url``/``hide``/``group_by``."""
    from kundresa.paths import PathRule, PathRules

    out = []
    for field, pairs in (("event", p.rename), ("url", p.rename_url)):
        for pair in pairs:
            if "=" not in pair:
                name = "rename" if field == "event" else "rename_url"
                raise InvalidOptionError(
                    name, pair, fix="write PATTERN=ALIAS, e.g. '^Email .*=Email'"
                )
            pattern, alias = pair.rsplit("=", 1)
            out.append(PathRule(pattern, alias, field=field))
    if not out and not p.hide and not p.group_by:
        return None
    return PathRules(rename=tuple(out), hide=tuple(p.hide), group_by=p.group_by)


def path_kwargs(p: Params) -> dict[str, Any]:
    """The keyword arguments every path analysis shares."""
    return {
        "unit": p.unit,
        "session_gap": p.session_gap,
        "collapse_repeats": p.collapse_repeats,
        "rules": rules(p),
    }


def journey_map(path: str | None) -> Any:
    """Load the journey map a ``map`` parameter names (``None`` when not given)."""
    if path is None:
        return None
    from kundresa.maps import load_map

    return load_map(path)
