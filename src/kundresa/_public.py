"""Public names report their public home (``__module__``), as httpx's do.

Implementation modules are private (``kundresa.funnel._result``); a class or function
exported by a public namespace (``kundresa``, ``kundresa.funnel``, ``kundresa.maps``, ...)
gets that namespace as its ``__module__``, so reprs, ``help()``, pickles and docs name
the import users should write. The module it is written in is kept in ``_defined_in``
(the doctest collector in ``conftest.py`` uses it, so no docstring example is lost).

>>> import types
>>> ns = types.ModuleType("demo")
>>> def f() -> None: ...
>>> f.__module__ = "demo._impl"
>>> publish("demo", [f])
>>> f.__module__, f._defined_in
('demo', 'demo._impl')
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["is_private", "publish"]


def is_private(module: str) -> bool:
    """Whether the dotted module path has a private segment.

    >>> is_private("kundresa.funnel._result"), is_private("kundresa.funnel")
    (True, False)
    """
    return any(part.startswith("_") for part in module.split("."))


def publish(namespace: str, objects: Iterable[Any]) -> None:
    """Set ``__module__`` of each class or function defined in a private module to ``namespace``.

    Objects already at a public home (exported by a subpackage first) and values that are
    not classes or functions (constants, mappings) are left as they are.
    """
    for obj in objects:
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        home = getattr(obj, "__module__", None)
        if not isinstance(home, str) or not is_private(home) or is_private(namespace):
            continue
        if "_defined_in" not in vars(obj):
            setattr(obj, "_defined_in", home)  # noqa: B010 (a class or a function)
        obj.__module__ = namespace


def publish_from(module: str) -> None:
    """Publish the names that a lazy package (``kundresa``, its parent package) exports
    from ``module``: called at the end of each such home module, so ``__module__`` is the
    public home however the name was first reached (``kundresa.X`` or an internal import).

    >>> import kundresa._errors as e
    >>> e.NotFoundError.__module__
    'kundresa'
    """
    defined = sys.modules[module]
    parent = module.rpartition(".")[0]
    for package in dict.fromkeys(("kundresa", parent)):
        exports = getattr(sys.modules.get(package), "_EXPORTS", None) or {}
        publish(package, [getattr(defined, n) for n, home in exports.items() if home == module])
