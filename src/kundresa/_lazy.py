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


def lazy(
    package: types.ModuleType | str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package`` for its lazy ``exports``.

    ``exports`` maps each public name to the module that defines it. A name whose home is
    the package's own subpackage of that name (``kundresa.funnel``) is that subpackage
    (which may be callable, as ``kundresa.funnel`` is). A class or function read from a
    private module reports the package as its ``__module__``: its home module publishes it
    when it loads (:func:`~kundresa._public.publish_from`).
    """
    module = sys.modules[package] if isinstance(package, str) else package

    def getattr_(name: str) -> Any:
        home = exports.get(name)
        if home is None:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        source = importlib.import_module(home)
        value = source if home == f"{module.__name__}.{name}" else getattr(source, name)
        setattr(module, name, value)
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(module)) | set(exports))

    return getattr_, dir_
