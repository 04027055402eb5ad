"""Provider webhooks: correctly signed, wrongly signed and replayed payloads for each.

SES notifications arrive through SNS; the test makes its own signing certificate and
serves it (and the subscription-confirmation URL) from a loopback HTTP server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from syndicate.core.db import transaction, webhook_events
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web import create_app
from syndicate.web.sns import string_to_sign
from tests.support import T0

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
MAILGUN_KEY = "mailgun-signing-key-0123456789"
POSTMARK_AUTH = "hook:s3cret-pass"


@pytest.fixture
def config_extra() -> str:
    # Appended inside the base config's [web] table.
    return f"""webhook_keys = {{ mailgun = "T_MAILGUN_KEY", sendgrid = "T_SENDGRID_KEY", \
postmark = "T_POSTMARK_AUTH" }}
sns_topic_arns = ["{TOPIC}"]
sns_cert_hosts = ["127.0.0.1", "localhost"]
soft_bounce_limit = 2
"""


@pytest.fixture
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def client(
    app: App, monkeypatch: pytest.MonkeyPatch, sendgrid_key: ec.EllipticCurvePrivateKey
) -> FlaskClient:
    public = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("T_MAILGUN_KEY", f"old-key-no-longer-used-000,{MAILGUN_KEY}")
    monkeypatch.setenv("T_SENDGRID_KEY", base64.b64encode(public).decode())
    monkeypatch.setenv("T_POSTMARK_AUTH", POSTMARK_AUTH)
    with transaction(app.engine) as conn:
        for address in ("hard@example.org", "soft@example.org", "angry@example.org"):
            subs.add(conn, address, digests=[], now=T0)
    return create_app(app).test_client()


def status(app: App, address: str) -> tuple[str, int]:
    with app.engine.connect() as conn:
        found = subs.find(conn, address)
    return found.status, found.soft_bounces


def assert_good_bad_replay(client: FlaskClient, app: App, send, address: str, want: str) -> None:
    """The shared script: forged -> 403 and nothing changes; good -> applied; replay -> no-op."""
    forged = send(forge=True)
    assert forged.status_code == 403 and status(app, address) == ("active", 0)
    good = send(forge=False)
    assert good.status_code == 200 and good.get_json() == {"applied": 1, "duplicates": 0}
    after = status(app, address)
    assert after[0] == want
    replay = send(forge=False)
    assert replay.status_code == 200 and replay.get_json() == {"applied": 0, "duplicates": 1}
    assert status(app, address) == after  # a soft bounce is not counted twice


# -- Mailgun --------------------------------------------------------------------------------


def mailgun_body(event: dict, *, key: str = MAILGUN_KEY, when: datetime = T0) -> dict:
    timestamp, token = (
        str(int(when.timestamp())),
        "tok-"
        + hashlib.sha1(  # noqa: S324
            json.dumps(event).encode()
        ).hexdigest(),
    )
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event,
    }


@pytest.mark.parametrize(
    ("event", "address", "want"),
    [
        (
            {
                "event": "failed",
                "severity": "permanent",
                "recipient": "hard@example.org",
                "id": "mg-1",
                "delivery-status": {"description": "No such user"},
            },
            "hard@example.org",
            "bounced",
        ),
        (
            {
                "event": "failed",
                "severity": "temporary",
                "recipient": "soft@example.org",
                "id": "mg-2",
            },
            "soft@example.org",
            "active",
        ),
        (
            {"event": "complained", "recipient": "angry@example.org", "id": "mg-3"},
            "angry@example.org",
            "complained",
        ),
    ],
)
def test_mailgun(client: FlaskClient, app: App, event: dict, address: str, want: str) -> None:
    def send(forge: bool):
        body = mailgun_body(event, key="wrong-key-0123456789" if forge else MAILGUN_KEY)
        return client.post("/webhooks/mailgun", json=body)

    assert_good_bad_replay(client, app, send, address, want)


def test_mailgun_stale_timestamp_and_soft_bounce_limit(client: FlaskClient, app: App) -> None:
    stale = mailgun_body(
        {"event": "failed", "severity": "permanent", "recipient": "hard@example.org", "id": "s"},
        when=T0 - timedelta(days=2),
    )
    assert client.post("/webhooks/mailgun", json=stale).status_code == 403
    for n in range(2):
        event = {
            "event": "failed",
            "severity": "temporary",
            "recipient": "soft@example.org",
            "id": f"soft-{n}",
        }
        client.post("/webhooks/mailgun", json=mailgun_body(event))
    assert status(app, "soft@example.org") == ("bounced", 2)
    assert client.post("/webhooks/mailgun", data=b"not json").status_code == 400


# -- SendGrid -------------------------------------------------------------------------------


def test_sendgrid(client: FlaskClient, app: App, sendgrid_key: ec.EllipticCurvePrivateKey) -> None:
    events = [
        {
            "email": "hard@example.org",
            "event": "bounce",
            "type": "bounce",
            "sg_event_id": "sg-1",
            "reason": "550 no such user",
        },
        {"email": "hard@example.org", "event": "delivered", "sg_event_id": "sg-0"},
    ]
    body = json.dumps(events).encode()
    timestamp = str(int(T0.timestamp()))

    def send(forge: bool):
        signed = timestamp.encode() + (body.replace(b"hard", b"soft") if forge else body)
        signature = sendgrid_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return client.post(
            "/webhooks/sendgrid",
            data=body,
            content_type="application/json",
            headers={
                "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            },
        )

    assert_good_bad_replay(client, app, send, "hard@example.org", "bounced")
    unsigned = client.post("/webhooks/sendgrid", data=body, content_type="application/json")
    assert unsigned.status_code == 403


def post_sendgrid(client: FlaskClient, key: ec.EllipticCurvePrivateKey, events: list[dict]):
    body = json.dumps(events).encode()
    timestamp = str(int(T0.timestamp()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return client.post(
        "/webhooks/sendgrid",
        data=body,
        content_type="application/json",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )


def soft_bounce(event_id: str, email: str = "soft@example.org", reason: str = "busy") -> dict:
    return {
        "email": email,
        "event": "bounce",
        "type": "blocked",
        "sg_event_id": event_id,
        "reason": reason,
    }


def test_sendgrid_same_event_twice_in_one_batch_counts_once(
    client: FlaskClient, app: App, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    response = post_sendgrid(client, sendgrid_key, [soft_bounce("sg-5"), soft_bounce("sg-5")])
    assert response.get_json() == {"applied": 1, "duplicates": 1}
    assert status(app, "soft@example.org") == ("active", 1)


def test_a_failed_batch_records_none_of_its_events(
    client: FlaskClient,
    app: App,
    sendgrid_key: ec.EllipticCurvePrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second event fails in the store, so the first is undone too and the
    provider's retry is not half "replayed"."""
    from sqlalchemy.exc import OperationalError

    def store_fails(*args, **kwargs):
        raise OperationalError("UPDATE subscribers", {}, Exception("the store went away"))

    monkeypatch.setattr(subs, "suppress", store_fails)
    hard = {"email": "hard@example.org", "event": "bounce", "type": "bounce"}
    events = [soft_bounce("sg-20"), hard | {"sg_event_id": "sg-21", "reason": "bounced"}]
    assert post_sendgrid(client, sendgrid_key, events).status_code == 503  # retry later
    assert status(app, "soft@example.org") == ("active", 0)
    with app.engine.connect() as conn:
        assert conn.execute(select(webhook_events)).first() is None


