"""SendGrid v3: ``POST /v3/mail/send`` with one personalization per recipient.

Up to 1,000 personalizations per call, each with its own ``substitutions`` (filled
into the shared content) and headers. A 429 carries ``X-RateLimit-Reset`` (epoch
seconds), honoured like Retry-After.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

from syndicate.core.config import SendgridSettings
from syndicate.delivery.mailers.base import OutgoingMessage, SendResult
from syndicate.delivery.mailers.http import ApiClient, isolate_rejections

MAX_PERSONALIZATIONS = 1000


def tag(key: str) -> str:
    """The substitution tag for a placeholder key (unlikely in any real text)."""
    return f"[[syn:{key}]]"


def _address(value: str) -> dict[str, str]:
    name, email = parseaddr(value)
    return {"email": email, "name": name} if name else {"email": email}


class SendgridMailer:
    name = "sendgrid"
    max_batch = MAX_PERSONALIZATIONS

    def __init__(self, settings: SendgridSettings, *, api_key: str, timeout: float = 60.0) -> None:
        self.client = ApiClient(
            settings.base_url,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            timeout=timeout,
        )

    def payload(self, batch: Sequence[OutgoingMessage]) -> dict[str, Any]:
        edition = batch[0].edition
        content = edition.content
        personalizations = []
        for message in batch:
            r = message.recipient
            substitutions = {tag(k): v for k, v in edition.variables(r).items()}
            substitutions.update(
                {tag(f"{k}_html"): v for k, v in edition.variables_html(r).items()}
            )
            to = {"email": r.email, "name": r.name} if r.name else {"email": r.email}
            item: dict[str, Any] = {
                "to": [to],
                "substitutions": substitutions,
                "custom_args": {"delivery_id": str(r.delivery_id or "")},
            }
            # Our Message-ID, stable per row: a resend after a crash is recognisably the same.
            item["headers"] = {"Message-ID": r.message_id}
            if content.list_id is not None:
                item["headers"]["List-Unsubscribe"] = edition.list_unsubscribe(r)
            personalizations.append(item)
        data: dict[str, Any] = {
            "personalizations": personalizations,
            "from": _address(content.from_addr),
            "subject": content.subject,
            "content": [
                {"type": "text/plain", "value": edition.template_text(tag)},
                {"type": "text/html", "value": edition.template_html(lambda k: tag(f"{k}_html"))},
            ],
        }
        if content.reply_to:
            data["reply_to"] = _address(content.reply_to)
        if content.list_id is not None:
            data["headers"] = {
                "List-Id": content.list_id,
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            }
        return data

    def _call(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        answer = self.client.post("/v3/mail/send", json=self.payload(batch))
        if answer.failure is not None:
            return [answer.failure] * len(batch)
        assert answer.response is not None
        provider_id = answer.response.headers.get("X-Message-Id")
        return [SendResult("sent", provider_id=provider_id)] * len(batch)

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        if not batch:
            return []
        return isolate_rejections(batch, self._call)

    def close(self) -> None:
        self.client.close()
