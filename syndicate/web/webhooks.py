"""Provider webhooks for bounces and complaints: verify, de-duplicate, apply.

Each provider proves itself differently: Mailgun an HMAC of timestamp+token, SendGrid
an ECDSA signature of timestamp+body, Postmark HTTP basic auth, SES a signed SNS
message. Keys come from the environment variables named in ``web.webhook_keys``
(several comma-separated keys all verify, for rotation). Every event id is recorded
in ``webhook_events``: a replayed event is acknowledged but changes nothing.
A hard bounce or complaint suppresses the address; soft bounces are counted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from flask import Request, Response, abort, jsonify, request
from sqlalchemy.engine import Connection

from syndicate.core.config import secret
from syndicate.core.db import dialect_insert, transaction, webhook_events
from syndicate.core.sanitize import strip_control_chars
from syndicate.core.tokens import same_secret, utf8
from syndicate.readers import subscribers as subs
from syndicate.web.context import Web
from syndicate.web.sns import SnsRejected, confirm_subscription, verify

log = logging.getLogger(__name__)

Kind = Literal["hard_bounce", "soft_bounce", "complaint"]
# Signed timestamps older than this are refused; newer replays are caught by event id.
MAX_AGE = timedelta(hours=12)


class Rejected(Exception):
    """The request is not from the provider (bad signature, stale): 403."""

    status = 403


class Malformed(Rejected):
    """The request is signed (or needs no signature) but its content is unusable: 400."""

    status = 400


def _object(value: Any, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, ``{}`` when absent; else Malformed."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not a JSON object")
    return value


def _objects(value: Any, what: str) -> list[dict[str, Any]]:
    """A JSON array of objects (``[]`` when absent); else Malformed."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Malformed(f"{what} is not a JSON array of objects")
    return value


@dataclass(frozen=True)
class MailEvent:
    """One bounce or complaint; its text fields are made storable on creation."""

    event_id: str
    kind: Kind
    email: str
    reason: str

    def __post_init__(self) -> None:
        for name in ("event_id", "email", "reason"):
            object.__setattr__(self, name, _storable(getattr(self, name)))


def _storable(text: str) -> str:
    """Text any store accepts: no NUL or other XML-illegal controls (PostgreSQL refuses
    NUL) and no lone surrogates (JSON allows them; no database driver encodes them)."""
    return strip_control_chars(text.encode("utf-8", "replace").decode("utf-8"))


def _keys(web: Web, provider: str) -> list[str]:
    env = web.app.settings.web.webhook_keys.get(provider)
    if env is None:
        abort(404)  # not configured: the endpoint does not exist
    value = secret(env, key=f"web.webhook_keys.{provider}", required=False) or ""
    keys = [k.strip() for k in value.split(",") if k.strip()]
    if not keys:
        log.error("webhook %s: environment variable %s is empty", provider, env)
        abort(503)
    return keys


def _fresh(timestamp: Any, now: datetime) -> None:
    try:
        when = datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise Rejected("bad timestamp") from None
    if abs(now - when) > MAX_AGE:
        raise Rejected("stale timestamp")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Malformed("body is not JSON") from None


# -- Mailgun ------------------------------------------------------------------------------


def mailgun(web: Web, req: Request, now: datetime) -> list[MailEvent]:
    payload = _json(req.get_data())
    signature = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(signature, dict):
        raise Rejected("no signature")
    timestamp, token = str(signature.get("timestamp", "")), str(signature.get("token", ""))
    given = str(signature.get("signature", ""))
    message = utf8(timestamp + token)
    if not any(
        same_secret(given, hmac.new(k.encode(), message, hashlib.sha256).hexdigest())
        for k in _keys(web, "mailgun")
    ):
        raise Rejected("bad signature")
    _fresh(timestamp, now)
    data = _object(payload.get("event-data"), "event-data")
    event, email = data.get("event"), str(data.get("recipient", ""))
    status = _object(data.get("delivery-status"), "event-data.delivery-status")
    reason = str(status.get("description") or status.get("message") or data.get("reason") or "")
    event_id = str(data.get("id") or token)
    if event == "complained":
        return [MailEvent(event_id, "complaint", email, "complaint")]
    if event == "failed":
        kind: Kind = "hard_bounce" if data.get("severity") == "permanent" else "soft_bounce"
        return [MailEvent(event_id, kind, email, reason or "failed")]
    return []


