"""The reader's pages: subscribe, confirm, unsubscribe (incl. RFC 8058 one-click), preferences.

GET shows, POST changes: mail scanners fetch every link in a message, so no GET
ever confirms or unsubscribes. Every view asks ``changing()`` (an explicit POST), never
"not GET": Flask also routes HEAD (and OPTIONS) to the same view. The subscribe answer never depends on whether the
address was known, so the form cannot be used to probe the list.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import available_timezones

from flask import Response, abort, request, url_for
from jinja2 import TemplateNotFound
from sqlalchemy.engine import Connection
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.db import transaction
from syndicate.core.errors import SyndicateError, TokenError
from syndicate.core.render import template_source
from syndicate.digest import choices
from syndicate.digest.welcome import queue_welcome
from syndicate.readers import subscribers as subs
from syndicate.web.confirmation import send_confirmation
from syndicate.web.context import Web, client_ip
from syndicate.web.privatefeed import feed_urls
from syndicate.web.security import csrf_ok, csrf_token, same_origin

log = logging.getLogger(__name__)

MAX_FIELD = 400
HONEYPOT = "website"
ONE_CLICK = "One-Click"
_TIMEZONES = sorted(available_timezones() - {"localtime", "Factory"})


def changing() -> bool:
    """True only for an explicit POST: the one method that may change anything."""
    return request.method == "POST"


def _field(name: str) -> str:
    return (request.form.get(name) or "")[:MAX_FIELD]


def invalid_link(web: Web, error: TokenError) -> BaseResponse:
    return web.page(
        "message.html",
        status=400,
        private=True,
        title=web.t.gettext("This link does not work"),
        message=web.t.gettext(error.message),  # tokens.py marks the messages it raises
        hint=web.t.gettext("Use the newest link we sent you."),
    )


# -- subscribe ----------------------------------------------------------------------------


def subscribe(web: Web) -> BaseResponse:
    digests = web.app.settings.digests
    offered = choices.choices(web.app.settings)
    if not changing():
        asked = set(request.args.getlist("digest")[:50])  # a digest's own subscribe link
        initial: dict[str, None] = {d.name: None for d in digests if d.name in asked} or {
            c.digests[0].name: None for c in offered
        }
        return web.page(
            "subscribe.html",
            digests=digests,
            choices=choices.form_state(offered, initial),
            chosen=list(initial),  # for templates older than choices
            email="",
            given_name="",
            error=None,
        )
    if not web.subscribe_limiter.allow(client_ip()):
        log.info("subscribe rate limit hit")
        return web.page(
            "message.html",
            status=429,
            private=True,
            title=web.t.gettext("Please try later"),
            message=web.t.gettext("Too many attempts from your network. Try again in an hour."),
            hint=None,
        )
    if _field(HONEYPOT):
        return _check_inbox(web)  # a bot: same answer, nothing done
    email, name = _field("email"), _field("name")
    chosen = choices.read_form(web.app.settings, request.form)  # NotOffered: a 400
    error = None
    try:
        subs.normalise(email)
    except subs.InvalidAddress:
        error = web.t.gettext("Please enter a valid email address, like name@example.org.")
    if error is None and digests and not chosen:
        error = web.t.gettext("Please choose at least one newsletter.")
    if error:
        return web.page(
            "subscribe.html",
            status=400,
            private=True,
            digests=digests,
            choices=choices.form_state(offered, choices.as_tags(chosen)),
            chosen=list(chosen),
            email=email,
            given_name=subs.clean_name(name),
            error=error,
        )
    with transaction(web.app.engine) as conn:
        subscriber, send = subs.request(
            conn, email, name=name, digests=list(chosen), now=web.app.clock.now()
        )
        if send:  # the digests were (re)set: their topics go with them
            choices.set_topics(conn, subscriber.id, chosen)
    if send:
        try:
            send_confirmation(web.app, web.signer, subscriber)
        except SyndicateError as exc:  # the visitor gets the same answer; the log says why
            log.warning("confirmation for subscriber %s failed: %s", subscriber.id, exc.message)
    return _check_inbox(web)


def _check_inbox(web: Web) -> BaseResponse:
    return web.page(
        "message.html",
        private=True,
        title=web.t.gettext("Check your inbox"),
        message=web.t.gettext(
            "If the address can receive our mail, a confirmation link is on its way. "
            "Open it and press the button to start your subscription."
        ),
        hint=web.t.gettext("Nothing arrived? Look in your spam folder."),
    )


# -- confirm ------------------------------------------------------------------------------


def confirm(web: Web, token: str) -> BaseResponse:
    try:
        subscriber_id = web.check(token, "confirm")
    except TokenError as error:
        return invalid_link(web, error)
    with transaction(web.app.engine) as conn:
        subscriber = subs.get(conn, subscriber_id)
        if subscriber is None:
            return invalid_link(web, TokenError("this link is not valid"))
        if changing():
            now = web.app.clock.now()
            if subs.confirm(conn, subscriber_id, now):
                _welcome(web, conn, subscriber, now)
            subscriber = subs.get(conn, subscriber_id)
    assert subscriber is not None
    if subscriber.status == "active":
        return web.page(
            "confirmed.html",
            private=True,
            subscriber=subscriber,
            preferences_url=_link(web, "preferences", subscriber_id),
        )
    if subscriber.status != "pending":
        return web.page(
            "message.html",
            status=400,
            private=True,
            title=web.t.gettext("This link was used"),
            message=web.t.gettext("This confirmation link no longer applies to this address."),
            hint=web.t.gettext("Subscribe again from the form if you want our mail."),
        )
    return web.page("confirm.html", private=True, subscriber=subscriber, action=request.path)


def _welcome(web: Web, conn: Connection, subscriber: subs.Subscriber, now: datetime) -> None:
    """Queue the welcome in the confirming transaction; a broken welcome template is
    the operator's to fix (logged) and never keeps a reader from confirming."""
    try:
        with conn.begin_nested():
            queue_welcome(web.app.settings, conn, subscriber, now)
    except SyndicateError as exc:
        log.error("welcome for subscriber %s not queued: %s", subscriber.id, exc.message)


