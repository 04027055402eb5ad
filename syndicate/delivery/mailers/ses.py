"""Amazon SES v2 through boto3 (the ``ses`` extra).

Each message goes as ``SendEmail`` with ``Content.Raw``: the exact bytes ``messages``
built, so the headers (List-Unsubscribe, Message-ID, one-click) are the same as over
SMTP. (``SendBulkEmail`` needs a stored template and per-entry replacement headers;
raw sends keep one message format for every provider.) botocore's own retries are off:
a 5xx or a timeout may have sent the mail, and the outbox decides what happens next.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

from syndicate.core.config import SesSettings
from syndicate.core.errors import ConfigError, install_hint
from syndicate.delivery.mailers.base import OutgoingMessage, SendResult

MAX_BATCH = 50
TEMPORARY_CODES = {
    "TooManyRequestsException",
    "Throttling",
    "ThrottlingException",
    "LimitExceededException",
    "SendingPausedException",
    "AccountSuspendedException",
    "ServiceUnavailable",
}


class SesMailer:
    name = "ses"
    max_batch = MAX_BATCH

    def __init__(
        self,
        settings: SesSettings,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise ConfigError("mail.provider 'ses' needs boto3", hint=install_hint("ses")) from None
        self.configuration_set = settings.configuration_set
        self.client: Any = boto3.client(
            "sesv2",
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=timeout,
                read_timeout=timeout,
            ),
        )

    def _send(self, message: OutgoingMessage) -> SendResult:
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        request: dict[str, Any] = {
            "FromEmailAddress": parseaddr(message.edition.content.from_addr)[1],
            "Destination": {"ToAddresses": [message.recipient.email]},
            "Content": {"Raw": {"Data": message.raw()}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            answer = self.client.send_email(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            words = f"SES {code}: {error.get('Message', '')}"[:500]
            if code in TEMPORARY_CODES or status in (429, 503):
                return SendResult("temporary", error=words)
            if status >= 500:
                return SendResult("uncertain", error=words)
            return SendResult("permanent", error=words)
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            return SendResult("temporary", error=f"cannot reach SES: {exc}")
        except ReadTimeoutError as exc:
            return SendResult("uncertain", error=f"SES did not answer in time: {exc}")
        return SendResult("sent", provider_id=answer.get("MessageId"))

    def send_batch(self, batch: Sequence[OutgoingMessage]) -> list[SendResult]:
        return [self._send(message) for message in batch]

    def close(self) -> None:
        pass
