"""Jobs (history, run now), the audit log, the running settings, and operators (owners)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Response, abort, redirect, request, url_for
from sqlalchemy import select

from syndicate.core.db import job_runs, transaction
from syndicate.core.errors import SyndicateError
from syndicate.service import jobs
from syndicate.web.admin.editions import compose_current
from syndicate.web.admin.guard import Ctx, console, private, query_id
from syndicate.web.console import audit
from syndicate.web.console import operators as ops

SECRET_WORDS = ("password", "secret", "token", "key")
DIGEST_JOB = "digest:"
MASK = "********"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def jobs_page(ctx: Ctx) -> Response:
    only = request.args.get("job") or None
    query = select(job_runs).order_by(job_runs.c.id.desc()).limit(100)
    if only:
        query = query.where(job_runs.c.job == only[:100])
    with ctx.web.app.engine.connect() as conn:
        runs = list(conn.execute(query).mappings())
    names = [j.name for j in jobs.scheduled_jobs(ctx.web.app.settings)]
    return ctx.page("jobs.html", title="Jobs", runs=runs, names=names, only=only)


def run_job(ctx: Ctx) -> Response:
    """Run one scheduled job now, in a slot of its own (claimed like the scheduler's).

    A digest job composes the current period, exactly as the editions page's "compose
    now" does: never an off-schedule edition for this instant.
    """
    name = request.form.get("job", "")
    found = next((j for j in jobs.scheduled_jobs(ctx.web.app.settings) if j.name == name), None)
    if found is None:
        return ctx.message("No such job", "Choose a job from the list.", status=400)
    if name.startswith(DIGEST_JOB):
        return compose_current(ctx, name.removeprefix(DIGEST_JOB))
    outcome = found.run(ctx.web.app, ctx.now)
    with transaction(ctx.web.app.engine) as conn:
        audit.record(
            conn, actor=ctx.actor, action="job.run", target=name, now=ctx.now,
            after={"status": outcome.status, "error": outcome.error},
        )  # fmt: skip
    return private(redirect(url_for("admin_jobs", job=name), 303))


def audit_page(ctx: Ctx) -> Response:
    before = query_id("before")
    with ctx.web.app.engine.connect() as conn:
        entries = audit.recent(conn, before_id=before)
    return ctx.page("audit.html", title="Audit log", entries=entries)


def masked(value: Any, key: str = "") -> Any:
    """Settings for display: secrets, and URLs' credentials and queries, replaced by asterisks."""
    if isinstance(value, dict):
        return {k: masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    lowered = key.lower()
    if isinstance(value, str) and _URL.match(value):
        return masked_url(value)
    if value and any(w in lowered for w in SECRET_WORDS) and not lowered.endswith("_env"):
        return MASK
    return value


def masked_url(url: str) -> str:
    """Any URL setting for display: userinfo and query string (where credentials and
    API keys ride) replaced by asterisks; scheme, host and path kept."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return MASK
    netloc = f"{MASK}@{host}" if "@" in parts.netloc else host
    return urlunsplit((parts.scheme, netloc, parts.path, MASK if parts.query else "", ""))


def settings_page(ctx: Ctx) -> Response:
    settings = ctx.web.app.settings
    shown = masked(settings.model_dump(mode="json", by_alias=True))
    config_file = Path(settings.config_file).resolve() if settings.config_file else None
    return ctx.page(
        "settings.html",
        title="Settings",
        config_file=config_file,
        loaded_at=console().loaded_at,
        text=json.dumps(shown, indent=2, ensure_ascii=False),
    )


# -- operators (owner) ----------------------------------------------------------------------


def operators_page(ctx: Ctx) -> Response:
    with ctx.web.app.engine.connect() as conn:
        found = ops.list_operators(conn)
    return ctx.page(
        "operators.html", title="Operators", operators=found, roles=ops.ROLES, link=None
    )


def operator_add(ctx: Ctx) -> Response:
    try:
        with transaction(ctx.web.app.engine) as conn:
            operator, token = ops.add(
                conn,
                (request.form.get("email") or "")[:320],
                role=request.form.get("role", ""),
                now=ctx.now,
            )
            audit.record(
                conn, actor=ctx.actor, action="operator.add", target=operator.email,
                now=ctx.now, after={"role": operator.role},
            )  # fmt: skip
    except SyndicateError as exc:
        return ctx.message("Not added", exc.message, status=400)
    with ctx.web.app.engine.connect() as conn:
        found = ops.list_operators(conn)
    return ctx.page(
        "operators.html",
        title="Operators",
        operators=found,
        roles=ops.ROLES,
        link=(operator.email, ops.setup_link(ctx.web.app.settings.web_base_url, token or "")),
    )


def operator_remove(ctx: Ctx) -> Response:
    email = (request.form.get("email") or "")[:320]
    try:
        with transaction(ctx.web.app.engine) as conn:
            removed = ops.remove(conn, email)
            audit.record(
                conn, actor=ctx.actor, action="operator.remove", target=removed.email,
                now=ctx.now, before={"role": removed.role},
            )  # fmt: skip
    except SyndicateError as exc:
        return ctx.message("Not removed", exc.message, status=400)
    return private(redirect(url_for("admin_operators"), 303))


def not_found(ctx: Ctx, **_: Any) -> Response:
    abort(404)
