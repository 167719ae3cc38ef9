"""Docs that cannot drift (issue 13, point 11).

Every command, quarantine reason and column is documented; every ```python block of
``README.md`` and ``docs/**/*.md`` runs (see :func:`test_python_blocks_run`); every
``kundresa <command> --flag`` written in ``README.md`` and ``docs/*.md`` names an existing
command and a visible flag of it; the ADR index lists every ADR; and the README's promise that
every analysis command takes ``--db``, ``--engine``, ``--json`` and ``--out`` holds.
"""

from __future__ import annotations

import doctest
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kundresa import Workspace, _ingest_sql, schema
from kundresa._cli_docs import commands
from kundresa.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join(
    p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
)


def _reasons() -> set[str]:
    src = Path(_ingest_sql.__file__).read_text()
    # the checks' (reason, field, condition, detail) tuples, one item per line
    found = set(re.findall(r'\(\n\s*"([a-z_]+)",\n\s*"[a-z_]*",\n', src))
    return found | {"malformed_csv_row"}


def test_every_cli_command_is_documented() -> None:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups if g.name}
    missing = [n for n in names if f"kundresa {n}" not in DOCS]
    assert missing == []


def test_every_quarantine_reason_is_documented() -> None:
    reasons = _reasons()
    assert len(reasons) >= 13
    event_model = (ROOT / "docs" / "event-model.md").read_text()
    assert sorted(r for r in reasons if f"`{r}`" not in event_model) == []


@pytest.mark.parametrize("table", [schema.EVENTS, schema.IDENTITIES, schema.QUARANTINE])
def test_every_column_is_documented(table: object) -> None:
    event_model = (ROOT / "docs" / "event-model.md").read_text()
    names = table.names  # type: ignore[attr-defined]
    assert [n for n in names if f"`{n}`" not in event_model] == []


# -- every ```python block runs ------------------------------------------------------------

#: the Markdown files whose Python blocks run: the README and every page under docs/
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: a block opts out only with this marker on the line before its fence, with a reason
NOT_RUN = re.compile(r"^\s*<!--\s*not-run\b:?\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)```\s*([A-Za-z0-9_+-]*)\s*$")
PYTHON = {"python", "py", "pycon", "python3"}
#: files whose examples start from the raw event files alone (they load them themselves);
#: every other file starts where ``kundresa synth`` has run: a loaded ``kundresa.duckdb``
STARTS_FROM_FILES = {"README.md"}


@dataclass(frozen=True)
class Block:
    """One fenced Python block of a Markdown file."""

    path: Path
    line: int  # the fence's line (1-based); the code starts on the next
    code: str
    not_run: str | None  # None: runs; otherwise the reason given ("" = none given)

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence or not fence.group(2):
            i += 1
            continue
        indent, lang, start = fence.group(1), fence.group(2).lower(), i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}:{start + 1}: the ```{lang} block is never closed")
        i += 1
        if lang in PYTHON:
            marker = NOT_RUN.match(lines[start - 1]) if start else None
            reason = marker.group(1).strip() if marker else None
            blocks.append(Block(path, start + 1, "\n".join(body) + "\n", reason))
    return blocks


BLOCKS = {p: python_blocks(p) for p in DOC_FILES}
FILES_WITH_PYTHON = [p for p, blocks in BLOCKS.items() if blocks]


def test_fences_are_well_formed() -> None:
    """A closing fence with text after it (```` ``` more text ````) is no closing fence: the
    block would run on, in the renderer and here."""
    bad = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in DOC_FILES
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"^\s*```+\s+\S", line)
    ]
    assert bad == []


def test_tables_have_as_many_cells_as_their_header() -> None:
    """A ``|`` in a cell must be escaped (``\\|``), inside code spans too (GitHub splits the
    row there): a choice list ``a | b`` in a generated table shifted every column after it."""
    bad = []
    for p in [*DOC_FILES, ROOT / "bench" / "README.md"]:
        header: int | None = None
        in_code = False
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                in_code, header = not in_code, None
                continue
            if in_code or not line.startswith("|"):
                header = None
                continue
            cells = len(re.split(r"(?<!\\)\|", line.strip().strip("|")))
            if header is None:
                header = cells
            elif cells != header:
                bad.append(f"{p.relative_to(ROOT)}:{n}: {cells} cells, the header has {header}")
    assert bad == []


def test_python_blocks_are_collected() -> None:
    """The collection finds the blocks (a broken fence regex would silently test nothing)."""
    names = {p.relative_to(ROOT).as_posix() for p in FILES_WITH_PYTHON}
    assert {"README.md", "docs/funnel.md", "docs/paths.md", "docs/maps.md"} <= names
    assert {"docs/attribution.md", "docs/server.md"} <= names
    assert sum(len(b) for b in BLOCKS.values()) >= 15


@pytest.fixture(scope="module")
def shop_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``kundresa synth --persons 300 --seed 7`` leaves: ``events.parquet``,
    ``truth.json`` and the loaded workspace ``kundresa.duckdb``."""
    from kundresa.synth import synthesize

    folder = tmp_path_factory.mktemp("docs_shop")
    result = synthesize(persons=300, seed=7, out=folder)
    with Workspace.open(folder / "kundresa.duckdb") as ws:
        assert ws.ingest([result.events_path]).quarantined == 0
    return folder


