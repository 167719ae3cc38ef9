"""One error hierarchy for kundresa.

Every error a user can cause derives from :class:`KundresaError`; each leaf also
subclasses the matching builtin, so ``except ValueError`` keeps working. Messages
name the field, the allowed values and the fix.

>>> from kundresa import InvalidOptionError, KundresaError
>>> err = InvalidOptionError("engine", "oracle", allowed=("duckdb", "spark"))
>>> isinstance(err, KundresaError) and isinstance(err, ValueError)
True
>>> print(err)
engine: 'oracle' is not allowed; use one of: duckdb, spark
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "EngineUnavailableError",
    "FileFormatError",
    "InvalidOptionError",
    "KundresaError",
    "NotFoundError",
    "closest",
]


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates that look like ``name`` (for "did you mean").

    >>> closest("Order Complete", ["Order Completed", "Product Viewed"])
    ['Order Completed']
    """
    return difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.5)


class KundresaError(Exception):
    """Root of every error kundresa raises on purpose.

    >>> issubclass(NotFoundError, KundresaError)
    True

    Errors pickle with their fields (they cross process boundaries: Spark executors,
    the server's workers):

    >>> import pickle
    >>> pickle.loads(pickle.dumps(NotFoundError("event", "x", candidates=["x1"]))).candidates
    ['x1']
    """

    _init: tuple[tuple[object, ...], dict[str, object]] = ((), {})

    def __reduce__(self) -> tuple[object, ...]:
        args, kwargs = self._init if self._init[0] else (self.args, {})
        return (_rebuild, (type(self), args, kwargs))


class InvalidOptionError(KundresaError, ValueError):
    """A configuration value is not one of the allowed values or not of the right form.

    >>> print(InvalidOptionError("gap", "5x", fix="write a duration such as '30m'"))
    gap: '5x' is not allowed; write a duration such as '30m'
    """

    def __init__(
        self,
        field: str,
        value: object,
        *,
        allowed: Sequence[str] = (),
        fix: str = "",
    ) -> None:
        self._init = ((field, value), {"allowed": tuple(allowed), "fix": fix})
        self.field = field
        self.value = value
        self.allowed = tuple(allowed)
        hint = fix or (f"use one of: {', '.join(self.allowed)}" if self.allowed else "")
        super().__init__(f"{field}: {value!r} is not allowed; {hint}".rstrip("; "))


class NotFoundError(KundresaError, LookupError):
    """Something named by the user does not exist (a table, an event name, a file).

    >>> print(NotFoundError("event", "Order Complete", candidates=["Order Completed"]))
    event: 'Order Complete' not found; did you mean: Order Completed
    """

    def __init__(self, field: str, value: object, *, candidates: Iterable[str] = ()) -> None:
        self.field = field
        self.value = value
        self.candidates = closest(str(value), candidates)
        self._init = ((field, value), {"candidates": tuple(self.candidates)})
        hint = f"; did you mean: {', '.join(self.candidates)}" if self.candidates else ""
        # LookupError/KeyError would repr() the message; keep it readable.
        super().__init__(f"{field}: {value!r} not found{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class FileFormatError(KundresaError, ValueError):
    """An input file cannot be read as any supported format.

    >>> print(FileFormatError("events.xlsx", "unsupported suffix '.xlsx'",
    ...       fix="export it as .csv, .parquet, .jsonl or .json"))
    events.xlsx: unsupported suffix '.xlsx'; export it as .csv, .parquet, .jsonl or .json
    """

    def __init__(self, path: str, problem: str, *, fix: str = "") -> None:
        self._init = ((path, problem), {"fix": fix})
        self.path = path
        super().__init__(f"{path}: {problem}" + (f"; {fix}" if fix else ""))


class EngineUnavailableError(KundresaError, RuntimeError):
    """An engine cannot start on this machine (e.g. Spark without Java).

    >>> print(EngineUnavailableError("spark", "java not found on PATH", fix="install a JDK 17"))
    engine 'spark' cannot start: java not found on PATH; install a JDK 17
    """

    def __init__(self, engine: str, problem: str, *, fix: str = "") -> None:
        self._init = ((engine, problem), {"fix": fix})
        self.engine = engine
        super().__init__(f"engine {engine!r} cannot start: {problem}" + (f"; {fix}" if fix else ""))


def _rebuild(
    cls: type[KundresaError], args: tuple[object, ...], kwargs: dict[str, object]
) -> object:
    """Unpickle an error by calling its constructor with the fields it was made with."""
    return cls(*args, **kwargs)


from kundresa._public import publish_from as _publish_from  # noqa: E402

_publish_from(__name__)
