"""The HTTP app: every route in one table, the error edge, security headers.

``create_app(app)`` returns a plain Flask (WSGI) application: ``syndicate run`` and
``syndicate serve`` host it with waitress, and any WSGI server can.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from flask import Flask, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from syndicate.core.errors import BadInput, SyndicateError
from syndicate.core.i18n import N_
from syndicate.service.context import App
from syndicate.web import (
    admin,
    api,
    archive,
    feedserve,
    media,
    metrics,
    pages,
    privatefeed,
    redirects,
    seo,
    webhooks,
)
from syndicate.web.context import Web, web
from syndicate.web.hosts import TrustedHost, path_only
from syndicate.web.security import add_security_headers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    view: Callable[..., BaseResponse]
    methods: tuple[str, ...] = ("GET",)


GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")

ROUTES = (
    Route("/", "home", pages.home),
    Route("/subscribe", "subscribe", pages.subscribe, BOTH),
    Route("/confirm/<token>", "confirm", pages.confirm, BOTH),
    Route("/unsubscribe", "unsubscribe_help", pages.link_help),
    Route("/unsubscribe/<token>", "unsubscribe", pages.unsubscribe, BOTH),
    Route("/preferences", "preferences_help", pages.link_help),
    Route("/preferences/<token>", "preferences", pages.preferences, BOTH),
    Route("/my", "private_feed_help", pages.link_help),
    Route("/my/<token>/atom.xml", "private_atom", privatefeed.atom),
    Route("/my/<token>/feed.json", "private_json", privatefeed.json_feed),
    Route("/digests/<name>/", "digest_index", archive.index),
    Route("/digests/<name>/atom.xml", "digest_atom", archive.atom),
    Route("/digests/<name>/<date>", "edition", archive.edition),
    Route("/feeds/", "feeds_root", feedserve.serve),
    Route("/feeds/<path:relpath>", "feeds", feedserve.serve),
    Route("/assets/<name>", "asset", pages.asset),
    Route("/media/<path:relpath>", "media", media.serve),
    Route("/healthz", "healthz", metrics.healthz),
    Route("/robots.txt", "robots", seo.robots),
    Route("/sitemap.xml", "sitemap", seo.sitemap),
    Route("/metrics", "metrics", metrics.metrics),
    Route("/webhooks/<provider>", "webhook", webhooks.receive, POST),
    Route("/r/<token>", "click", redirects.click),
)


def _bind(view: Callable[..., BaseResponse]) -> Callable[..., BaseResponse]:
    def bound(**kwargs: Any) -> BaseResponse:
        return view(web(), **kwargs)

    bound.__name__ = view.__name__
    return bound


# What one listener serves. "all": everything (one listen address, the default);
# with ``web.admin_listen`` set, "public" on ``web.listen`` (everything but the console)
# and "console" on the admin address (the console, with the stylesheet it links and
# /healthz for a load balancer; the API stays public: integrations call it with tokens).
Surface = Literal["all", "public", "console"]
CONSOLE_SHARED = frozenset({"asset", "healthz"})


def create_app(app: App, *, surface: Surface = "all") -> Flask:
    """The web app over one App (settings, store, clock, mailer)."""
    flask = Flask("syndicate.web", static_folder=None, template_folder=None)
    flask.config.update(MAX_CONTENT_LENGTH=app.settings.web.max_body_bytes, JSON_SORT_KEYS=False)
    flask.extensions["syndicate"] = Web.build(app)
    for route in ROUTES:
        if surface == "console" and route.endpoint not in CONSOLE_SHARED:
            continue
        flask.add_url_rule(
            route.rule, route.endpoint, _bind(route.view), methods=list(route.methods)
        )
    if surface != "public":
        admin.register(flask)  # the operator console: its own route table and guard
    if surface != "console":
        api.register(flask)  # the HTTP API: its own route table, guard and problem+json errors
    flask.after_request(add_security_headers)
    flask.after_request(_relative_location)
    flask.register_error_handler(HTTPException, _http_error)
    flask.register_error_handler(SyndicateError, _operator_error)
    flask.register_error_handler(BadInput, _bad_input)
    flask.register_error_handler(Exception, _unexpected)
    # Outermost first: the proxy's forwarded Host is what TrustedHost checks.
    flask.wsgi_app = TrustedHost(flask.wsgi_app, lambda: app.settings)  # type: ignore[method-assign]
    proxies = app.settings.web.proxies
    if proxies:  # the client's address (rate limits) and scheme come from the proxy
        flask.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            flask.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return flask


def _relative_location(response: BaseResponse) -> BaseResponse:
    """Our redirects (trailing slashes) name a path, never a host; a counted link
    (``/r/``) goes to the outside URL signed into its token."""
    if "Location" in response.headers and request.endpoint != "click":
        response.headers["Location"] = path_only(response.headers["Location"])
    return response


_TITLES = {
    404: N_("Page not found"),
    405: N_("Not allowed"),
    410: N_("Gone"),
    413: N_("Too large"),
    400: N_("Bad request"),
}
_FAILED = N_("Something went wrong")


def _error_page(status: int, title: str, message: str) -> BaseResponse:
    """An error is never cached: the next request may well succeed. Title and message
    go through the catalog: ours (marked N_) are translated, any other text (an error's
    own) comes back as it is; "" stays empty (gettext("") is the catalog's header)."""
    t = web().t
    return web().page(
        "message.html",
        status=status,
        private=True,
        title=t.gettext(title),
        message=t.gettext(message) if message else "",
        hint=None,
    )


def _http_error(error: HTTPException) -> BaseResponse:
    status = error.code or 500
    plain = error.get_response()
    if status < 400:
        return plain
    if request.path.startswith("/api/"):
        return api.http_problem(status, error.description or "", plain.headers.get("Allow"))
    if status == 404:
        response = _error_page(status, _TITLES[404], N_("There is nothing here."))
    else:
        response = _error_page(status, _TITLES.get(status, _FAILED), error.description or "")
    for name in ("Allow", "Retry-After"):
        if name in plain.headers:
            response.headers[name] = plain.headers[name]
    return response


def _bad_input(error: BadInput) -> BaseResponse:
    """What the visitor sent is unusable: 400 and one log line, never a traceback."""
    log.info("bad request %s %s: %s", request.method, request.path[:200], error.message)
    return _error_page(400, _TITLES[400], error.message)


def _unexpected(error: Exception) -> BaseResponse:
    """The last guard: one log line (traceback at debug level) and a plain 500 page, so
    no input ever prints a traceback into the operator's log."""
    log.error(
        "web request %s %s failed: %s: %s",
        request.method,
        request.path[:200],
        type(error).__name__,
        str(error)[:300],
    )
    log.debug("traceback", exc_info=error)
    return _error_page(500, _FAILED, N_("Please try again later."))


def _operator_error(error: SyndicateError) -> BaseResponse:
    log.error("web request failed: %s", error.message)
    return _error_page(503, N_("Temporarily unavailable"), N_("Please try again in a few minutes."))
