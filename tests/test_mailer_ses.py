"""Amazon SES v2 through boto3, against moto in server mode on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes

import pytest
import requests

from syndicate.core.config import SesSettings, Settings
from syndicate.delivery.mailers.ses import SesMailer
from tests.support import free_port
from tests.test_mailer_http import outgoing


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def ses(moto_url: str) -> SesMailer:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10)
    return SesMailer(
        SesSettings(region="eu-west-1", endpoint_url=moto_url),
        access_key="testing",
        secret_key="testing",
    )


def test_unverified_sender_is_refused_for_good(settings: Settings, ses: SesMailer) -> None:
    results = ses.send_batch(outgoing(settings, 2))
    assert [r.outcome for r in results] == ["permanent", "permanent"]
    assert (results[0].error or "").startswith("SES MessageRejected: ")


def test_raw_messages_are_sent_with_our_headers(
    settings: Settings, ses: SesMailer, moto_url: str
) -> None:
    ses.client.create_email_identity(EmailIdentity="news.example.org")
    batch = outgoing(settings, 3)
    results = ses.send_batch(batch)
    assert [r.outcome for r in results] == ["sent"] * 3
    assert all(r.provider_id for r in results)
    # moto (in this process) keeps the raw bytes it was sent: ours, headers and all.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages
    assert [m.destinations[0] for m in sent] == [f"r{i}@example.com" for i in range(3)]
    received = message_from_bytes(sent[1].raw_data.encode())
    assert received["Message-ID"] == batch[1].message_id
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["List-Unsubscribe"].startswith(f"<{batch[1].recipient.unsubscribe_url}>")


def test_unreachable_endpoint_is_temporary(settings: Settings) -> None:
    mailer = SesMailer(
        SesSettings(region="eu-west-1", endpoint_url=f"http://127.0.0.1:{free_port()}"),
        access_key="testing",
        secret_key="testing",
    )
    results = mailer.send_batch(outgoing(settings, 1))
    assert results[0].outcome == "temporary"
