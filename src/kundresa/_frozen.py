"""Deep freezing: what makes a result read-only all the way down.

:func:`freeze` turns ``dict`` (any mapping) into a :class:`FrozenDict`, ``list`` into
``tuple``, ``set`` into ``frozenset`` and ``bytearray`` into ``bytes``, recursively; a
frozen dataclass gets its fields frozen (on a copy), a numpy array becomes a read-only view.
:func:`thaw` is the way back, to plain ``dict`` and ``list`` (for code that edits a copy).

>>> data = freeze({"a": [1, {"b": {2, 3}}]})
>>> data
{'a': (1, {'b': frozenset({2, 3})})}
>>> data["a"][1]["b"] == {2, 3}, data == {"a": (1, {"b": {2, 3}})}
(True, True)
>>> data["c"] = 1
Traceback (most recent call last):
...
TypeError: 'FrozenDict' object does not support item assignment
>>> thaw(data)
{'a': [1, {'b': [2, 3]}]}

What is *not* frozen, and why: a pandas object has no reliable read-only switch (its
values are writable through ``.loc`` / ``.values`` unless copy-on-write is on), so it is
kept as it is; results hold tables as tuples of row mappings instead and build frames on
demand (``to_frame()``). pyarrow arrays and tables are immutable already. A numpy array is
frozen as a read-only *view*: nothing can write through the result, but whoever still
holds the original (writable) array can; the result's builders do not keep one.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["FrozenDict", "freeze", "freeze_fields", "thaw"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(Mapping[K, V]):
    """A read-only mapping: equal to a ``dict`` with the same items, hashable when its
    values are, printed like a ``dict``; pickles and copies.

    >>> d = FrozenDict({"a": 1, "b": 2})
    >>> d, d == {"a": 1, "b": 2}, hash(d) == hash(FrozenDict(b=2, a=1))
    ({'a': 1, 'b': 2}, True, True)
    >>> d | {"c": 3}
    {'a': 1, 'b': 2, 'c': 3}
    >>> d.a = 1
    Traceback (most recent call last):
    ...
    AttributeError: FrozenDict is read-only
    >>> import pickle, copy
    >>> pickle.loads(pickle.dumps(d)) == d == copy.deepcopy(d)
    True
    """

    __slots__ = ("_data", "_hash")

    _data: dict[K, V]
    _hash: int | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_data", dict(*args, **kwargs))
        object.__setattr__(self, "_hash", None)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __repr__(self) -> str:
        return repr(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash(frozenset(self._data.items())))
        assert self._hash is not None
        return self._hash

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenDict is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("FrozenDict is read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))

    def __copy__(self) -> FrozenDict[K, V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict[K, V]:
        return type(self)(copy.deepcopy(self._data, memo))

    def __or__(self, other: Mapping[K, V]) -> FrozenDict[K, V]:
        return type(self)({**self._data, **other})

    def __ror__(self, other: Mapping[K, V]) -> dict[K, V]:
        return {**other, **self._data}

    def copy(self) -> dict[K, V]:
        """A plain (mutable, shallow) ``dict`` copy.

        >>> FrozenDict(a=1).copy()
        {'a': 1}
        """
        return dict(self._data)


#: immutable leaves, returned as they are (checked by exact type: the fast path)
_SCALARS = frozenset({str, bytes, int, float, complex, bool, type(None)})


def freeze(value: Any) -> Any:
    """``value`` made read-only all the way down (returned as is when it already is).

    >>> freeze([1, [2, 3], {"a": [4]}])
    (1, (2, 3), {'a': (4,)})
    >>> t = (1, "x")
    >>> freeze(t) is t
    True
    >>> import numpy as np
    >>> freeze(np.arange(3)).flags.writeable
    False
    """
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is tuple or isinstance(value, tuple):
        return _freeze_tuple(value)
    if isinstance(value, FrozenDict):
        values = tuple(value._data.values())
        frozen = _freeze_tuple(values)
        return value if frozen is values else FrozenDict(zip(value._data, frozen, strict=True))
    if isinstance(value, Mapping):
        return FrozenDict({freeze(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return _freeze_tuple(tuple(value))
    if isinstance(value, set):
        return frozenset(freeze(v) for v in value)
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, str | bytes | int | float | complex | frozenset):
        return value  # subclasses of the leaves (an enum.StrEnum, a numpy float)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(type(value), "__dataclass_params__", None)
        if params is None or not params.frozen:
            return value  # a mutable dataclass stays one (results hold frozen ones only)
        return _freeze_dataclass(value)
    return _freeze_array(value)


def _freeze_tuple(value: tuple[Any, ...]) -> tuple[Any, ...]:
    scalars = _SCALARS
    for i, v in enumerate(value):
        if type(v) in scalars:
            continue
        new = freeze(v)
        if new is v:
            continue
        # the first element that changes: build the frozen copy from here on
        items = [*value[:i], new, *(freeze(x) for x in value[i + 1 :])]
        if hasattr(type(value), "_fields"):
            return type(value)(*items)  # a named tuple stays one
        return tuple(items)
    return value


def _freeze_dataclass(value: Any) -> Any:
    changed = {}
    for f in dataclasses.fields(value):
        old = getattr(value, f.name)
        new = freeze(old)
        if new is not old:
            changed[f.name] = new
    if not changed:
        return value
    out = copy.copy(value)
    for name, new in changed.items():
        object.__setattr__(out, name, new)
    return out


def _freeze_array(value: Any) -> Any:
    flags = getattr(value, "flags", None)
    if flags is None or not hasattr(value, "view") or not hasattr(value, "setflags"):
        return value  # not a numpy array: kept (see the module notes)
    if not flags.writeable:
        return value
    view = value.view()
    view.setflags(write=False)
    return view


def freeze_fields(obj: Any) -> None:
    """Freeze every field of the frozen dataclass ``obj`` in place (what
    :class:`~kundresa.Result` does after construction).

    >>> @dataclasses.dataclass(frozen=True)
    ... class Row:
    ...     xs: Any
    >>> r = Row([1, 2])
    >>> freeze_fields(r)
    >>> r.xs
    (1, 2)
    """
    for f in dataclasses.fields(obj):
        old = getattr(obj, f.name)
        new = freeze(old)
        if new is not old:
            object.__setattr__(obj, f.name, new)


def thaw(value: Any) -> Any:
    """The plain, mutable copy of a (frozen) value: mappings to ``dict``, tuples, lists,
    sets and frozensets to ``list``; anything else as is.

    >>> thaw(FrozenDict(a=(1, FrozenDict(b=2))))
    {'a': [1, {'b': 2}]}
    """
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [thaw(v) for v in value]
    return value
