"""Lazy package attributes (PEP 562): a public name is imported on first use.

``import kundresa`` (and the CLI, which lists its commands from declarations) must not pay
for Ibis, Arrow, DuckDB or numba; the names a package exports are resolved from
``exports`` (name -> home module) when first read, then kept in the package's namespace.

>>> import types
>>> pkg = types.ModuleType("demo_pkg")
>>> getattr_, dir_ = lazy(pkg, {"dedent": "textwrap"})
>>> "dedent" in dir_() and "dedent" not in vars(pkg)
True
>>> getattr_("dedent")("  x")
'x'
>>> "dedent" in vars(pkg)
True
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy"]


class _Package(types.ModuleType):
    """A package module whose exported names win over same-named subpackages.

    ``kundresa.funnel`` is the function, as it was when the front door imported eagerly:
    the import system records a subpackage on its parent (``kundresa.funnel = <module>``)
    when it is first imported, which would shadow the function; this keeps the function.
    """

    _shadowed: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._shadowed and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


def lazy(
    package: types.ModuleType | str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package`` for its lazy ``exports``.

    ``exports`` maps each public name to the module that defines it. A name whose home is
    the package's own subpackage of that name (``kundresa.funnel``) stays the object, not
    the subpackage.
    """
    module = sys.modules[package] if isinstance(package, str) else package
    shadowed = frozenset(n for n, home in exports.items() if home == f"{module.__name__}.{n}")
    if shadowed and type(module) is types.ModuleType:
        module.__class__ = type("_Package", (_Package,), {"_shadowed": shadowed})

    def getattr_(name: str) -> Any:
        home = exports.get(name)
        if home is None:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(module, name, value)
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(module)) | set(exports))

    return getattr_, dir_
