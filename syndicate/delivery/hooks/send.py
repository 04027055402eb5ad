"""One signed POST per delivery, per the Standard Webhooks specification.

Signing is the ``standardwebhooks`` package's own ``Webhook.sign``, so receivers using
any Standard Webhooks library verify exactly what we send. The HTTP request goes through
the guarded client of feed sources (``sources.fetch``): only the configured URL, parsed
once; no private or loopback address unless ``allow_private``; no redirect followed; a
timeout and a cap on the answer's size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

from syndicate.core.config import WebhookSettings, secret
from syndicate.core.errors import ConfigError, SourceError
from syndicate.intake.sources.fetch import Client, Policy, retry_after_seconds

MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str | None  # None: delivered (2xx)
    retry_after: float | None = None


def body_of(payload: dict[str, Any]) -> bytes:
    """The same bytes for every attempt of one event (sorted keys, no spaces)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signer(hook: WebhookSettings, index: int) -> Webhook:
    """The receiver's signing key from its environment variable; ConfigError if unusable."""
    key = f"webhooks[{index}].secret_env"
    value = secret(hook.secret_env, key=key)
    try:
        return Webhook(value or "")
    except Exception:  # the library raises binascii/ValueError for a bad key
        raise ConfigError(
            f"{key}: {hook.secret_env} is not a Standard Webhooks secret",
            hint="use whsec_ followed by base64 (e.g. `whsec_$(openssl rand -base64 32)`)",
        ) from None


def headers(webhook: Webhook, webhook_id: str, at: datetime, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": webhook.sign(webhook_id, at, body.decode()),
    }


def client_for(hook: WebhookSettings, user_agent: str) -> Client:
    policy = Policy(
        user_agent=user_agent,
        allow_private=hook.allow_private,
        timeout=hook.timeout,
        max_bytes=MAX_ANSWER,
    )
    return Client(policy)


def post(
    client: Client, url: str, body: bytes, sent_headers: dict[str, str], now: datetime
) -> Answer:
    """2xx is delivered; anything else (3xx included: no redirect is followed) is a
    failure to retry, with the receiver's Retry-After on 429/503."""
    try:
        response = client.post(url, body, sent_headers)
    except SourceError as exc:
        return Answer(None, exc.message[:500])
    status = response.status
    if 200 <= status < 300:
        return Answer(status, None)
    wait = None
    if status in (429, 503):
        wait = retry_after_seconds(response.headers.get("Retry-After"), now)
    return Answer(status, f"HTTP {status}", wait)
