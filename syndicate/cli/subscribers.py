"""CLI commands: subscribers."""

from __future__ import annotations

from .base import main_group  # noqa: F401