@pytest.mark.parametrize("text", ["bad\x00byte", "lone \ud800 surrogate", "\x07bell"])
def test_unstorable_text_in_a_signed_event_is_cleaned_not_a_500(
    client: FlaskClient, app: App, sendgrid_key: ec.EllipticCurvePrivateKey, text: str
) -> None:
    """PostgreSQL refuses NUL; no driver encodes a lone surrogate (JSON allows both)."""
    hard = {"email": "hard@example.org", "event": "bounce", "type": "bounce"}
    event = hard | {"sg_event_id": f"sg-{text}", "reason": text}
    assert post_sendgrid(client, sendgrid_key, [event]).status_code == 200
    with app.engine.connect() as conn:
        found = subs.find(conn, "hard@example.org")
    assert found.status == "bounced" and "\x00" not in found.status_reason


# -- Postmark -------------------------------------------------------------------------------


def test_postmark(client: FlaskClient, app: App) -> None:
    payload = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Email": "angry@example.org",
        "Type": "SpamComplaint",
    }

    def send(forge: bool):
        auth = "hook:guess" if forge else POSTMARK_AUTH
        header = "Basic " + base64.b64encode(auth.encode()).decode()
        return client.post("/webhooks/postmark", json=payload, headers={"Authorization": header})

    assert_good_bad_replay(client, app, send, "angry@example.org", "complained")
    assert client.post("/webhooks/postmark", json=payload).status_code == 403


