"""Declarations: customer lifetime value and P(alive) from the engine's RFM summary."""

from __future__ import annotations
