"""CLI: ``kundresa retention-policy`` (see :mod:`kundresa._retention`).

Registered by ``kundresa._cli`` as an extension; the engine loads only when the command runs.
"""

from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``retention-policy`` to the ``kundresa`` command."""
    # imported here: kundresa._cli imports this module while it registers extensions
    from kundresa._cli_common import DbOpt, EngineOpt, JsonOpt, emit, open_workspace

    @app.command("retention-policy")
    def retention_policy(
        events: Annotated[
            str | None,
            typer.Option(
                "--events",
                help="Keep events this long by their event time, e.g. 400d (none: for ever).",
            ),
        ] = None,
        quarantine: Annotated[
            str | None,
            typer.Option(
                "--quarantine", help="Keep quarantined rows this long, e.g. 30d (none: for ever)."
            ),
        ] = None,
        off: Annotated[bool, typer.Option("--off", help="Remove the whole policy.")] = False,
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        as_json: JsonOpt = False,
    ) -> None:
        """Show or set how long the workspace keeps events and quarantined rows.

        Without options: the policy in force. With options: the policy is stored in the
        workspace and applied at once: older events (and the identities, links and sessions
        derived only from them) and older quarantined rows are deleted and the DuckDB file is
        rewritten so no deleted byte remains, as ``forget`` does. Later arrivals older than the
        events horizon are dropped and counted. A running server applies it hourly too, and
        this command goes through it (it also erases its SQLite inbox).
        """
        from kundresa._beside import forward_retention
        from kundresa._retention import (
            RetentionPolicy,
            apply_retention,
            retention_policy,
            set_retention_policy,
            updated_policy,
        )

        given = events is not None or quarantine is not None or off
        body: dict[str, object] | None = None
        if given:  # validated here, so a forwarded mistake is the same one line
            updated_policy(RetentionPolicy(), events=events, quarantine=quarantine, off=off)
            body = {"events": events, "quarantine": quarantine, "off": off}
        if forward_retention(db, engine, body, as_json):
            return
        with open_workspace(db, engine) as ws:
            current = retention_policy(ws)
            if not given:
                emit(current, as_json)
                return
            policy = set_retention_policy(
                ws, updated_policy(current, events=events, quarantine=quarantine, off=off)
            )
            emit(apply_retention(ws, policy=policy), as_json)
