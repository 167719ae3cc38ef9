"""The public surface, as httpx keeps it (issue 13, point 6).

Implementation modules are private; the public namespaces are ``kundresa`` and the
modules in ``PUBLIC``. Each namespace's ``__all__`` is exactly its public names, every
public class and function names its public home as ``__module__`` (and can be found
there, so pickles and docs point at the import users write), and no docstring example is
lost to that (the doctest collector follows ``_defined_in``; see ``conftest.py``).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pickle
import re
from pathlib import Path

import pytest

import kundresa
from kundresa import _errors as errors
from kundresa._public import is_private

SRC = Path(__file__).resolve().parents[1] / "src"
#: the public modules besides ``kundresa`` itself; everything else has a private name
PUBLIC = ("attribution", "cli", "funnel", "loyalty", "maps", "paths", "schema", "server", "synth")
NAMESPACES = ["kundresa", *(f"kundresa.{m}" for m in PUBLIC)]


def _module_names() -> list[str]:
    names = []
    for path in sorted((SRC / "kundresa").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def _origin(value: object) -> str:
    """The module that wrote ``value`` (classes and functions), else ``""``."""
    if not (inspect.isclass(value) or inspect.isfunction(value)):
        return ""
    return str(vars(value).get("_defined_in", value.__module__))


def test_implementation_modules_are_private() -> None:
    public = [n for n in _module_names() if not is_private(n) and n != "kundresa"]
    assert sorted(public) == sorted(f"kundresa.{m}" for m in PUBLIC)


def test_all_equals_public_names() -> None:
    public = {n for n in dir(kundresa) if not n.startswith("_")}
    modules = {n for n in public if inspect.ismodule(getattr(kundresa, n))}
    assert modules <= set(PUBLIC), f"non-public modules on kundresa: {modules - set(PUBLIC)}"
    assert public - modules == set(kundresa.__all__) - {"__version__"} - modules


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_namespace_all_is_exact_and_resolves(namespace: str) -> None:
    module = importlib.import_module(namespace)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), f"{namespace}.__all__ repeats a name"
    for name in exported:
        getattr(module, name)  # every listed name resolves (lazy ones too)
    # every public-looking kundresa object in the namespace is listed (stdlib imports aside)
    unlisted = sorted(
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and n not in exported
        and not inspect.ismodule(v)
        and str(
            vars(v).get("_defined_in", getattr(v, "__module__", None))
            if hasattr(v, "__dict__")
            else ""
        ).startswith("kundresa")
    )
    assert not unlisted, f"{namespace}: public but not in __all__: {unlisted}"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_public_names_report_a_public_home(namespace: str) -> None:
    module = importlib.import_module(namespace)
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        home = obj.__module__
        assert not is_private(home), f"{namespace}.{name}.__module__ is {home!r}"
        assert getattr(importlib.import_module(home), obj.__name__) is obj, (
            f"{namespace}.{name}: not reachable as {home}.{obj.__name__}"
        )


def test_kundresa_funnel_is_the_package_and_calls_the_function() -> None:
    import kundresa.funnel

    assert inspect.ismodule(kundresa.funnel)
    assert kundresa.funnel.__name__ == "kundresa.funnel"
    assert inspect.signature(kundresa.funnel) == inspect.signature(kundresa.funnel.funnel)
    assert kundresa.FunnelResult.__module__ == "kundresa.funnel"
    assert kundresa.IdentifierRule.__module__ == "kundresa"
    assert kundresa.Workspace.__module__ == "kundresa"


def test_results_and_errors_pickle_through_their_public_home() -> None:
    step = kundresa.Step("Order Completed", optional=True)
    assert pickle.loads(pickle.dumps(step)) == step
    journeys = kundresa.Journeys.from_paths([["search", "web"], ["web"]], conversions=[1, 0])
    credits = kundresa.attribute(journeys, model="last")
    assert pickle.loads(pickle.dumps(credits)).to_dict() == credits.to_dict()
    err = pickle.loads(pickle.dumps(kundresa.InvalidOptionError("window", "x", fix="use 7d")))
    assert isinstance(err, kundresa.InvalidOptionError)


def test_no_docstring_example_is_lost() -> None:
    """Every ``>>>`` line in the package is collected by the doctest finder pytest uses."""
    lost = []
    for name in _module_names():
        source = (SRC / Path(*name.split("."))).with_suffix(".py")
        if not source.exists():
            source = SRC / Path(*name.split(".")) / "__init__.py"
        written = len(re.findall(r"^\s*>>> ", source.read_text(encoding="utf-8"), re.M))
        if not written:
            continue
        found = doctest.DocTestFinder(exclude_empty=True).find(importlib.import_module(name), name)
        collected = sum(len(t.examples) for t in found)
        if collected != written:
            lost.append(f"{name}: {written} written, {collected} collected")
    assert not lost, lost


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


def _callables() -> list[tuple[str, object]]:
    found: dict[int, tuple[str, object]] = {}
    for namespace in NAMESPACES:
        module = importlib.import_module(namespace)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found[id(obj)] = (f"{namespace}.{name}", obj)
            elif inspect.isclass(obj) and _origin(obj).startswith("kundresa"):
                for attr, member in vars(obj).items():
                    fn = getattr(member, "__func__", member)
                    if inspect.isfunction(fn) and not attr.startswith("_"):
                        found[id(fn)] = (f"{namespace}.{name}.{attr}", fn)
    return sorted(found.values(), key=lambda kv: kv[0])


def test_workspace_parameters_are_typed() -> None:
    """Issue 13: no ``Any``-typed workspace parameter in a public signature."""
    untyped = []
    for where, fn in _callables():
        for pname, param in inspect.signature(fn).parameters.items():  # type: ignore[arg-type]
            if pname in {"ws", "workspace"}:
                annotation = str(getattr(param.annotation, "__name__", param.annotation))
                if "Workspace" not in annotation:
                    untyped.append(f"{where}({pname}: {annotation})")
    assert len(_callables()) > 60
    assert not untyped, untyped