def _link(web: Web, purpose: str, subscriber_id: int) -> str:
    """A fresh signed link to another page for the same subscriber."""
    expires = web.app.clock.now() + timedelta(days=web.app.settings.web.token_days)
    return url_for(purpose, token=web.signer.make(purpose, subscriber_id, expires))


# -- unsubscribe --------------------------------------------------------------------------


def unsubscribe(web: Web, token: str) -> BaseResponse:
    """GET: a page with a button. POST (the button, or a mail client's RFC 8058 one-click
    with ``List-Unsubscribe=One-Click``): unsubscribe now, answer 200, never redirect."""
    try:
        subscriber_id = web.check(token, "unsubscribe")
    except TokenError as error:
        return invalid_link(web, error)
    if not changing():
        with web.app.engine.connect() as conn:
            subscriber = subs.get(conn, subscriber_id)
        done = subscriber is None or subscriber.status not in ("pending", "active")
        return web.page("unsubscribe.html", private=True, done=done, action=request.path)
    if request.form.get("List-Unsubscribe") != ONE_CLICK:
        return web.page(
            "message.html",
            status=400,
            private=True,
            title=web.t.gettext("Nothing changed"),
            message=web.t.gettext("Use the button on the unsubscribe page."),
            hint=None,
        )
    with transaction(web.app.engine) as conn:
        subs.unsubscribe(conn, subscriber_id, web.app.clock.now(), "unsubscribed by link")
    return web.page("unsubscribed.html", private=True)


# -- preferences --------------------------------------------------------------------------


def preferences(web: Web, token: str) -> BaseResponse:
    try:
        subscriber_id = web.check(token, "preferences")
    except TokenError as error:
        return invalid_link(web, error)
    with web.app.engine.connect() as conn:
        subscriber = subs.get(conn, subscriber_id)
    if subscriber is None:
        return invalid_link(web, TokenError("this link is not valid"))
    saved, problem, status = False, None, 200
    if changing():
        if not (
            csrf_ok(web.signer, token, request.form.get("csrf"))
            and same_origin(request, web.app.settings)
        ):
            return web.page(
                "message.html",
                status=403,
                private=True,
                title=web.t.gettext("Not saved"),
                message=web.t.gettext("This form was not sent from our page."),
                hint=web.t.gettext("Open the preferences link from your email again."),
            )
        timezone = _field("timezone").strip() or None
        try:
            with transaction(web.app.engine) as conn:
                if request.form.get("action") == "revoke-feed":
                    choices.revoke_feed(conn, subscriber_id)
                else:
                    chosen = choices.read_form(web.app.settings, request.form)
                    choices.change(
                        conn,
                        subscriber,
                        digests=list(chosen),
                        timezone=timezone,
                        name=_field("name"),
                        now=web.app.clock.now(),
                        topics=chosen,
                    )
                subscriber = subs.get(conn, subscriber_id)
            saved = True
        except SyndicateError as exc:
            problem, status = exc.message, 400
    assert subscriber is not None
    with web.app.engine.connect() as conn:
        topics = choices.topics_of(conn, subscriber_id)
    return web.page(
        "preferences.html",
        status=status,
        private=True,
        subscriber=subscriber,
        digests=web.app.settings.digests,
        choices=choices.form_state(
            choices.choices(web.app.settings),
            {d: t for d, t in topics.items() if d in subscriber.digests},
        ),
        feed=feed_urls(web, subscriber_id, subscriber.feed_key),
        timezones=_TIMEZONES,
        saved=saved,
        error=problem,
        csrf=csrf_token(web.signer, token),
        action=request.path,
        unsubscribe_url=_link(web, "unsubscribe", subscriber_id),
    )


def link_help(web: Web) -> BaseResponse:
    """Where the archive's generic unsubscribe/preferences links lead."""
    return web.page(
        "message.html",
        title=web.t.gettext("Use the link in your email"),
        message=web.t.gettext(
            "Every email we send has its own link to change your preferences or "
            "unsubscribe. Open the newest one."
        ),
        hint=None,
    )


def home(web: Web) -> BaseResponse:
    """The front page of the web app is the subscribe form."""
    return subscribe(web)


ASSETS = {"web.css": "text/css; charset=utf-8", "admin.css": "text/css; charset=utf-8"}


def asset(web: Web, name: str) -> BaseResponse:
    """The pages' stylesheet, from the operator's templates/web/ or the packaged one."""
    if name not in ASSETS:
        abort(404)
    try:
        source = template_source(web.app.settings.templates_dir, f"web/{name}")
    except TemplateNotFound:
        abort(404)
    response = Response(source, content_type=ASSETS[name])
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.add_etag()
    return response.make_conditional(request)
