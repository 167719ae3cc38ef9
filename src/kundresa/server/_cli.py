"""CLI: ``kundresa serve``, ``kundresa keys create|list|revoke``, ``kundresa users ...``.

Keys and users live in the server state file beside the workspace (``<db>.server.sqlite``),
so these commands work while ``kundresa serve`` runs.
"""

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from kundresa.server._state import ServerState

__all__ = ["register"]


def _state(db: str | None) -> "ServerState":
    import os

    from kundresa._workspace import DEFAULT_DB
    from kundresa.server._state import ServerState, state_path

    return ServerState(state_path(db or os.environ.get("KUNDRESA_DB", DEFAULT_DB)))


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``keys`` and ``users`` to the ``kundresa`` command."""
    # imported here: kundresa._cli imports this module while it registers extensions
    from kundresa._cli_common import DbOpt, EngineOpt, JsonOpt

    @app.command()
    def serve(
        db: DbOpt = None,
        engine: EngineOpt = "duckdb",
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        stitch_interval: Annotated[
            float, typer.Option(help="Seconds between stitches while events arrive.")
        ] = 2.0,
        fault_5xx_after_write: Annotated[
            int, typer.Option(hidden=True, help="Tests: answer 500 after storing N requests.")
        ] = 0,
        fault_5xx_first_attempt: Annotated[
            bool, typer.Option(hidden=True, help="Tests: answer 500 to each batch's first try.")
        ] = False,
        hold_loader: Annotated[
            bool, typer.Option(hidden=True, help="Tests: load the inbox only on forget or stop.")
        ] = False,
        max_pending_events: Annotated[
            int, typer.Option(help="Answer 429 when this many events wait to be loaded.")
        ] = 2_000_000,
        key_rate: Annotated[
            float,
            typer.Option(help="Calls a second one write key may send (0: unlimited)."),
        ] = 5_000,
        key_burst: Annotated[
            int, typer.Option(help="Calls one write key may send at once above its rate.")
        ] = 50_000,
        retention_interval: Annotated[
            float,
            typer.Option(
                help="Seconds between applications of the retention policy (also at start)."
            ),
        ] = 3600.0,
        map_files: Annotated[
            list[str] | None,
            typer.Option(
                "--map",
                help="Journey-map file (or folder of them) to show and edit on /map; repeatable.",
            ),
        ] = None,
    ) -> None:
        """Run the collector (Segment HTTP API), the REST API and the web app."""
        from kundresa.server import serve as run

        run(
            db,
            engine=engine,
            host=host,
            port=port,
            echo=typer.echo,
            stitch_interval=stitch_interval,
            fault_5xx_after_write=fault_5xx_after_write,
            fault_5xx_first_attempt=fault_5xx_first_attempt,
            hold_loader=hold_loader,
            max_pending_events=max_pending_events,
            key_rate=key_rate,
            key_burst=key_burst,
            retention_interval=retention_interval,
            maps=tuple(map_files or ()),
        )

    keys = typer.Typer(help="API keys: write keys for the collector, read keys for the API.")
    app.add_typer(keys, name="keys")

    @keys.command("create")
    def keys_create(
        name: Annotated[str, typer.Option("--name", help="What the key is for (e.g. website).")],
        kind: Annotated[str, typer.Option(help="write (collector) or read (REST API).")] = "write",
        db: DbOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Create a key and print it once (only its hash is stored)."""
        st = _state(db)
        key, token = st.create_key(name, kind)
        if as_json:
            typer.echo(json.dumps({**key.to_dict(), "key": token}, indent=2))
            return
        typer.echo(token)
        typer.echo(f"created {kind} key {key.name!r} (id {key.id}); it is shown only now", err=True)

    @keys.command("list")
    def keys_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
        """List keys (name, kind, first characters, created, revoked)."""
        st = _state(db)
        rows = st.list_keys()
        if as_json:
            typer.echo(json.dumps([k.to_dict() for k in rows], indent=2))
            return
        if not rows:
            typer.echo("no keys yet: kundresa keys create --name website")
        for k in rows:
            state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
            typer.echo(f"{k.id}  {k.name:<20} {k.kind:<6} {k.prefix}...  {k.created_at}  {state}")

    @keys.command("revoke")
    def keys_revoke(
        key: Annotated[str, typer.Argument(help="The key's id or name.")],
        db: DbOpt = None,
    ) -> None:
        """Revoke a key (by id or name); a running server refuses it within 2 seconds."""
        st = _state(db)
        for k in st.revoke_key(key):
            typer.echo(f"revoked {k.kind} key {k.name!r} ({k.id})")

    users = typer.Typer(help="Web app users (passwords hashed with scrypt).")
    app.add_typer(users, name="users")

    @users.command("set")
    def users_set(
        name: Annotated[str, typer.Argument(help="User name.")],
        db: DbOpt = None,
        password: Annotated[
            str | None,
            typer.Option(help="Password (default: ask; or $KUNDRESA_PASSWORD)."),
        ] = None,
        lang: Annotated[str | None, typer.Option(help="en, sv or nb.")] = None,
    ) -> None:
        """Create a user or set a user's password."""
        import os

        pw = password or os.environ.get("KUNDRESA_PASSWORD")
        if not pw:
            pw = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        st = _state(db)
        st.set_user(name, pw, lang)
        typer.echo(f"user {name!r} saved")

    @users.command("list")
    def users_list(db: DbOpt = None) -> None:
        """List user names."""
        st = _state(db)
        for u in st.users():
            typer.echo(u)

    @users.command("delete")
    def users_delete(name: Annotated[str, typer.Argument()], db: DbOpt = None) -> None:
        """Delete a user and end their sessions."""
        st = _state(db)
        st.delete_user(name)
        typer.echo(f"user {name!r} deleted")
