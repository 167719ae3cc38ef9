"""The built-in analyses' declarations (one module per area; see :mod:`kundresa._contract`).

These modules import only the contract: listing every command costs no engine import. Each
``run`` function imports the library inside its body.
"""