def test_postmark_hard_bounce(client: FlaskClient, app: App) -> None:
    header = "Basic " + base64.b64encode(POSTMARK_AUTH.encode()).decode()
    payload = {
        "RecordType": "Bounce",
        "ID": 7,
        "Type": "HardBounce",
        "Email": "hard@example.org",
        "Description": "mailbox does not exist",
    }
    assert (
        client.post(
            "/webhooks/postmark", json=payload, headers={"Authorization": header}
        ).status_code
        == 200
    )
    with app.engine.connect() as conn:
        found = subs.find(conn, "hard@example.org")
    assert found.status == "bounced" and "does not exist" in found.status_reason


# -- SES through SNS ------------------------------------------------------------------------


@pytest.fixture
def sns_signer(httpserver: HTTPServer):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    httpserver.expect_request("/SimpleNotificationService.pem").respond_with_data(
        cert.public_bytes(serialization.Encoding.PEM), content_type="application/x-pem-file"
    )
    cert_url = httpserver.url_for("/SimpleNotificationService.pem")

    def sign(message: dict, *, version: str = "2", forge: bool = False) -> dict:
        message = dict(message, SignatureVersion=version, SigningCertURL=cert_url)
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303
        signature = key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        if forge:
            message["Message"] = message["Message"].replace("soft", "hard")
        return dict(message, Signature=base64.b64encode(signature).decode())

    return sign


def sns_notification(note: dict, message_id: str = "sns-1") -> dict:
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Message": json.dumps(note),
        "Timestamp": T0.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_bounce_via_sns(client: FlaskClient, app: App, sns_signer, version: str) -> None:
    note = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Transient",
            "bouncedRecipients": [{"emailAddress": "soft@example.org"}],
        },
    }

    def send(forge: bool):
        message = sns_signer(sns_notification(note), version=version, forge=forge)
        return client.post(
            "/webhooks/ses", data=json.dumps(message), content_type="text/plain; charset=UTF-8"
        )

    forged = send(True)
    assert forged.status_code == 403 and status(app, "soft@example.org") == ("active", 0)
    assert send(False).get_json() == {"applied": 1, "duplicates": 0}
    assert status(app, "soft@example.org") == ("active", 1)
    assert send(False).get_json() == {"applied": 0, "duplicates": 1}
    assert status(app, "soft@example.org") == ("active", 1)


def test_ses_complaint_event_publishing(client: FlaskClient, app: App, sns_signer) -> None:
    note = {
        "eventType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": "angry@example.org"}]},
    }
    message = sns_signer(sns_notification(note, "sns-9"))
    assert client.post("/webhooks/ses", json=message).status_code == 200
    assert status(app, "angry@example.org")[0] == "complained"


