"""Postmark: ``POST /email/batch``, up to 500 messages (50 MB) per call.

Newsletters go on a broadcast ``MessageStream``. An HTTP 200 answer is an array with
one entry per message, each with its own ``ErrorCode`` (0 = accepted): a batch can
be half refused, so every entry is read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from email.utils import formataddr
from typing import Any

from syndicate.core.config import PostmarkSettings
from syndicate.delivery.mailers.base import OutgoingMessage, SendResult
from syndicate.delivery.mailers.http import ApiClient

MAX_MESSAGES = 500
MAX_BYTES = 45 * 1024 * 1024  # under Postmark's 50 MB, leaving room for JSON overhead
# ErrorCodes that describe the account or the moment, not the recipient.
TEMPORARY_CODES = {100, 405, 429}
# 406 "Inactive recipient": Postmark has the address on its own list after a hard
# bounce or spam complaint; it will never take mail for it again.
INACTIVE_RECIPIENT = 406


class PostmarkMailer:
    name = "postmark"
    max_batch = MAX_MESSAGES

    def __init__(self, settings: PostmarkSettings, *, token: str, timeout: float = 60.0) -> None:
        self.stream = settings.message_stream
        self.client = ApiClient(
            settings.base_url,
            headers={
                "X-Postmark-Server-Token": token,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            timeout=timeout,
        )

    def message(self, outgoing: OutgoingMessage) -> dict[str, Any]:
        edition, r = outgoing.edition, outgoing.recipient
        content = edition.content
        item: dict[str, Any] = {
            "From": content.from_addr,
            "To": formataddr((r.name, r.email)),
            "Subject": content.subject,
            "TextBody": edition.text_for(r),
            "HtmlBody": edition.html_for(r),
            "MessageStream": self.stream,
            "Metadata": self.metadata(outgoing),
            "TrackOpens": False,
        }
        if content.reply_to:
            item["ReplyTo"] = content.reply_to
        # Our Message-ID, stable per row: a resend after a crash is recognisably the same.
        item["Headers"] = [{"Name": "Message-ID", "Value": r.message_id}]
        if content.list_id is not None:
            item["Headers"] += [
                {"Name": "List-Id", "Value": content.list_id},
                {"Name": "List-Unsubscribe", "Value": edition.list_unsubscribe(r)},
                {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
                {"Name": "Auto-Submitted", "Value": "auto-generated"},
            ]
        return item

    def _call(self, body: bytes, count: int) -> list[SendResult]:
        answer = self.client.post("/email/batch", data=body)
        if answer.failure is not None:
            return [answer.failure] * count
        assert answer.response is not None
        try:
            entries = answer.response.json()
        except ValueError:
            entries = None
        if not isinstance(entries, list) or len(entries) != count:
            return [
                SendResult("uncertain", error="Postmark answered 200 with an unreadable body")
            ] * count
        results = []
        for entry in entries:
            code = int(entry.get("ErrorCode", 0) or 0)
            if code == 0:
                results.append(SendResult("sent", provider_id=entry.get("MessageID")))
                continue
            outcome = "temporary" if code in TEMPORARY_CODES else "permanent"
            words = f"Postmark {code}: {entry.get('Message', '')}"[:500]
            bounce = "hard" if code == INACTIVE_RECIPIENT else None
            results.append(SendResult(outcome, error=words, bounce=bounce))
        return results

    def find_sent(self, message: OutgoingMessage) -> SendResult | None:
        """Whether Postmark accepted ``message`` in an earlier, uncertain call: the
        outbound message search for the recipient, matched on our delivery id and
        Message-ID carried as Metadata. None when not found or the search failed."""
        r = message.recipient
        answer = self.client.get_json(
            "/messages/outbound", {"recipient": r.email, "count": 500, "offset": 0}
        )
        found = answer.get("Messages") if isinstance(answer, dict) else None
        for entry in found if isinstance(found, list) else []:
            metadata = entry.get("Metadata") if isinstance(entry, dict) else None
            if isinstance(metadata, dict) and metadata == self.metadata(message):
                return SendResult("sent", provider_id=entry.get("MessageID"))
        return None

    @staticmethod
    def metadata(outgoing: OutgoingMessage) -> dict[str, str]:
        """What identifies the row at Postmark (values are limited to 80 characters)."""
        r = outgoing.recipient
        return {"delivery_id": str(r.delivery_id or ""), "message_id": r.message_id[:80]}

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        results: list[SendResult] = []
        pending: list[bytes] = []
        size = 2
        for outgoing in batch:
            encoded = json.dumps(self.message(outgoing), ensure_ascii=False).encode()
            if pending and (size + len(encoded) + 1 > MAX_BYTES or len(pending) >= MAX_MESSAGES):
                results += self._call(b"[" + b",".join(pending) + b"]", len(pending))
                pending, size = [], 2
            pending.append(encoded)
            size += len(encoded) + 1
        if pending:
            results += self._call(b"[" + b",".join(pending) + b"]", len(pending))
        return results

    def close(self) -> None:
        self.client.close()
