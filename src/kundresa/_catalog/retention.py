"""Declarations: retention (cohort tables: PostHog, Amplitude and Mixpanel semantics)."""

from __future__ import annotations
