"""The operator console under ``/admin/``: one table says, for every route, which method
and which role it needs; ``register`` wraps each view in the guard accordingly.

Roles rise viewer < editor < owner. Reading needs viewer; changing subscribers,
editions and jobs needs editor; operators need owner. Only POST changes anything.
``role=None`` marks the few pages one reaches before logging in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response as BaseResponse

from syndicate.web.admin import auth, content, dashboard, editions, integrations, people, system
from syndicate.web.admin.guard import Console, guarded


@dataclass(frozen=True)
class AdminRoute:
    rule: str
    endpoint: str
    view: Callable[..., BaseResponse]
    method: str = "GET"
    role: str | None = "viewer"


VIEWER, EDITOR, OWNER, PUBLIC = "viewer", "editor", "owner", None
GET, POST = "GET", "POST"

ADMIN_ROUTES = (
    AdminRoute("/admin/login", "admin_login", auth.login_form, GET, PUBLIC),
    AdminRoute("/admin/login", "admin_login_post", auth.login, POST, PUBLIC),
    AdminRoute("/admin/setup/<token>", "admin_setup", auth.setup_form, GET, PUBLIC),
    AdminRoute("/admin/setup/<token>", "admin_setup_post", auth.setup, POST, PUBLIC),
    AdminRoute("/admin/logout", "admin_logout", auth.logout, POST, VIEWER),
    AdminRoute("/admin/account", "admin_account", auth.account, GET, VIEWER),
    AdminRoute("/admin/account/totp", "admin_totp_enable", auth.totp_enable, POST, VIEWER),
    AdminRoute("/admin/account/totp/off", "admin_totp_disable", auth.totp_disable, POST, VIEWER),
    AdminRoute("/admin/", "admin_dashboard", dashboard.dashboard, GET, VIEWER),
    AdminRoute("/admin/subscribers", "admin_subscribers", people.index, GET, VIEWER),
    AdminRoute("/admin/subscribers", "admin_subscriber_add", people.add, POST, EDITOR),
    AdminRoute("/admin/subscribers/export", "admin_export", people.export, POST, EDITOR),
    AdminRoute("/admin/subscribers/import", "admin_import", people.import_csv, POST, EDITOR),
    AdminRoute("/admin/subscribers/<int:subscriber_id>", "admin_subscriber", people.show),
    AdminRoute(
        "/admin/subscribers/<int:subscriber_id>/suppress",
        "admin_suppress",
        people.suppress,
        POST,
        EDITOR,
    ),
    AdminRoute(
        "/admin/subscribers/<int:subscriber_id>/unsuppress",
        "admin_unsuppress",
        people.unsuppress,
        POST,
        EDITOR,
    ),
    AdminRoute(
        "/admin/subscribers/<int:subscriber_id>/erase", "admin_erase", people.erase, POST, EDITOR
    ),
    AdminRoute("/admin/editions", "admin_editions", editions.index),
    AdminRoute("/admin/editions/<int:edition_id>", "admin_edition", editions.show),
    AdminRoute("/admin/editions/<int:edition_id>/html", "admin_edition_html", editions.frame),
    AdminRoute(
        "/admin/editions/<int:edition_id>/test", "admin_send_test", editions.send_test, POST, EDITOR
    ),
    AdminRoute("/admin/editions/<int:edition_id>/hold", "admin_hold", editions.hold, POST, EDITOR),
    AdminRoute("/admin/editions/compose", "admin_compose", editions.compose_now, POST, EDITOR),
    AdminRoute("/admin/articles", "admin_articles", content.index),
    AdminRoute("/admin/articles/<int:article_id>", "admin_article", content.show),
    AdminRoute("/admin/feeds", "admin_feeds", content.feeds),
    AdminRoute("/admin/feeds/republish", "admin_republish", content.republish, POST, EDITOR),
    AdminRoute("/admin/jobs", "admin_jobs", system.jobs_page),
    AdminRoute("/admin/jobs/run", "admin_run_job", system.run_job, POST, EDITOR),
    AdminRoute("/admin/audit", "admin_audit", system.audit_page),
    AdminRoute("/admin/settings", "admin_settings", system.settings_page),
    AdminRoute("/admin/operators", "admin_operators", system.operators_page, GET, OWNER),
    AdminRoute("/admin/operators", "admin_operator_add", system.operator_add, POST, OWNER),
    AdminRoute(
        "/admin/operators/remove", "admin_operator_remove", system.operator_remove, POST, OWNER
    ),
    AdminRoute("/admin/api-tokens", "admin_tokens", integrations.tokens_page, GET, OWNER),
    AdminRoute("/admin/api-tokens", "admin_token_add", integrations.token_add, POST, OWNER),
    AdminRoute(
        "/admin/api-tokens/revoke", "admin_token_revoke", integrations.token_revoke, POST, OWNER
    ),
    AdminRoute("/admin/webhooks", "admin_webhooks", integrations.webhooks_page),
    AdminRoute(
        "/admin/webhooks/replay", "admin_webhook_replay", integrations.webhook_replay, POST, EDITOR
    ),
    # Anything else under /admin/ is a 404, but only for someone logged in.
    AdminRoute("/admin/<path:rest>", "admin_unknown", system.not_found),
)


def register(flask: Flask) -> None:
    """Add every console route to the app, each behind its guard."""
    flask.extensions["syndicate_console"] = Console.build(flask.extensions["syndicate"])
    for route in ADMIN_ROUTES:
        flask.add_url_rule(
            route.rule, route.endpoint, guarded(route.view, route.role), methods=[route.method]
        )
    flask.add_url_rule("/admin", "admin_root", _to_dashboard)


def _to_dashboard() -> BaseResponse:
    return redirect(url_for("admin_dashboard"), 308)
