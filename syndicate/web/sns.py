"""Amazon SNS message verification (for SES bounce and complaint notifications).

SNS signs each message with an RSA key whose X.509 certificate it names by URL
(``SigningCertURL``). We fetch a certificate only from an SNS host
(``sns.<region>.amazonaws.com[.cn]``, or an exact host named in ``web.sns_cert_hosts``)
over HTTPS, and trust messages only from the configured topics: anyone can create a
topic and sign with a genuine AWS certificate, so the topic list is what makes a
message ours.

A URL is checked as the HTTP client will parse it (urllib3's ``parse_url``, what
``requests`` connects with), must read the same to the standard library's parser, and
is then rebuilt from the checked parts: the bytes we fetch are the bytes we checked.
"""

from __future__ import annotations

import base64
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from urllib3.util import Url, parse_url

from syndicate.core.clock import Clock
from syndicate.web.security import RateLimiter

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
SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")  # fullmatch
# Tests point web.sns_cert_hosts at a loopback server: plain http and a port only there.
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# Printable ASCII without space or backslash: parsers disagree about everything else.
_URL_CHARS = re.compile(r"[!-\[\]-~]{1,2048}")
MAX_CERT_BYTES = 64 * 1024
FETCH_TIMEOUT = 10.0


class SnsRejected(Exception):
    pass


def string_to_sign(message: dict[str, Any]) -> bytes:
    """SNS's canonical form: ``Key\\nValue\\n`` for each signed key present, in order."""
    keys = _SIGNED_KEYS.get(str(message.get("Type", "")))
    if keys is None:
        raise SnsRejected(f"unknown SNS message type {str(message.get('Type'))[:40]!r}")
    return "".join(
        f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None
    ).encode("utf-8", "surrogatepass")


def trusted_url(url: str, extra_hosts: Iterable[str] = ()) -> str | None:
    """The URL rebuilt from its checked parts, or None when it is not an SNS URL.

    https only, no userinfo, no port, host ``sns.<region>.amazonaws.com[.cn]`` (or one
    of ``extra_hosts`` exactly), as urllib3 parses it and as ``urlsplit`` agrees.
    """
    if not isinstance(url, str) or not _URL_CHARS.fullmatch(url):
        return None
    try:
        parts = parse_url(url)
        std = urlsplit(url)
        std_port = std.port
    except ValueError:
        return None
    host = (parts.host or "").lower()
    loopback = host in _LOOPBACK and host in extra_hosts
    if not (SNS_HOST.fullmatch(host) or host in extra_hosts):
        return None
    if parts.auth is not None or std.username is not None or std.password is not None:
        return None
    if (std.hostname or "") != host.strip("[]") or std_port != parts.port:
        return None
    if parts.port is not None and not loopback:
        return None
    if not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        return None
    rebuilt = Url(
        scheme=parts.scheme, host=host, port=parts.port, path=parts.path, query=parts.query
    ).url
    return rebuilt if parse_url(rebuilt).host == host else None


class CertificateCache:
    """Signing certificates by (checked) URL, fetched once per process.

    Bounded: at most ``max_certs`` kept, at most ``fetches`` network fetches per
    ``window`` (SNS uses a handful of certificates; a flood of new URLs is an attack),
    and a certificate body of at most ``MAX_CERT_BYTES``.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        timeout: float = FETCH_TIMEOUT,
        max_certs: int = 32,
        fetches: int = 10,
        window: timedelta = timedelta(minutes=10),
    ) -> None:
        self.timeout = timeout
        self.max_certs = max_certs
        self._certs: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._lock = threading.Lock()
        self._fetches = RateLimiter(fetches, window, clock, max_keys=1)

    def key(self, url: str) -> rsa.RSAPublicKey:
        """``url`` must come from ``trusted_url``."""
        with self._lock:
            if url in self._certs:
                self._certs.move_to_end(url)
                return self._certs[url]
        if not self._fetches.allow("fetch"):
            raise SnsRejected("too many new signing certificate URLs; not fetching")
        try:
            data = _get(url, self.timeout, MAX_CERT_BYTES)
            public_key = x509.load_pem_x509_certificate(data).public_key()
        except ValueError as exc:
            raise SnsRejected(f"cannot load the signing certificate: {exc}") from None
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise SnsRejected("the signing certificate is not RSA")
        with self._lock:
            self._certs[url] = public_key
            while len(self._certs) > self.max_certs:
                self._certs.popitem(last=False)
        return public_key


def _get(url: str, timeout: float, limit: int) -> bytes:
    """GET a checked URL: no redirects, no proxies from the environment, at most
    ``limit`` bytes read."""
    try:
        with requests.Session() as session:
            session.trust_env = False
            with session.get(url, timeout=timeout, allow_redirects=False, stream=True) as answer:
                answer.raise_for_status()
                data = answer.raw.read(limit + 1, decode_content=True)
    except requests.RequestException as exc:
        raise SnsRejected(f"cannot fetch {url}: {type(exc).__name__}") from None
    if len(data) > limit:
        raise SnsRejected(f"{url} answered more than {limit} bytes")
    return data


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
    cert_url = trusted_url(message.get("SigningCertURL", ""), cert_hosts)
    if cert_url is None or not cert_url.endswith(".pem"):
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
    """Visit SubscribeURL (only an SNS URL, as checked) so SNS starts delivering."""
    url = trusted_url(message.get("SubscribeURL", ""), cert_hosts)
    if url is None:
        raise SnsRejected("SubscribeURL is not an SNS URL")
    _get(url, FETCH_TIMEOUT, MAX_CERT_BYTES)
