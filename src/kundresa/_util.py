"""Small shared helpers."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from kundresa._errors import InvalidOptionError

__all__ = [
    "MAX_DURATION_SECONDS",
    "format_duration",
    "humanize_seconds",
    "parse_duration",
    "renamed",
    "write_private",
]

F = TypeVar("F", bound=Callable[..., Any])

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw])\s*$")

#: the longest duration any parameter takes (windows, lookbacks, session gaps): ten years
MAX_DURATION_SECONDS = 3650 * 86400


def format_duration(seconds: float) -> str:
    """``seconds`` in the largest unit that divides it (how bounds are shown).

    >>> format_duration(3650 * 86400), format_duration(90), format_duration(1.5)
    ('3650d', '90s', '1.5s')
    """
    for unit in ("w", "d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def parse_duration(
    value: str | dt.timedelta,
    field: str = "duration",
    *,
    maximum: float = MAX_DURATION_SECONDS,
) -> dt.timedelta:
    """Read a duration such as ``"30m"``, ``"7d"``, ``"1.5h"`` (units s, m, h, d, w),
    above 0 and at most ``maximum`` seconds (default ten years, ``3650d``).

    >>> parse_duration("30m")
    datetime.timedelta(seconds=1800)
    >>> parse_duration("7d").days
    7
    >>> parse_duration("1000000000000000s", "window")
    Traceback (most recent call last):
    ...
    kundresa.InvalidOptionError: window: '1000000000000000s' is not allowed; use a ...
    """
    if isinstance(value, dt.timedelta):
        if value.total_seconds() > maximum:
            raise InvalidOptionError(field, value, fix=duration_range(maximum))
        return value
    m = _DURATION.match(str(value))
    if not m:
        raise InvalidOptionError(
            field, value, fix="write a number and a unit s, m, h, d or w, such as '30m' or '7d'"
        )
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not 0 < seconds <= maximum:  # also inf and NaN
        raise InvalidOptionError(field, value, fix=duration_range(maximum))
    return dt.timedelta(seconds=seconds)


def duration_range(maximum: float = MAX_DURATION_SECONDS) -> str:
    """The fix of a duration out of range.

    >>> duration_range(86400)
    "use a duration above 0 and at most 1d, e.g. '30m' or '7d'"
    """
    return f"use a duration above 0 and at most {format_duration(maximum)}, e.g. '30m' or '7d'"


def humanize_seconds(seconds: float | None, missing: str = "–") -> str:
    """A duration in seconds as people read it (s, min, h, d); durations are stored and
    serialised as ``*_seconds`` and humanised only when rendered.

    >>> [humanize_seconds(s) for s in (45, 600, 7200, 3 * 86400)]
    ['45 s', '10.0 min', '2.0 h', '3.0 d']
    >>> humanize_seconds(None)
    '–'
    """
    if seconds is None or seconds != seconds:  # None or NaN
        return missing
    s = float(seconds)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def renamed(**old_to_new: str) -> Callable[[F], F]:
    """Accept old keyword spellings for one release, with a warning naming the new one.

    ``@renamed(grain="unit")`` on a function lets callers still write ``grain=...``: the
    value is passed as ``unit=...`` and a :class:`DeprecationWarning` says so. Passing both
    spellings is an error (one line, naming both).

    >>> import warnings
    >>> @renamed(grain="unit")
    ... def f(*, unit: str = "person") -> str:
    ...     return unit
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(grain="session"), str(w[0].message).split(" (")[0]
    ('session', "f(): 'grain' is deprecated, use 'unit'")
    >>> f(unit="session")
    'session'
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise InvalidOptionError(
                        old, kwargs[old], fix=f"pass only {new!r} ({old!r} is its old spelling)"
                    )
                where = fn.__qualname__.removesuffix(".__init__")
                warnings.warn(
                    f"{where}(): {old!r} is deprecated, use {new!r} "
                    "(the old spelling goes in the next release)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        wrapper.__renamed__ = dict(old_to_new)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def write_private(path: os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (a temporary file beside it, then a rename),
    readable by its owner only (0600), also when the umask would allow more.

    >>> import tempfile, pathlib, stat
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "secret.txt"
    >>> write_private(f, b"token")
    >>> oct(stat.S_IMODE(f.stat().st_mode)), f.read_bytes()
    ('0o600', b'token')
    """
    target = os.fspath(path)
    head, name = os.path.split(target)
    tmp = os.path.join(head, f".{name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, target)
