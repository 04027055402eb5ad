"""The mail provider registry: one ``MailProvider`` declaration per provider.

``build_mailer`` used to be an if-chain over provider names; each provider module now
owns its factory (``build``) and this table pairs it with the provider's name and its
own settings (the ``[mail.<name>]`` table, validated by its model in
``syndicate/core/config.py``). Adding a provider is one module plus one line here (see
docs/architecture.md, "Extension points"). What a provider can do beyond
``send_batch`` (its batch size, a rate gate) is declared on the mailer itself through
the protocols in ``base.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from syndicate.core.config import (
    MailgunSettings,
    MailSettings,
    PostmarkSettings,
    SendgridSettings,
    SesSettings,
    Settings,
    SmtpSettings,
)
from syndicate.delivery.mailers import maildir, mailgun, postmark, sendgrid, ses, smtp
from syndicate.delivery.mailers.base import Mailer


@dataclass(frozen=True)
class MailProvider:
    """Everything the code knows about one mail provider."""

    name: str  # the value of ``[mail] provider``
    factory: Callable[[Settings], Mailer]
    # The model of the provider's own table, and how to find it in ``[mail]`` (None:
    # the provider's only setting is a plain ``[mail]`` key, like ``maildir``).
    settings_model: type[BaseModel] | None = None
    table: Callable[[MailSettings], Any] | None = None


PROVIDERS: dict[str, MailProvider] = {}


def register(provider: MailProvider) -> MailProvider:
    PROVIDERS[provider.name] = provider
    return provider


def provider(name: str) -> MailProvider:
    return PROVIDERS[name]


register(MailProvider("maildir", maildir.build))
register(MailProvider("smtp", smtp.build, SmtpSettings, lambda mail: mail.smtp))
register(MailProvider("mailgun", mailgun.build, MailgunSettings, lambda mail: mail.mailgun))
register(MailProvider("sendgrid", sendgrid.build, SendgridSettings, lambda mail: mail.sendgrid))
register(MailProvider("postmark", postmark.build, PostmarkSettings, lambda mail: mail.postmark))
register(MailProvider("ses", ses.build, SesSettings, lambda mail: mail.ses))
