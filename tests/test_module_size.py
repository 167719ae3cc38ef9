"""No module of the package is over 800 lines (a project rule): a longer one is split along
its seams into private modules (as ``kundresa.synth._generator`` was into ``_tables`` and
``_sim``)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "kundresa"
MAX_LINES = 800


def too_long(root: Path, limit: int = MAX_LINES) -> dict[str, int]:
    """The ``.py`` files under ``root`` with more than ``limit`` lines, by path."""
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found[str(path.relative_to(root.parent))] = lines
    return found


def test_no_module_is_over_800_lines() -> None:
    assert len(list(PACKAGE.rglob("*.py"))) > 50  # the package was found
    over = too_long(PACKAGE)
    assert over == {}, "over 800 lines (split along its seams): " + ", ".join(
        f"{name} ({n} lines)" for name, n in over.items()
    )


def test_the_check_counts_lines(tmp_path: Path) -> None:
    """A file of 801 lines is reported with its name and count; 800 lines is allowed."""
    pkg = tmp_path / "kundresa"
    pkg.mkdir()
    (pkg / "ok.py").write_text("x = 1\n" * 800)
    (pkg / "long.py").write_text("x = 1\n" * 801)
    assert too_long(pkg) == {"kundresa/long.py": 801}
