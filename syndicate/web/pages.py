"""The reader's pages: subscribe, confirm, unsubscribe (incl. RFC 8058 one-click), preferences.

GET shows, POST changes: mail scanners fetch every link in a message, so no GET
ever confirms or unsubscribes. Every view asks ``changing()`` (an explicit POST), never
"not GET": Flask also routes HEAD (and OPTIONS) to the same view. The subscribe answer never depends on whether the
address was known, so the form cannot be used to probe the list.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import available_timezones

from flask import Response, abort, request, url_for
from jinja2 import TemplateNotFound

from syndicate.core.db import transaction
from syndicate.core.errors import SyndicateError, TokenError
from syndicate.core.render import environment
from syndicate.readers import subscribers as subs
from syndicate.web.confirmation import send_confirmation
from syndicate.web.context import Web, client_ip
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


def _chosen_digests(web: Web) -> list[str]:
    known = [d.name for d in web.app.settings.digests]
    return [d for d in request.form.getlist("digest")[:50] if d in known]


def invalid_link(web: Web, error: TokenError) -> Response:
    return web.page(
        "message.html",
        status=400,
        private=True,
        title="This link does not work",
        message=error.message,
        hint="Use the newest link we sent you.",
    )


# -- subscribe ----------------------------------------------------------------------------


def subscribe(web: Web) -> Response:
    digests = web.app.settings.digests
    if not changing():
        return web.page(
            "subscribe.html",
            digests=digests,
            chosen=[d.name for d in digests],
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
            title="Please try later",
            message="Too many attempts from your network. Try again in an hour.",
            hint=None,
        )
    if _field(HONEYPOT):
        return _check_inbox(web)  # a bot: same answer, nothing done
    email, name, chosen = _field("email"), _field("name"), _chosen_digests(web)
    error = None
    try:
        subs.normalise(email)
    except subs.InvalidAddress:
        error = "Please enter a valid email address, like name@example.org."
    if error is None and digests and not chosen:
        error = "Please choose at least one newsletter."
    if error:
        return web.page(
            "subscribe.html",
            status=400,
            private=True,
            digests=digests,
            chosen=chosen,
            email=email,
            given_name=subs.clean_name(name),
            error=error,
        )
    with transaction(web.app.engine) as conn:
        subscriber, send = subs.request(
            conn, email, name=name, digests=chosen, now=web.app.clock.now()
        )
    if send:
        try:
            send_confirmation(web.app, web.signer, subscriber)
        except SyndicateError as exc:  # the visitor gets the same answer; the log says why
            log.warning("confirmation for subscriber %s failed: %s", subscriber.id, exc.message)
    return _check_inbox(web)


def _check_inbox(web: Web) -> Response:
    return web.page(
        "message.html",
        private=True,
        title="Check your inbox",
        message="If the address can receive our mail, a confirmation link is on its way. "
        "Open it and press the button to start your subscription.",
        hint="Nothing arrived? Look in your spam folder.",
    )


# -- confirm ------------------------------------------------------------------------------


def confirm(web: Web, token: str) -> Response:
    try:
        subscriber_id = web.check(token, "confirm")
    except TokenError as error:
        return invalid_link(web, error)
    with transaction(web.app.engine) as conn:
        subscriber = subs.get(conn, subscriber_id)
        if subscriber is None:
            return invalid_link(web, TokenError("this link is not valid"))
        if changing():
            subs.confirm(conn, subscriber_id, web.app.clock.now())
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
            title="This link was used",
            message="This confirmation link no longer applies to this address.",
            hint="Subscribe again from the form if you want our mail.",
        )
    return web.page("confirm.html", private=True, subscriber=subscriber, action=request.path)


def _link(web: Web, purpose: str, subscriber_id: int) -> str:
    """A fresh signed link to another page for the same subscriber."""
    expires = web.app.clock.now() + timedelta(days=web.app.settings.web.token_days)
    return url_for(purpose, token=web.signer.make(purpose, subscriber_id, expires))


# -- unsubscribe --------------------------------------------------------------------------


def unsubscribe(web: Web, token: str) -> Response:
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
            title="Nothing changed",
            message="Use the button on the unsubscribe page.",
            hint=None,
        )
    with transaction(web.app.engine) as conn:
        subs.unsubscribe(conn, subscriber_id, web.app.clock.now(), "unsubscribed by link")
    return web.page("unsubscribed.html", private=True)


# -- preferences --------------------------------------------------------------------------


def preferences(web: Web, token: str) -> Response:
    try:
        subscriber_id = web.check(token, "preferences")
    except TokenError as error:
        return invalid_link(web, error)
    with web.app.engine.connect() as conn:
        subscriber = subs.get(conn, subscriber_id)
    if subscriber is None:
        return invalid_link(web, TokenError("this link is not valid"))
    saved, error, status = False, None, 200
    if changing():
        if not (
            csrf_ok(web.signer, token, request.form.get("csrf"))
            and same_origin(request, web.app.settings)
        ):
            return web.page(
                "message.html",
                status=403,
                private=True,
                title="Not saved",
                message="This form was not sent from our page.",
                hint="Open the preferences link from your email again.",
            )
        timezone = _field("timezone").strip() or None
        try:
            with transaction(web.app.engine) as conn:
                subs.set_preferences(
                    conn,
                    subscriber_id,
                    digests=_chosen_digests(web),
                    timezone=timezone,
                    name=_field("name"),
                    now=web.app.clock.now(),
                )
                subscriber = subs.get(conn, subscriber_id)
            saved = True
        except SyndicateError as exc:
            error, status = exc.message, 400
    assert subscriber is not None
    return web.page(
        "preferences.html",
        status=status,
        private=True,
        subscriber=subscriber,
        digests=web.app.settings.digests,
        timezones=_TIMEZONES,
        saved=saved,
        error=error,
        csrf=csrf_token(web.signer, token),
        action=request.path,
        unsubscribe_url=_link(web, "unsubscribe", subscriber_id),
    )


def link_help(web: Web) -> Response:
    """Where the archive's generic unsubscribe/preferences links lead."""
    return web.page(
        "message.html",
        title="Use the link in your email",
        message="Every email we send has its own link to change your preferences or "
        "unsubscribe. Open the newest one.",
        hint=None,
    )


def home(web: Web) -> Response:
    """The front page of the web app is the subscribe form."""
    return subscribe(web)


ASSETS = {"web.css": "text/css; charset=utf-8", "admin.css": "text/css; charset=utf-8"}


def asset(web: Web, name: str) -> Response:
    """The pages' stylesheet, from the operator's templates/web/ or the packaged one."""
    if name not in ASSETS:
        abort(404)
    env = environment(web.app.settings.templates_dir)
    try:
        source, _, _ = env.loader.get_source(env, f"web/{name}")  # type: ignore[union-attr]
    except TemplateNotFound:
        abort(404)
    response = Response(source, content_type=ASSETS[name])
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.add_etag()
    return response.make_conditional(request)
