"""Labels of the clv pages and their forms' parameters, in English, Swedish and Norwegian
(bokmål). :mod:`kundresa.server._i18n` merges them into its ``LABELS``."""

from __future__ import annotations

__all__ = ["ANALYSIS_LABELS"]

#: label key -> language -> text
ANALYSIS_LABELS: dict[str, dict[str, str]] = {}
