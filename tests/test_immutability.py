"""Results are read-only all the way down, and run metadata is not part of their value.

Every declared analysis (walked from the contract's registry, so a new one is covered
without editing this file) is run on the contract's synthetic shop; then every container
reachable from the result must refuse writes (item assignment, appending, attribute
assignment), ``to_dict()`` must be unchanged after the attempts, and the result must equal
(and hash equal to) the same result with other ``engine`` / ``kernel`` / ``seconds``.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kundresa
from kundresa import Workspace
from kundresa._contract import analyses
from kundresa._frozen import FrozenDict, freeze, thaw
from kundresa._results import Result, jsonable
from kundresa.attribution import Journeys
from kundresa.funnel import FunnelResult
from tests.test_contract import MAP_ANALYSES, PARITY, RUN_METADATA, shop

__all__ = ["shop"]  # the contract's workspace fixture, used here too

NAMES = list(analyses())
MUTABLE = (list, dict, set, bytearray)


def _containers(value: Any, where: str = "result") -> Iterator[tuple[str, Any]]:
    """Every container reachable from ``value`` (dataclasses, mappings, sequences, sets,
    arrays) with the path to it."""
    seen: set[int] = set()
    stack = [(where, value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, str | bytes | int | float | type(None)) or id(v) in seen:
            continue
        seen.add(id(v))
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            yield path, v
            stack += [(f"{path}.{f.name}", getattr(v, f.name)) for f in dataclasses.fields(v)]
        elif isinstance(v, Mapping | list | set | bytearray):
            yield path, v
            items = v.items() if isinstance(v, Mapping) else enumerate(v)
            stack += [(f"{path}[{k!r}]", x) for k, x in items]
        elif isinstance(v, tuple | frozenset):
            yield path, v
            stack += [(f"{path}[{i}]", x) for i, x in enumerate(v)]
        elif isinstance(v, np.ndarray):
            yield path, v


def _assert_read_only(value: Any) -> int:
    """Try to write into every container of ``value``; each must refuse. Returns how many
    containers were tried."""
    n = 0
    for path, c in _containers(value):
        n += 1
        assert not isinstance(c, MUTABLE), f"{path} is a mutable {type(c).__name__}"
        if dataclasses.is_dataclass(c):
            name = dataclasses.fields(c)[0].name if dataclasses.fields(c) else "x"
            with pytest.raises(AttributeError):
                setattr(c, name, None)
        elif isinstance(c, Mapping):
            key = next(iter(c), "new")
            with pytest.raises(TypeError):
                c[key] = 99  # type: ignore[index]
            with pytest.raises(TypeError):
                del c[key]  # type: ignore[attr-defined]
            for method in ("update", "setdefault", "pop", "clear"):
                assert not callable(getattr(c, method, None)), f"{path}.{method} exists"
        elif isinstance(c, np.ndarray):
            assert not c.flags.writeable, f"{path} is a writable array"
            if c.size:
                with pytest.raises(ValueError, match="read-only"):
                    c.flat[0] = c.flat[0]
        else:  # tuple, frozenset
            with pytest.raises(AttributeError):
                c.append(1)  # type: ignore[union-attr]
            if isinstance(c, tuple) and c:
                with pytest.raises(TypeError):
                    c[0] = 99  # type: ignore[index]
    return n


def _assert_plain_json(value: Any, path: str = "to_dict()") -> None:
    """Only dict, list, str, int, float, bool and None: what --json and REST print."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), f"{path}: key {k!r}"
            _assert_plain_json(v, f"{path}[{k!r}]")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _assert_plain_json(v, f"{path}[{i}]")
    else:
        assert value is None or isinstance(value, str | int | float), f"{path}: {type(value)}"


def _other_run(value: Any) -> Any:
    """``value`` as if computed by another engine and kernel, in another time."""
    if isinstance(value, Result) and dataclasses.is_dataclass(value):
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.name == "seconds":
                changes[f.name] = v + 123.0
            elif f.name in RUN_METADATA:
                changes[f.name] = f"other-{v}"
            else:
                new = _other_run(v)
                if new is not v:
                    changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        items = tuple(_other_run(v) for v in value)
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def _has_metadata(value: Any) -> bool:
    return any(
        dataclasses.is_dataclass(c) and {f.name for f in dataclasses.fields(c)} & RUN_METADATA
        for _, c in _containers(value)
    )