# -- SendGrid -----------------------------------------------------------------------------

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


def _sendgrid_key(text: str) -> Any:
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    if "BEGIN PUBLIC KEY" in text:
        return load_pem_public_key(text.encode())
    return load_der_public_key(base64.b64decode(text))


def sendgrid(web: Web, req: Request, now: datetime) -> list[MailEvent]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    timestamp = req.headers.get(SENDGRID_TIMESTAMP, "")
    try:
        signature = base64.b64decode(req.headers.get(SENDGRID_SIGNATURE, ""), validate=True)
    except (ValueError, binascii.Error):
        raise Rejected("bad signature") from None
    signed = timestamp.encode() + req.get_data()
    for text in _keys(web, "sendgrid"):
        try:
            _sendgrid_key(text).verify(signature, signed, ec.ECDSA(hashes.SHA256()))
            break
        except (InvalidSignature, ValueError, TypeError):
            continue
    else:
        raise Rejected("bad signature")
    _fresh(timestamp, now)
    events = _json(req.get_data())
    if not isinstance(events, list):
        raise Malformed("expected a JSON array of events")
    found = []
    for item in events[:10_000]:
        if not isinstance(item, dict) or not item.get("sg_event_id"):
            continue
        event_id, email = str(item["sg_event_id"]), str(item.get("email", ""))
        reason = str(item.get("reason") or item.get("response") or item.get("event"))
        if item.get("event") == "spamreport":
            found.append(MailEvent(event_id, "complaint", email, "spam report"))
        elif item.get("event") == "bounce":
            kind: Kind = "soft_bounce" if item.get("type") == "blocked" else "hard_bounce"
            found.append(MailEvent(event_id, kind, email, reason))
    return found


# -- Postmark -----------------------------------------------------------------------------

POSTMARK_HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Unsubscribe"}
POSTMARK_SOFT = {"SoftBounce", "Transient", "DnsError", "Blocked"}


def postmark(web: Web, req: Request, now: datetime) -> list[MailEvent]:
    try:
        auth = req.authorization
    except ValueError:  # werkzeug's base64 decode of a non-ASCII header value
        auth = None
    given = f"{auth.username}:{auth.password}" if auth and auth.type == "basic" else ""
    if not given or not any(same_secret(given, k) for k in _keys(web, "postmark")):
        raise Rejected("bad credentials")
    data = _json(req.get_data())
    if not isinstance(data, dict):
        raise Malformed("expected a JSON object")
    record, kind_name = data.get("RecordType"), data.get("Type")
    event_id = f"{record}:{data.get('ID')}"
    email = str(data.get("Email", ""))
    reason = str(data.get("Description") or kind_name or "")
    if record == "SpamComplaint" or kind_name == "SpamComplaint":
        return [MailEvent(event_id, "complaint", email, "spam complaint")]
    if record == "Bounce" and kind_name in POSTMARK_HARD:
        return [MailEvent(event_id, "hard_bounce", email, reason)]
    if record == "Bounce" and kind_name in POSTMARK_SOFT:
        return [MailEvent(event_id, "soft_bounce", email, reason)]
    return []


# -- SES via SNS --------------------------------------------------------------------------


