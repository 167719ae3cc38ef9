"""The ``kundresa`` command line: the console entry point (``kundresa = kundresa.cli:main``).

``app`` is the Typer application (every analysis's command comes from its declaration,
see ``docs/cli.md``); ``main`` runs it and turns user errors into one line and exit
status 2. ``python -m kundresa`` and ``python -m kundresa.cli`` run it too.

>>> from kundresa.cli import app, main
>>> app.info.name
'kundresa'
"""

from kundresa._cli import app, main
from kundresa._public import publish as _publish

__all__ = ["app", "main"]

_publish(__name__, [main])

if __name__ == "__main__":
    main()
