"""CLI commands: feeds publish."""

from __future__ import annotations
