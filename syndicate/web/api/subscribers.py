"""/api/v1/subscribers: the same ``syndicate.readers.subscribers`` functions the CLI and the
console call, each change in one transaction with its audit record (actor: the
token's name) and its webhook event."""

from __future__ import annotations

import logging
from typing import Any

from syndicate.core.db import transaction
from syndicate.core.errors import SyndicateError
from syndicate.digest import choices
from syndicate.readers import subscribers as subs
from syndicate.web.api import cursors
from syndicate.web.api.guard import ApiCtx, Result
from syndicate.web.api.models import (
    SubscriberCreate,
    SubscriberOut,
    SubscriberPage,
    SubscriberQuery,
    SubscriberUpdate,
)
from syndicate.web.api.problems import Problem, field_problem
from syndicate.web.confirmation import send_confirmation
from syndicate.web.console import audit, people

log = logging.getLogger(__name__)


def out(subscriber: subs.Subscriber) -> SubscriberOut:
    data = subscriber.as_dict()
    data.pop("soft_bounces")
    return SubscriberOut.model_validate(data)


def actor(ctx: ApiCtx) -> str:
    return f"api:{ctx.token.name}"


def _digests(ctx: ApiCtx, chosen: list[str] | None) -> list[str]:
    known = [d.name for d in ctx.app.settings.digests]
    if chosen is None:
        return known
    for index, name in enumerate(chosen):
        if name not in known:
            raise field_problem(("digests", index), f"no digest named {name!r}")
    return chosen


def _timezone(value: str | None) -> str | None:
    try:
        return subs.valid_timezone(value)
    except SyndicateError as exc:
        raise field_problem("timezone", exc.message) from None


def _address(email: str) -> None:
    try:
        subs.normalise(email)
    except subs.InvalidAddress as exc:
        raise field_problem("email", exc.message) from None


def list_(ctx: ApiCtx) -> SubscriberPage:
    q: SubscriberQuery = ctx.query
    with ctx.app.engine.connect() as conn:
        page = people.search(
            conn,
            text=q.q,
            status=q.status,
            digest=q.digest,
            after=cursors.read("s", q.cursor),
            limit=q.limit,
        )
        found = subs.get_many(conn, [row["id"] for row in page.rows])
    return SubscriberPage(
        items=[out(s) for s in found], next_cursor=cursors.make("s", page.next_after)
    )


def _require(conn: Any, subscriber_id: int) -> subs.Subscriber:
    found = subs.get(conn, subscriber_id)
    if found is None:
        raise Problem(404, f"no subscriber {subscriber_id}")
    return found


def get(ctx: ApiCtx, subscriber_id: int) -> SubscriberOut:
    with ctx.app.engine.connect() as conn:
        return out(_require(conn, subscriber_id))


def _snapshot(subscriber: subs.Subscriber | None) -> dict[str, Any] | None:
    if subscriber is None:
        return None
    return {"status": subscriber.status, "digests": list(subscriber.digests)}


def create(ctx: ApiCtx) -> Result:
    """pending: double opt-in, a confirmation mail (at most one per 10 minutes, never
    to an active or suppressed address); confirmed: active at once, with consent."""
    body: SubscriberCreate = ctx.body
    _address(body.email)
    digests = _digests(ctx, body.digests)
    timezone = _timezone(body.timezone)
    now = ctx.now
    if body.status == "confirmed":
        consent = (body.consent or "").strip()
        if not consent:
            raise field_problem("consent", "say how this person agreed (required when confirmed)")
        with transaction(ctx.app.engine) as conn:
            before = subs.find(conn, body.email)
            try:
                subscriber, outcome = subs.add(
                    conn, body.email, name=body.name, digests=digests, now=now, timezone=timezone
                )
            except subs.SuppressedAddress as exc:
                raise Problem(409, exc.message, kind="suppressed-address") from None
            audit.record(
                conn, actor=actor(ctx), action=f"subscriber.add ({outcome})",
                target=people.target(subscriber.id), now=now,
                before=_snapshot(before), after=(_snapshot(subscriber) or {}) | {"consent": consent},
            )  # fmt: skip
        return Result(201 if outcome == "added" else 200, out(subscriber))
    with transaction(ctx.app.engine) as conn:
        before = subs.find(conn, body.email)
        subscriber, send = subs.request(conn, body.email, name=body.name, digests=digests, now=now)
        if timezone and before is None:
            subs.set_preferences(
                conn, subscriber.id, digests=subscriber.digests, timezone=timezone,
                name=subscriber.name, now=now,
            )  # fmt: skip
            subscriber = _require(conn, subscriber.id)
    if send:
        try:
            send_confirmation(ctx.app, ctx.web.signer, subscriber)
        except SyndicateError as exc:
            log.warning("confirmation for subscriber %s failed: %s", subscriber.id, exc.message)
    return Result(201 if before is None else 200, out(subscriber))


def update(ctx: ApiCtx, subscriber_id: int) -> SubscriberOut:
    body: SubscriberUpdate = ctx.body
    with transaction(ctx.app.engine) as conn:
        current = _require(conn, subscriber_id)
        digests = _digests(ctx, body.digests) if body.digests is not None else current.digests
        timezone = (
            _timezone(body.timezone) if "timezone" in body.model_fields_set else current.timezone
        )
        name = body.name if body.name is not None else current.name
        # As the preferences page does: rows queued for a digest left are not sent.
        choices.change(conn, current, digests=digests, timezone=timezone, name=name, now=ctx.now)
        after = _require(conn, subscriber_id)
        audit.record(
            conn, actor=actor(ctx), action="subscriber.update", target=people.target(subscriber_id),
            now=ctx.now, before=_snapshot(current), after=_snapshot(after),
        )  # fmt: skip
    return out(after)


def _status_change(ctx: ApiCtx, subscriber_id: int, action: str, reason: str) -> SubscriberOut:
    with transaction(ctx.app.engine) as conn:
        before = _require(conn, subscriber_id)
        subs.unsubscribe(conn, subscriber_id, ctx.now, reason)
        after = _require(conn, subscriber_id)
        audit.record(
            conn, actor=actor(ctx), action=action, target=people.target(subscriber_id),
            now=ctx.now, before=_snapshot(before), after=(_snapshot(after) or {}) | {"reason": reason},
        )  # fmt: skip
    return out(after)


def unsubscribe(ctx: ApiCtx, subscriber_id: int) -> SubscriberOut:
    reason = (ctx.body.reason if ctx.body else "").strip() or "unsubscribed"
    return _status_change(ctx, subscriber_id, "subscriber.unsubscribe", f"{reason} ({actor(ctx)})")


def suppress(ctx: ApiCtx, subscriber_id: int) -> SubscriberOut:
    """As the console's suppress: no more mail, with the reason kept."""
    reason = (ctx.body.reason if ctx.body else "").strip() or "suppressed through the API"
    return _status_change(ctx, subscriber_id, "subscriber.suppress", f"{reason} ({actor(ctx)})")


def erase(ctx: ApiCtx, subscriber_id: int) -> None:
    with transaction(ctx.app.engine) as conn:
        current = _require(conn, subscriber_id)
        subs.erase(conn, current.email)
        audit.record(
            conn, actor=actor(ctx), action="subscriber.erase",
            target=people.target(subscriber_id), now=ctx.now,
        )  # fmt: skip
    return None
