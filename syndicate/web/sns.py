"""Amazon SNS message verification (for SES bounce and complaint notifications).

SNS signs each message with an RSA key whose X.509 certificate it names by URL
(``SigningCertURL``). We trust the certificate only from the configured hosts
(default ``sns.*.amazonaws.com``, over HTTPS) and messages only from the configured
topics: anyone can create a topic and sign with a genuine AWS certificate, so the
topic list is what makes a message ours.
"""

from __future__ import annotations

import base64
import fnmatch
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class SnsRejected(Exception):
    pass


def string_to_sign(message: dict[str, Any]) -> bytes:
    """SNS's canonical form: ``Key\\nValue\\n`` for each signed key present, in order."""
    keys = _SIGNED_KEYS.get(message.get("Type", ""))
    if keys is None:
        raise SnsRejected(f"unknown SNS message type {str(message.get('Type'))[:40]!r}")
    return "".join(
        f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None
    ).encode()


def trusted_url(url: str, hosts: list[str]) -> bool:
    """An https URL on an allowed host (plain http only for loopback hosts, i.e. tests)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in hosts):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)


class CertificateCache:
    """Signing certificates by URL; fetched once per process."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._certs: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    def key(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            if url in self._certs:
                return self._certs[url]
        try:
            response = requests.get(url, timeout=self.timeout, allow_redirects=False)
            response.raise_for_status()
            public_key = x509.load_pem_x509_certificate(response.content).public_key()
        except (requests.RequestException, ValueError) as exc:
            raise SnsRejected(f"cannot load the signing certificate: {exc}") from None
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise SnsRejected("the signing certificate is not RSA")
        with self._lock:
            self._certs[url] = public_key
        return public_key


def verify(
    message: dict[str, Any],
    *,
    cert_hosts: list[str],
    topics: list[str],
    certificates: CertificateCache,
) -> None:
    """Raise SnsRejected unless the message is signed by SNS for one of our topics."""
    if message.get("TopicArn") not in topics:
        raise SnsRejected("message from a topic that is not configured (web.sns_topic_arns)")
    cert_url = str(message.get("SigningCertURL", ""))
    if not trusted_url(cert_url, cert_hosts):
        raise SnsRejected("signing certificate from an untrusted URL")
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(  # noqa: S303 - SNS v1 is SHA1
        str(message.get("SignatureVersion"))
    )
    if algorithm is None:
        raise SnsRejected("unknown SignatureVersion")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except ValueError:
        raise SnsRejected("signature is not base64") from None
    try:
        certificates.key(cert_url).verify(
            signature, string_to_sign(message), padding.PKCS1v15(), algorithm
        )
    except InvalidSignature:
        raise SnsRejected("bad signature") from None


def confirm_subscription(message: dict[str, Any], *, cert_hosts: list[str]) -> None:
    """Visit SubscribeURL (only on a trusted host) so SNS starts delivering."""
    url = str(message.get("SubscribeURL", ""))
    if not trusted_url(url, cert_hosts):
        raise SnsRejected("SubscribeURL on an untrusted host")
    try:
        requests.get(url, timeout=10, allow_redirects=False).raise_for_status()
    except requests.RequestException as exc:
        raise SnsRejected(f"cannot confirm the subscription: {exc}") from None