def _run_doctest(block: Block, namespace: dict[str, Any]) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, namespace, block.where, str(block.path), block.line)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    report = io.StringIO()
    result = runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)
    if result.failed:
        pytest.fail(f"{block.where}: doctest failed\n{report.getvalue()}", pytrace=False)


def _run(block: Block, namespace: dict[str, Any]) -> None:
    if any(line.lstrip().startswith(">>>") for line in block.code.splitlines()):
        _run_doctest(block, namespace)
        return
    code = compile("\n" * block.line + block.code, str(block.path), "exec")
    try:
        exec(code, namespace)
    except Exception as exc:
        exc.add_note(f"in the Python block at {block.where}")
        raise


def _close(namespace: dict[str, Any]) -> None:
    """Stop servers and close workspaces the examples left open."""
    for value in list(namespace.values()):
        if type(value).__name__ == "RunningServer":
            value.stop()
    for value in list(namespace.values()):
        if isinstance(value, Workspace):
            value.close()


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """An example may declare an analysis (docs/server.md): the registries are restored."""
    from kundresa import _contract
    from kundresa.server import _registry as registry

    _contract.analyses()  # the built-in declarations load first
    declared, served = dict(_contract._REGISTRY), dict(registry.ANALYSES)
    yield
    _contract._REGISTRY.clear()
    _contract._REGISTRY.update(declared)
    registry.ANALYSES.clear()
    registry.ANALYSES.update(served)


