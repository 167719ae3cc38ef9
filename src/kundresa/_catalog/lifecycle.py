"""Declarations: lifecycle (new / returning / resurrecting / dormant), pulse and stickiness."""

from __future__ import annotations
