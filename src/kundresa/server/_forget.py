"""Forgetting a person together with the collector's inbox (issue 14, right to erasure).

Calls the collector acknowledged but the loader has not moved yet sit in the SQLite inbox;
a SIGKILL leaves them there until the next start. ``Workspace.forget`` alone sees only the
event store, so the person would come back from the inbox. :func:`forget_everywhere` loads
the inbox first (``Workspace.forget`` stitches what it loaded, so the person's new devices
are found), erases, puts the new tombstones in force at the collector, loads once more (a
call accepted meanwhile meets the tombstones in the loader), and then vacuums the state file
and truncates its WAL. The running server (``POST /api/v1/forget``) and ``kundresa forget``
while no server runs (after a crash) both use it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kundresa.server._tombstones import stored_tombstones

if TYPE_CHECKING:
    from kundresa._workspace import ForgetResult, Workspace
    from kundresa.server._loader import Loader

__all__ = ["forget_everywhere"]


def forget_everywhere(ws: Workspace, loader: Loader, identifier: str, id_type: str) -> ForgetResult:
    """Forget one person in the store *and* the inbox of ``loader``'s state file; the report
    counts the inbox requests loaded first (``inbox``) and names the state file among the
    files rewritten. Hold the server's lock while it runs.

    >>> import tempfile, pathlib, threading
    >>> from kundresa._workspace import Workspace
    >>> from kundresa.server._loader import Loader
    >>> from kundresa.server._state import ServerState, state_path
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"
    >>> ws = Workspace.open(str(db))
    >>> loader = Loader(ws, ServerState(state_path(db)), threading.RLock())
    >>> print(forget_everywhere(ws, loader, "u-1", "user_id"))
    no such person; nothing deleted
    >>> loader.close(); ws.close()
    """
    loader.prepare()
    drained = 0
    while moved := loader.load_once():
        drained += moved
    result = ws.forget(identifier, id_type=id_type)
    if loader.tombstones is not None:
        loader.tombstones.update(stored_tombstones(ws.store))
    # one more chunk: calls accepted meanwhile meet the tombstones in the loader (bounded:
    # under a steady stream the loader thread takes the rest, with the same check)
    drained += loader.load_once()
    loader.state.erase_deleted()
    loader.dirty = True  # restitch: persons changed (and cached results expire)
    rewritten = (*result.rewritten, str(loader.state.path))
    return replace(result, inbox=drained, rewritten=rewritten)


def forget_offline(ws: Workspace, identifier: str, id_type: str) -> ForgetResult:
    """``kundresa forget`` while no server runs: when the workspace has a server state file
    (it was served, maybe SIGKILLed with calls still in its inbox), forget through that
    inbox as a running server would; else plain :meth:`Workspace.forget`.

    >>> import tempfile, pathlib
    >>> from kundresa._workspace import Workspace
    >>> ws = Workspace.open(str(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"))
    >>> forget_offline(ws, "u-1", "user_id").inbox
    0
    """
    import threading

    from kundresa.server._loader import Loader
    from kundresa.server._state import ServerState, state_path
    from kundresa.server._tombstones import Tombstones

    path = str(getattr(ws.store, "path", "") or "")
    state_file = state_path(path) if path and path != ":memory:" else None
    if state_file is None or not state_file.exists():
        return ws.forget(identifier, id_type=id_type)
    tombstones = Tombstones(ws.salt, ws.identifier_rules(), stored_tombstones(ws.store))
    loader = Loader(ws, ServerState(state_file), threading.RLock(), tombstones=tombstones)
    try:
        return forget_everywhere(ws, loader, identifier, id_type)
    finally:
        loader.close()
