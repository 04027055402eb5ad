"""The web app: subscribe, confirm, unsubscribe, preferences, archive, feeds, webhooks."""

from __future__ import annotations

from syndicate.web.app import ROUTES, create_app

__all__ = ["ROUTES", "create_app"]
