"""Doctest collection that follows a public name to the file it is written in.

Public classes and functions report their public home as ``__module__``
(``kundresa._public.publish``); the standard doctest finder would then skip their
docstrings in the private module that defines them (and the public package does not
define them either), losing examples silently. ``_defined_in`` names the defining module;
``tests/test_public_api.py`` checks that every ``>>>`` line in the package is collected.
"""

from __future__ import annotations

import doctest
from typing import Any

_from_module = doctest.DocTestFinder._from_module


def _defined_in_module(self: doctest.DocTestFinder, module: Any, obj: Any) -> bool:
    home = vars(obj).get("_defined_in") if hasattr(obj, "__dict__") else None
    if module is not None and isinstance(home, str):
        return bool(home == module.__name__)
    return bool(_from_module(self, module, obj))  # type: ignore[arg-type]


doctest.DocTestFinder._from_module = _defined_in_module  # type: ignore[method-assign]
