"""Small shared helpers."""

from __future__ import annotations

import datetime as dt
import re

from kundresa.errors import InvalidOptionError

__all__ = ["parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: str | dt.timedelta, field: str = "duration") -> dt.timedelta:
    """Read a duration such as ``"30m"``, ``"7d"``, ``"1.5h"`` (units s, m, h, d, w).

    >>> parse_duration("30m")
    datetime.timedelta(seconds=1800)
    >>> parse_duration("7d").days
    7
    """
    if isinstance(value, dt.timedelta):
        return value
    m = _DURATION.match(str(value))
    if not m:
        raise InvalidOptionError(
            field, value, fix="write a number and a unit s, m, h, d or w, such as '30m' or '7d'"
        )
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds <= 0:
        raise InvalidOptionError(field, value, fix="use a positive duration such as '30m'")
    return dt.timedelta(seconds=seconds)
