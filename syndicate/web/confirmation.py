"""The double opt-in email: one message, built with ``messages`` and sent at once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from syndicate.core.i18n import translator
from syndicate.core.render import render
from syndicate.core.tokens import Signer
from syndicate.delivery.mailers.base import OutgoingMessage
from syndicate.delivery.messages import EditionContent, prepare, recipient_for
from syndicate.readers.subscribers import Subscriber
from syndicate.service.context import App

log = logging.getLogger(__name__)


def confirm_url(app: App, signer: Signer, subscriber_id: int) -> str:
    expires = app.clock.now() + timedelta(days=app.settings.web.confirm_days)
    token = signer.make("confirm", subscriber_id, expires)
    return f"{app.settings.web_base_url}confirm/{token}"


def send_confirmation(app: App, signer: Signer, subscriber: Subscriber) -> None:
    """Mail the confirmation link.

    A transactional mail (``list_id=None``): no List-Unsubscribe, since the person is
    not subscribed yet. Failures are logged by id, never shown to the visitor (the
    answer to the form must not depend on the address).
    """
    settings = app.settings
    now = app.clock.now()
    titles = {d.name: d.title for d in settings.digests}
    language = settings.site.language
    t = translator(language, settings.templates_dir)
    context: dict[str, Any] = {
        "site": settings.site,
        "language": language,
        "confirm_url": confirm_url(app, signer, subscriber.id),
        "digests": [titles[name] for name in subscriber.digests if name in titles],
        "confirm_days": settings.web.confirm_days,
    }
    content = EditionContent(
        edition_id=None,
        digest="",
        subject=t.gettext("Confirm your subscription to %(title)s")
        % {"title": settings.site.title},
        html=render(settings.templates_dir, "email/confirm.html", **context),
        text=render(settings.templates_dir, "email/confirm.txt", **context),
        from_addr=settings.mail.from_,
        reply_to=settings.mail.reply_to,
        list_id=None,
        date=now,
    )
    recipient = recipient_for(
        settings,
        signer,
        delivery_id=None,
        subscriber_id=subscriber.id,
        email=subscriber.email,
        name=subscriber.name,
        edition_id=None,
        now=now,
    )
    mailer = app.mailer()
    try:
        [result] = mailer.send_batch([OutgoingMessage(prepare(content, settings), recipient)])
    finally:
        mailer.close()
    if result.outcome != "sent":
        log.warning(
            "confirmation for subscriber %s not sent: %s %s",
            subscriber.id,
            result.outcome,
            result.error,
        )
    else:
        log.info("confirmation sent to subscriber %s", subscriber.id)