@pytest.fixture(scope="module")
def results(shop: tuple[Path, Path]) -> dict[str, Result]:
    """Every declared analysis, run once on the contract's shop."""
    db, plan = shop
    out: dict[str, Result] = {}
    with Workspace.open(db) as ws:
        for a in analyses().values():
            params = dict(PARITY.get(a.name, {}))
            if a.name in MAP_ANALYSES:
                params["map"] = str(plan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                out[a.name] = a.compute(ws, a.validate(params))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_result_is_read_only_all_the_way_down(results: dict[str, Result], name: str) -> None:
    r = results[name]
    before = r.to_dict()
    _assert_plain_json(before)
    tried = _assert_read_only(r)
    assert tried >= 2, f"{name}: nothing to try"
    assert r.to_dict() == before, f"{name}: to_dict() changed"
    # the tables still come out
    assert len(r.to_frame().columns) >= 1
    assert r.to_arrow().num_columns >= 1


@pytest.mark.parametrize("name", NAMES)
def test_run_metadata_is_not_part_of_the_value(results: dict[str, Result], name: str) -> None:
    r = results[name]
    other = _other_run(r)
    if _has_metadata(r):
        assert other is not r
        assert other.to_dict() != r.to_dict()
    assert other == r, f"{name}: run metadata takes part in equality"
    try:
        h = hash(r)
    except TypeError:  # unhashable content (a numpy array): equality is what counts
        return
    assert hash(other) == h, f"{name}: run metadata takes part in the hash"
    assert hash(dataclasses.replace(r)) == h


def test_the_issue_examples() -> None:
    """``attribute(...).credits["linear"]["a"] = 99`` refuses and leaves to_dict() alone;
    funnels of another engine / kernel / duration are equal."""
    r = kundresa.attribute(Journeys.from_paths([["a", "b"]], conversions=[1]), model="linear")
    before = r.to_dict()
    with pytest.raises(TypeError, match="does not support item assignment"):
        r.credits["linear"]["a"] = 99  # type: ignore[index]
    assert r.to_dict() == before
    assert before["credits"]["linear"] == {"a": 0.5, "b": 0.5}
    f = FunnelResult(parameters={"steps": ["a"]}, steps=(), units=0, entered=0, excluded=0,
                     trend_period="week", trend=(), breakdown_by=None, attribution="first",
                     breakdown=(), drop_offs=(), engine="duckdb", kernel="fast",
                     seconds=0.1)  # fmt: skip
    g = dataclasses.replace(f, engine="spark", kernel="general", seconds=9.0)
    assert f == g
    assert hash(f) == hash(g)
    assert f != dataclasses.replace(f, units=1)
    assert f.parameters["steps"] == ("a",)


def test_subclass_post_init_runs_before_freezing() -> None:
    """A result's own __post_init__ may still set fields; they are frozen after it."""

    @dataclasses.dataclass(frozen=True)
    class Doubled(Result):
        xs: Any
        doubled: Any = None

        def __post_init__(self) -> None:
            object.__setattr__(self, "doubled", [2 * x for x in self.xs])

    d = Doubled([1, 2])
    assert d.xs == (1, 2)
    assert d.doubled == (2, 4)
    assert pickle.loads(pickle.dumps(d.to_dict())) == {"xs": [1, 2], "doubled": [2, 4]}


def test_arrays_are_read_only_views() -> None:
    """Journeys keep numpy arrays: read-only, the caller's array untouched."""
    j = Journeys.from_paths([["a", "b"], ["b"]], conversions=[1, 0])
    for name in ("offsets", "codes", "seconds_before", "conversions", "value"):
        arr = getattr(j, name)
        assert isinstance(arr, np.ndarray), name
        assert not arr.flags.writeable, name
    mine = np.arange(3)
    assert not freeze(mine).flags.writeable
    assert mine.flags.writeable


def test_frozen_dict_behaves_like_a_read_only_dict() -> None:
    d = FrozenDict({"a": (1, 2), "b": FrozenDict(c=3)})
    assert d == {"a": (1, 2), "b": {"c": 3}}
    assert {"a": (1, 2), "b": {"c": 3}} == d  # noqa: SIM300 (the reflected comparison)
    assert d != {"a": (1, 2)}
    assert d != [("a", (1, 2))]
    assert repr(d) == "{'a': (1, 2), 'b': {'c': 3}}"
    assert hash(d) == hash(freeze({"b": {"c": 3}, "a": [1, 2]}))
    assert pickle.loads(pickle.dumps(d)) == d
    assert copy.deepcopy(d) == d
    assert copy.copy(d) is d
    assert jsonable(d) == {"a": [1, 2], "b": {"c": 3}}
    with pytest.raises(TypeError):
        hash(FrozenDict(a=[1]))  # unhashable values: unhashable, like a tuple of lists
    with pytest.raises(AttributeError):
        d.update(a=1)  # type: ignore[attr-defined]


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=25,
)


def _tuples(value: Any) -> Any:
    """JSON-like data with every list a tuple (what freezing must be equal to)."""
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


@settings(derandomize=True, max_examples=200, deadline=None)
@given(json_like)
def test_freeze_is_equal_and_read_only_throughout(data: Any) -> None:
    frozen = freeze(data)
    assert frozen == _tuples(data)  # equal, lists read as tuples
    assert jsonable(frozen) == data
    assert thaw(frozen) == data
    assert freeze(frozen) is frozen  # idempotent, no copies
    _assert_read_only(frozen)
    assert hash(frozen) == hash(freeze(copy.deepcopy(data)))  # JSON leaves: hashable
    assert pickle.loads(pickle.dumps(frozen)) == frozen
