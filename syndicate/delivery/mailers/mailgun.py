"""Mailgun: up to 1,000 recipients per call, personalised with recipient-variables.

``POST /v3/{domain}/messages`` with ``to`` repeated and ``recipient-variables`` (JSON
keyed by address); the bodies carry ``%recipient.key%``. Without recipient-variables
Mailgun would show every recipient all the others, so they are always sent.
US endpoint ``api.mailgun.net``, EU ``api.eu.mailgun.net``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from email.utils import formataddr

from syndicate.core.config import MailgunSettings
from syndicate.delivery.mailers.base import OutgoingMessage, SendResult
from syndicate.delivery.mailers.http import ApiClient, isolate_rejections

ENDPOINTS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
MAX_RECIPIENTS = 1000


def _var(key: str) -> str:
    return f"%recipient.{key}%"


class MailgunMailer:
    name = "mailgun"
    max_batch = MAX_RECIPIENTS

    def __init__(self, settings: MailgunSettings, *, api_key: str, timeout: float = 60.0) -> None:
        self.settings = settings
        base = settings.base_url or ENDPOINTS[settings.region]
        self.client = ApiClient(base, auth=("api", api_key), timeout=timeout)
        self.path = f"/v3/{settings.domain}/messages"
        self.events_path = f"/v3/{settings.domain}/events"

    def _call(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        edition = batch[0].edition
        content = edition.content
        variables = {}
        for message in batch:
            r = message.recipient
            values = edition.variables(r)
            values.update({f"{k}_html": v for k, v in edition.variables_html(r).items()})
            values["delivery_id"] = str(r.delivery_id or "")
            values["message_id"] = r.message_id
            variables[r.email] = values
        fields: list[tuple[str, str]] = [
            ("from", content.from_addr),
            ("subject", content.subject),
            ("text", edition.template_text(_var)),
            ("html", edition.template_html(lambda key: _var(f"{key}_html"))),
            ("recipient-variables", json.dumps(variables, ensure_ascii=False)),
            ("v:delivery_id", _var("delivery_id")),
            # Our Message-ID, stable per row: a resend after a crash is recognisably the same.
            ("h:Message-Id", _var("message_id")),
        ]
        fields += [("to", formataddr((m.recipient.name, m.recipient.email))) for m in batch]
        if content.reply_to:
            fields.append(("h:Reply-To", content.reply_to))
        if content.list_id is not None:
            fields += [
                ("h:List-Id", content.list_id),
                ("h:List-Unsubscribe", f"<{_var('unsubscribe_url')}>"),
                ("h:List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                ("h:Auto-Submitted", "auto-generated"),
            ]
        # multipart/form-data, as Mailgun documents (repeated fields keep their order).
        answer = self.client.post(self.path, files=[(k, (None, v)) for k, v in fields])
        if answer.failure is not None:
            return [answer.failure] * len(batch)
        assert answer.response is not None
        try:
            provider_id = answer.response.json().get("id")
        except ValueError:
            provider_id = None
        return [SendResult("sent", provider_id=provider_id)] * len(batch)

    def find_sent(self, message: OutgoingMessage) -> SendResult | None:
        """Whether Mailgun accepted ``message`` in an earlier, uncertain call: its events
        log (``accepted`` events of the recipient) is searched for our Message-ID or
        delivery id. None when not found or the log cannot be read."""
        r = message.recipient
        wanted_id = r.message_id.strip("<>")
        answer = self.client.get_json(
            self.events_path, {"event": "accepted", "recipient": r.email, "limit": 300}
        )
        items = answer.get("items") if isinstance(answer, dict) else None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            message_data = item.get("message")
            headers = message_data.get("headers") if isinstance(message_data, dict) else None
            header_id = headers.get("message-id") if isinstance(headers, dict) else None
            variables = item.get("user-variables")
            delivery = variables.get("delivery_id") if isinstance(variables, dict) else None
            if (isinstance(header_id, str) and header_id.strip("<>") == wanted_id) or (
                r.delivery_id is not None and delivery == str(r.delivery_id)
            ):
                found = header_id if isinstance(header_id, str) else None
                return SendResult("sent", provider_id=found)
        return None

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        if not batch:
            return []
        return isolate_rejections(batch, self._call)

    def close(self) -> None:
        self.client.close()
