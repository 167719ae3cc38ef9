"""Declarations: repeat purchase, RFM scores and segments, ambassadors."""

from __future__ import annotations