@pytest.mark.usefixtures("clean_registry")
@pytest.mark.parametrize("path", FILES_WITH_PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(
    path: Path, shop_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ```python block of one file, in order, in one namespace, in a fresh folder.

    The folder holds what ``kundresa synth`` leaves (``events.parquet``, ``truth.json`` and a
    loaded ``kundresa.duckdb``); files in :data:`STARTS_FROM_FILES` get the event files only.
    Blocks with ``>>>`` prompts run as doctests (their output is checked). A block opts out
    only with ``<!-- not-run: reason -->`` on the line before its fence.
    """
    folder = tmp_path / "docs"
    shutil.copytree(shop_folder, folder)
    if path.relative_to(ROOT).as_posix() in STARTS_FROM_FILES:
        for extra in folder.glob("kundresa.duckdb*"):
            extra.unlink()
    monkeypatch.chdir(folder)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    ran = 0
    try:
        for block in BLOCKS[path]:
            if block.not_run is None:
                _run(block, namespace)
                ran += 1
    finally:
        _close(namespace)
    assert ran > 0, f"{path}: every block opted out"


NOT_RUN_BLOCKS = [b for blocks in BLOCKS.values() for b in blocks if b.not_run is not None]


@pytest.mark.parametrize("block", NOT_RUN_BLOCKS, ids=lambda b: b.where)
def test_blocks_not_run_say_why(block: Block) -> None:
    """Each opted-out block is reported (a skip naming it and its reason, shown by ``-ra``);
    a marker without a reason fails."""
    assert block.not_run, f"{block.where}: <!-- not-run: ... --> needs a reason"
    pytest.skip(f"docs block {block.where} not run: {block.not_run}")


def test_not_run_markers_sit_on_a_python_fence() -> None:
    """A marker anywhere else (a blank line between, another language) would be ignored."""
    stray = []
    for p in DOC_FILES:
        lines = p.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            if line.lstrip().startswith("<!--") and "not-run" in line:
                fence = FENCE.match(lines[n + 1]) if n + 1 < len(lines) else None
                if not NOT_RUN.match(line) or not fence or fence.group(2).lower() not in PYTHON:
                    stray.append(f"{p.relative_to(ROOT)}:{n + 1}")
    assert stray == [], "put <!-- not-run: reason --> on the line right before ```python"


def test_not_run_blocks_are_few() -> None:
    total = sum(len(b) for b in BLOCKS.values())
    assert len(NOT_RUN_BLOCKS) * 5 <= total, (
        f"{len(NOT_RUN_BLOCKS)} of {total} docs blocks opt out: "
        + ", ".join(f"{b.where} ({b.not_run})" for b in NOT_RUN_BLOCKS)
    )


# -- every `kundresa <command> --flag` in the docs exists ------------------------------------

#: commands the docs write that the built-in CLI does not have, with why
NOT_BUILT_IN = {"hello-events": "declared by docs/server.md's own example of adding one"}
#: pages whose commands are checked (the ADRs are records: they may quote old spellings)
CLI_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SPAN = re.compile(r"`(kundresa [^`]+)`")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9_-]*")


def _tree() -> dict[tuple[str, ...], tuple[set[str], set[str], set[str]]]:
    """Per command path: its subcommands, its visible flags and its hidden flags."""
    tree = {}
    for path, cmd, ctx in commands():
        subs = set(cmd.list_commands(ctx)) if hasattr(cmd, "list_commands") else set()
        visible, hidden = {"--help"}, set()
        for p in cmd.params:
            if p.param_type_name == "option":
                opts = {*p.opts, *getattr(p, "secondary_opts", ())}
                (hidden if p.hidden else visible).update(opts)
        tree[path] = (subs, visible, hidden - visible)
    for path, (subs, _, _) in tree.items():  # hidden commands are not offered
        subs.intersection_update(word for word in list(subs) if (*path, word) in tree)
    return tree


def invocations(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, text after 'kundresa ')`` for every invocation written in ``path``: inline code
    spans that start with ``kundresa``, and lines of fenced code blocks that do (``\\``
    continuations joined; a shell comment, pipe or ``&&`` ends it)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    in_code = False
    pending: tuple[int, str] | None = None
    for n, line in enumerate(lines, 1):
        if not in_code and FENCE.match(line):
            in_code = True
            continue
        if in_code and line.strip() == "```":
            in_code, pending = False, None
            continue
        if in_code:
            if pending is not None:
                start, text = pending
                text += " " + line.strip()
            else:
                cmd = line.strip().removeprefix("$ ")
                if not cmd.startswith("kundresa "):
                    continue
                start, text = n, cmd
            if text.endswith("\\"):
                pending = (start, text[:-1])
                continue
            pending = None
            text = re.split(r"\s#|\s\|\s|&&|;", text)[0]
            yield start, text.removeprefix("kundresa ")
        else:
            for span in SPAN.findall(line):
                yield n, span.removeprefix("kundresa ")


def test_cli_invocations_in_the_docs_exist() -> None:
    tree = _tree()
    problems, seen = [], 0
    for page in CLI_PAGES:
        for line, text in invocations(page):
            where = f"{page.relative_to(ROOT)}:{line}"
            words = text.split()
            if not words or not re.fullmatch(r"[a-z][a-z-]*", words[0]):
                continue  # a placeholder: `kundresa ... --json`, `kundresa <command>`
            path: tuple[str, ...] = ()
            for word in words:
                if word in tree[path][0]:
                    path = (*path, word)
                else:
                    break
            if not path:
                if words[0] not in NOT_BUILT_IN:
                    problems.append(f"{where}: kundresa {words[0]}: no such command")
                continue
            _, visible, hidden = tree[path]
            name = " ".join(("kundresa", *path))
            for flag in FLAG.findall(text):
                seen += 1
                if flag in hidden:
                    problems.append(f"{where}: {name} {flag} is an old spelling (hidden)")
                elif flag not in visible:
                    problems.append(f"{where}: {name} has no option {flag}")
    assert not problems, "\n".join(problems)
    assert seen > 40, seen  # the scan found the invocations


# -- the ADR index, and benchmark diaries out of the ADRs ------------------------------------

ADR = ROOT / "docs" / "adr"


def test_adr_index_lists_every_adr() -> None:
    index = (ADR / "README.md").read_text(encoding="utf-8")
    records = sorted(p.name for p in ADR.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert len(records) >= 12
    assert [r for r in records if f"]({r})" not in index] == [], "not in docs/adr/README.md"
    linked = re.findall(r"\]\(([0-9]{4}-[^)]+\.md)\)", index)
    assert [r for r in linked if not (ADR / r).exists()] == [], "index links a missing ADR"
    for r in records:  # each record's title carries its number
        title = (ADR / r).read_text(encoding="utf-8").splitlines()[0]
        assert title.startswith(f"# {r[:4]}"), f"{r}: title {title!r}"


def test_benchmark_diaries_live_in_bench() -> None:
    """ADRs keep the decision and its reasons; measured timings of a session (load averages,
    best-of rounds, peak memory) go to ``bench/README.md``."""
    diary = re.compile(r"load average|best of \d|peak RSS|Measured \(bench/", re.I)
    found = [
        f"{p.name}:{n}"
        for p in sorted(ADR.glob("*.md"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if diary.search(line)
    ]
    assert found == [], "move the timings to bench/README.md (leave a one-line pointer)"


# -- the README's promise: every analysis command takes --db, --engine, --json, --out --------

README_CLAIM = re.compile(
    r"Every analysis\s+command takes `--db`.*?`--engine`.*?`--json`\s+and\s+`--out FILE`", re.S
)


def test_every_analysis_command_takes_db_engine_json_out() -> None:
    from kundresa._contract import analyses

    assert README_CLAIM.search((ROOT / "README.md").read_text(encoding="utf-8")), (
        "the README's sentence 'Every analysis command takes --db, --engine, --json and --out "
        "FILE' is gone: keep the promise written where users read it"
    )
    found = {path: cmd for path, cmd, _ in commands()}
    envvars = {"--db": "KUNDRESA_DB", "--engine": "KUNDRESA_ENGINE"}
    checked = 0
    for a in analyses().values():
        cmd = found.get(tuple(a.command))
        assert cmd is not None, f"{a.name}: no command kundresa {' '.join(a.command)}"
        options = {
            o: p
            for p in cmd.params
            if p.param_type_name == "option" and not p.hidden
            for o in p.opts
        }
        missing = [f for f in ("--db", "--engine", "--json", "--out") if f not in options]
        assert missing == [], f"kundresa {' '.join(a.command)} lacks {missing}"
        for flag, var in envvars.items():
            assert options[flag].envvar == var, f"kundresa {' '.join(a.command)} {flag}"
        checked += 1
    assert checked >= 17, checked
