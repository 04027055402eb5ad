"""SNS certificate and subscribe URLs: checked as requests parses them, fetched rebuilt.

A URL that one parser reads as an AWS host and another as the attacker's must never
make the server open a connection (a forged SES bounce, or blind SSRF).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from syndicate.service.context import App
from syndicate.web import create_app
from syndicate.web.sns import trusted_url
from tests.support import T0
from tests.support.listener import ConnectionRecorder, recording_listener

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
ATTACKER = "127.0.0.1:{port}"

HOSTILE = [
    "https://{a}\\@sns.us-east-1.amazonaws.com/x.pem",
    "https://{a}\\\\@sns.us-east-1.amazonaws.com/x.pem",
    "https://{a}@sns.us-east-1.amazonaws.com/x.pem",
    "https://user:pw@sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com@{a}/x.pem",
    "https://sns.us-east-1.amazonaws.com:{port}/x.pem",
    "https://sns.us-east-1.amazonaws.com\\@{a}/x.pem",
    "https://{a}#@sns.us-east-1.amazonaws.com/x.pem",
    "https://{a}?@sns.us-east-1.amazonaws.com/x.pem",
    "https://{a}/sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.evil.example.amazonaws.com.{a}/x.pem",
    "https://sns.a.b.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
    "http://sns.us-east-1.amazonaws.com/x.pem",
    "ftp://sns.us-east-1.amazonaws.com/x.pem",
    "//sns.us-east-1.amazonaws.com/x.pem",
    "https:\\\\sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com /x.pem",
    "https://sns.us-east-1.amazonaws.com\t@{a}/x.pem",
    "https://sns.us-east-1.amazonaws.com\n/x.pem",
    "https://sns.us-east-1.amazonaws.com/x.pem\n",
    "https://sns.us-east-1.amazonaws.com\u3002{a}/x.pem",
    "https://SNS.us-east-1.amazonaws.com%40{a}/x.pem",
    "https://[::1]:{port}/x.pem",
    "https://{a}/x.pem",
]


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
    ],
)
def test_genuine_sns_urls_are_rebuilt_unchanged(url: str) -> None:
    assert trusted_url(url) == url


def test_subscribe_url_keeps_its_query() -> None:
    url = (
        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"
        f"&TopicArn={TOPIC}&Token=2336412f37"
    )
    assert trusted_url(url) == url


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_urls_are_refused(template: str) -> None:
    assert trusted_url(template.format(a="evil.example", port=4443)) is None


def test_loopback_http_only_when_configured() -> None:
    assert trusted_url("http://127.0.0.1:8000/c.pem") is None
    assert trusted_url("http://127.0.0.1:8000/c.pem", ["127.0.0.1"]) == (
        "http://127.0.0.1:8000/c.pem"
    )
    assert trusted_url("http://evil.example:8000/c.pem", ["evil.example"]) is None


@pytest.fixture
def config_extra() -> str:
    return f'sns_topic_arns = ["{TOPIC}"]\n'


@pytest.fixture
def listener() -> Iterator[ConnectionRecorder]:
    with recording_listener() as recorder:
        yield recorder


@pytest.fixture
def client(app: App) -> FlaskClient:
    return create_app(app).test_client()


def _message(kind: str, **fields: str) -> dict:
    return {
        "Type": kind,
        "MessageId": "m-1",
        "TopicArn": TOPIC,
        "Message": json.dumps({"notificationType": "Bounce"}),
        "Timestamp": T0.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "SignatureVersion": "2",
        "Signature": base64.b64encode(b"x" * 256).decode(),
        "Token": "t",
        **fields,
    }


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_certificate_urls_never_connect(
    client: FlaskClient, listener: ConnectionRecorder, template: str
) -> None:
    url = template.format(a=listener.address, port=listener.port)
    for kind in ("Notification", "SubscriptionConfirmation"):
        message = _message(kind, SigningCertURL=url, SubscribeURL=url)
        answer = client.post("/webhooks/ses", json=message)
        assert answer.status_code == 403
    assert listener.connections == 0


def test_certificates_are_cached_and_new_urls_limited(app: App, httpserver) -> None:
    """One fetch per certificate URL; a flood of new URLs stops after the fetch budget."""
    from syndicate.web.sns import CertificateCache, SnsRejected

    httpserver.expect_request("/c.pem").respond_with_data("not a certificate")
    cache = CertificateCache(app.clock, fetches=3)
    for n in range(8):
        url = trusted_url(httpserver.url_for(f"/c.pem?n={n % 5}"), ["localhost", "127.0.0.1"])
        assert url is not None
        with pytest.raises(SnsRejected):
            cache.key(url)
    assert len(httpserver.log) == 3
