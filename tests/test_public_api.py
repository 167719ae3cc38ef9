"""The front door: ``kundresa.__all__`` is exactly the public surface, and it is documented."""

from __future__ import annotations

import inspect

import pytest

import kundresa
from kundresa import _errors as errors


def test_all_equals_public_names() -> None:
    public = {n for n in dir(kundresa) if not n.startswith("_")}
    modules = {n for n in public if inspect.ismodule(getattr(kundresa, n))}
    assert public - modules == set(kundresa.__all__) - {"__version__"}


@pytest.mark.parametrize("name", [n for n in kundresa.__all__ if n != "__version__"])
def test_every_public_name_has_a_docstring_with_an_example(name: str) -> None:
    obj = getattr(kundresa, name)
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    module_doc = inspect.getdoc(inspect.getmodule(obj)) or ""
    assert ">>>" in doc or ">>>" in module_doc, f"{name}: no runnable example"


def test_errors_form_one_hierarchy_with_builtin_leaves() -> None:
    leaves = [
        errors.InvalidOptionError,
        errors.NotFoundError,
        errors.FileFormatError,
        errors.EngineUnavailableError,
    ]
    builtins = [ValueError, LookupError, ValueError, RuntimeError]
    for leaf, builtin in zip(leaves, builtins, strict=True):
        assert issubclass(leaf, errors.KundresaError)
        assert issubclass(leaf, builtin)
    e = errors.NotFoundError("event", "Order Complete", candidates=["Order Completed", "Zzz"])
    assert str(e) == "event: 'Order Complete' not found; did you mean: Order Completed"