def ses(web: Web, req: Request, now: datetime) -> list[MailEvent]:
    settings = web.app.settings.web
    if not settings.sns_topic_arns:
        abort(404)
    message = _json(req.get_data())
    if not isinstance(message, dict):
        raise Malformed("expected an SNS message")
    try:
        verify(
            message,
            cert_hosts=settings.sns_cert_hosts,
            topics=settings.sns_topic_arns,
            certificates=web.sns_certificates,
        )
        stamp = datetime.fromisoformat(str(message.get("Timestamp", "")).replace("Z", "+00:00"))
    except (SnsRejected, ValueError) as exc:
        raise Rejected(str(exc)) from None
    if stamp.tzinfo is None:
        raise Malformed("Timestamp has no time zone")
    _fresh(stamp.timestamp(), now)
    if message["Type"] == "SubscriptionConfirmation":
        try:
            confirm_subscription(message, cert_hosts=settings.sns_cert_hosts)
        except SnsRejected as exc:
            raise Rejected(str(exc)) from None
        log.info("SNS subscription confirmed for %s", message.get("TopicArn"))
        return []
    if message["Type"] != "Notification":
        return []
    return ses_events(str(message.get("MessageId")), _json(str(message.get("Message", ""))))


def ses_events(message_id: str, note: Any) -> list[MailEvent]:
    """SES notifications (``notificationType``) and event publishing (``eventType``)."""
    note = _object(note, "Message")
    kind_name = note.get("notificationType") or note.get("eventType")
    found = []
    if kind_name == "Bounce":
        bounce = _object(note.get("bounce"), "bounce")
        kind: Kind = "hard_bounce" if bounce.get("bounceType") == "Permanent" else "soft_bounce"
        for n, r in enumerate(_objects(bounce.get("bouncedRecipients"), "bouncedRecipients")):
            reason = str(r.get("diagnosticCode") or bounce.get("bounceSubType") or "bounce")
            found.append(MailEvent(f"{message_id}:{n}", kind, str(r.get("emailAddress")), reason))
    elif kind_name == "Complaint":
        complaint = _object(note.get("complaint"), "complaint")
        recipients = _objects(complaint.get("complainedRecipients"), "complainedRecipients")
        for n, r in enumerate(recipients):
            found.append(
                MailEvent(f"{message_id}:{n}", "complaint", str(r.get("emailAddress")), "complaint")
            )
    return found


PROVIDERS: dict[str, Callable[[Web, Request, datetime], list[MailEvent]]] = {
    "mailgun": mailgun,
    "sendgrid": sendgrid,
    "postmark": postmark,
    "ses": ses,
}


# -- the route ----------------------------------------------------------------------------


def receive(web: Web, provider: str) -> Response:
    check = PROVIDERS.get(provider)
    if check is None:
        abort(404)
    now = web.app.clock.now()
    try:
        events = check(web, request, now)
    except Rejected as exc:
        log.warning("webhook %s rejected: %s", provider, exc)
        error = "malformed" if exc.status == 400 else "rejected"
        return jsonify(error=error), exc.status  # type: ignore[return-value]
    # One transaction per request: if any event fails, none is recorded, so the
    # provider's retry applies them all instead of finding half of them "replayed".
    with transaction(web.app.engine) as conn:
        claimed = [apply(conn, web, provider, event, now) for event in events]
    applied = sum(claimed)
    duplicates = len(claimed) - applied
    if duplicates:
        log.info("webhook %s: %d replayed event(s) ignored", provider, duplicates)
    return jsonify(applied=applied, duplicates=duplicates)


def apply(conn: Connection, web: Web, provider: str, event: MailEvent, now: datetime) -> bool:
    """Record the event id and act on it, in the caller's transaction; False for a replay
    (also for the same id twice in one request)."""
    # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING.
    claimed = conn.execute(
        dialect_insert(conn)(webhook_events)
        .values(provider=provider, event_id=event.event_id[:300], received_at=now)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(webhook_events.c.event_id)
    ).first()
    if claimed is None:
        return False
    reason = f"{provider}: {event.reason}"[:1000]
    subscriber = subs.record_bounce(
        conn,
        event.email,
        event.kind,
        reason=reason,
        now=now,
        limit=web.app.settings.web.soft_bounce_limit,
    )
    if subscriber is not None:
        log.info("webhook %s: %s for subscriber %s", provider, event.kind, subscriber.id)
    return True