def test_ses_subscription_confirmation(
    client: FlaskClient, sns_signer, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/confirm", query_string="Token=abc").respond_with_data("ok")
    message = sns_signer(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "c-1",
            "TopicArn": TOPIC,
            "Token": "abc",
            "Message": "You have chosen to subscribe",
            "SubscribeURL": httpserver.url_for("/confirm") + "?Token=abc",
            "Timestamp": T0.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
    )
    assert client.post("/webhooks/ses", json=message).status_code == 200
    assert any(req.path == "/confirm" for req, _ in httpserver.log)


def test_ses_refuses_other_topics_and_untrusted_certificates(
    client: FlaskClient, app: App, sns_signer, httpserver: HTTPServer
) -> None:
    note = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "hard@example.org"}],
        },
    }
    other_topic = sns_signer(dict(sns_notification(note), TopicArn="arn:aws:sns:x:1:attacker"))
    assert client.post("/webhooks/ses", json=other_topic).status_code == 403
    untrusted = sns_signer(sns_notification(note, "sns-2"))
    untrusted["SigningCertURL"] = "https://evil.example/cert.pem"
    assert client.post("/webhooks/ses", json=untrusted).status_code == 403
    assert status(app, "hard@example.org") == ("active", 0)


# -- malformed and non-ASCII input: 4xx, never a 500 ------------------------------------------


@pytest.mark.parametrize(
    "event_data", ["a string", 7, ["failed"], True, {"event": "failed", "delivery-status": "x"}]
)
def test_signed_mailgun_body_with_a_malformed_event_is_a_400(
    client: FlaskClient, app: App, caplog: pytest.LogCaptureFixture, event_data
) -> None:
    body = mailgun_body({})
    body["event-data"] = event_data
    answer = client.post("/webhooks/mailgun", json=body)
    assert answer.status_code == 400
    assert all(r.levelno < 40 and r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize("given", ["é" * 64, "\u00ff", "𝔸"])
def test_non_ascii_mailgun_signature_is_a_403(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, given: str
) -> None:
    body = mailgun_body({"event": "failed", "recipient": "hard@example.org", "id": "x"})
    body["signature"]["signature"] = given
    assert client.post("/webhooks/mailgun", json=body).status_code == 403
    assert all(r.levelno < 40 and r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize("credentials", ["hook:pässword", "hööк:s3cret-pass", "é:é"])
def test_non_ascii_postmark_credentials_are_a_403(
    client: FlaskClient, app: App, caplog: pytest.LogCaptureFixture, credentials: str
) -> None:
    auth = base64.b64encode(credentials.encode()).decode()
    answer = client.post(
        "/webhooks/postmark",
        json={"RecordType": "Bounce", "Type": "HardBounce", "Email": "hard@example.org"},
        headers={"Authorization": f"Basic {auth}"},
    )
    assert answer.status_code == 403 and status(app, "hard@example.org") == ("active", 0)
    assert all(r.levelno < 40 and r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[" * 100_000,
        b'{"Type": ["Notification"], "TopicArn": "' + TOPIC.encode() + b'"}',
        b'{"Type": {}, "TopicArn": "' + TOPIC.encode() + b'", "SignatureVersion": "2"}',
    ],
)
def test_malformed_bodies_are_4xx_on_every_provider(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    for provider in ("mailgun", "sendgrid", "postmark", "ses"):
        answer = client.post(f"/webhooks/{provider}", data=body, content_type="application/json")
        assert 400 <= answer.status_code < 500, provider
    assert all(r.levelno < 40 and r.exc_info is None for r in caplog.records)


def test_signed_ses_message_with_malformed_recipients_is_a_400(
    client: FlaskClient, app: App, sns_signer
) -> None:
    note = {"notificationType": "Bounce", "bounce": {"bouncedRecipients": ["hard@example.org"]}}
    answer = client.post("/webhooks/ses", json=sns_signer(sns_notification(note, "sns-m")))
    assert answer.status_code == 400 and status(app, "hard@example.org") == ("active", 0)
