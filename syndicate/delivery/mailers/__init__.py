"""Mail providers behind one interface (``base.Mailer``); ``build_mailer`` picks one
from the provider registry (``registry.py``: one line per provider).

maildir (the embedded default) and smtp send the bytes ``messages`` built; the HTTP
APIs (mailgun, sendgrid, postmark) and Amazon SES take their batch shapes. Secrets
come from the environment variables the config names and are never logged.
"""

from __future__ import annotations

from syndicate.core.config import Settings
from syndicate.delivery.mailers.base import Mailer, OutgoingMessage, SendResult
from syndicate.delivery.mailers.registry import provider

__all__ = ["Mailer", "OutgoingMessage", "SendResult", "build_mailer"]


def build_mailer(settings: Settings) -> Mailer:
    """The mailer ``[mail] provider`` names, configured and ready (connects lazily)."""
    return provider(settings.mail.provider).factory(settings)
