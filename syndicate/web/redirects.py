"""``/r/<token>``: a counted link from a digest (``[stats] clicks = "aggregate"``).

The redirect goes only to the URL signed into the token; a forged or altered token is a
400, never a redirect. The count is per (edition, link): nothing about the reader.
A token keeps redirecting after counting is turned off (old mails keep working).
"""

from __future__ import annotations

import logging

from flask import Response, redirect, request
from sqlalchemy.exc import IntegrityError

from syndicate.core.db import transaction
from syndicate.core.errors import TokenError
from syndicate.delivery import clicks
from syndicate.web.context import Web

log = logging.getLogger(__name__)


def click(web: Web, token: str) -> Response:
    try:
        edition_id, url = clicks.resolve(web.signer, token, web.app.clock.now())
    except TokenError as exc:
        return web.page(
            "message.html",
            status=400,
            private=True,
            title="This link does not work",
            message=exc.message,
            hint=None,
        )
    if clicks.is_on(web.app.settings) and request.method == "GET":
        try:
            with transaction(web.app.engine) as conn:
                clicks.count(conn, edition_id, url)
        except IntegrityError:  # the edition was deleted since: still take them there
            log.debug("click on a link of a deleted edition %s", edition_id)
    response = redirect(url, 302)
    response.headers["Cache-Control"] = "no-store"
    return response
