"""Hostile input against a real ``syndicate serve`` on a loopback ephemeral port.

Every case is sent as raw bytes (no client library normalises the path, the headers or
the body) and checked the way an outside suite would: the status is the expected 4xx
(or a harmless 200/3xx), never a 500; the server log shows no traceback and no ERROR;
no subscriber changed; no webhook event was recorded; the connection-recording
listener the SSRF cases aim at was never dialled; nothing hostile is reflected.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from syndicate.articles import all_articles
from syndicate.core.config import load_settings
from syndicate.core.db import transaction, webhook_events
from syndicate.core.tokens import Signer
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web.security import csrf_token
from tests.support import write_config
from tests.support.listener import ConnectionRecorder
from tests.support.processes import SyndicateProcess
from tests.support.webserver import SECRET

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
MAILGUN_KEY = "mailgun-hostile-key-0123456789"
POSTMARK_AUTH = "hook:pm-secret"
SECRET_TEXT = "root:x:0:0:HOSTILE-SECRET:/root"
EVIL = "evil.example"
SCRIPT = "<script>alert(1)</script>"

CONFIG = f"""webhook_keys = {{ mailgun = "H_MAILGUN", sendgrid = "H_SENDGRID", \
postmark = "H_POSTMARK" }}
sns_topic_arns = ["{TOPIC}"]
subscribe_per_hour = 100000
connection_limit = 50
channel_timeout_seconds = 5
max_body_bytes = 262144

[[digests]]
name = "weekly"
title = "Weekly"
schedule = "0 8 * * MON"

[[feeds]]
name = "all"
path = "all"
"""


# -- a raw HTTP client ----------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def send_raw(port: int, data: bytes, timeout: float = 15.0) -> Answer:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # the server may answer (413) and close before the body is all sent
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    head, _, body = received.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 1"):  # an interim answer (100 Continue): the next one
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = [tuple(line.split(": ", 1)) for line in lines[1:] if ": " in line]
    return Answer(status, headers, body)  # type: ignore[arg-type]


def request_bytes(
    method: str,
    target: str | bytes,
    *,
    headers: dict[str, str | bytes] | None = None,
    body: bytes = b"",
    host: str | bytes = "news.example.org",
) -> bytes:
    target_b = target if isinstance(target, bytes) else target.encode("utf-8")
    lines = [method.encode() + b" " + target_b + b" HTTP/1.1"]
    all_headers: dict[str, str | bytes] = {"Host": host, "Connection": "close"}
    if body or method == "POST":
        all_headers["Content-Length"] = str(len(body))
    all_headers.update(headers or {})
    for name, value in all_headers.items():
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        lines.append(name.encode() + b": " + raw)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON_TYPE = {"Content-Type": "application/json"}


# -- the server and what it knows -------------------------------------------------------------


@dataclass
class World:
    port: int
    process: SyndicateProcess
    app: App
    signer: Signer
    ann: int
    bob: int
    pending: int
    listener: ConnectionRecorder
    root: Path
    config: Path
    sendgrid_key: object = None
    baseline: dict[str, str] = field(default_factory=dict)

    def token(self, purpose: str, subject: int, days: int = 5) -> str:
        return self.signer.make(purpose, subject, datetime.now(UTC) + timedelta(days=days))

    def statuses(self) -> dict[str, str]:
        with self.app.engine.connect() as conn:
            return {s.email: s.status for s in subs.list_subscribers(conn)}

    def webhook_events(self) -> int:
        with self.app.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(webhook_events)).scalar_one()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    root = tmp_path_factory.mktemp("hostile")
    (root / "private").mkdir()
    (root / "private" / "passwd.txt").write_text(f"Secrets\n\n{SECRET_TEXT}\n")
    feeds = root / "feeds"
    (feeds / "all").mkdir(parents=True)
    (feeds / "all" / "atom.xml").write_bytes(b'<?xml version="1.0"?><feed/>')
    (feeds / "leak.xml").symlink_to(root / "private" / "passwd.txt")
    (feeds / "all" / "up").symlink_to(root / "private")
    (feeds / ".hidden.xml").write_text(SECRET_TEXT)
    articles = root / "articles"
    articles.mkdir()
    (articles / "real.md").write_text("# A real article\n\nHello.\n")
    (articles / "p.txt").symlink_to(root / "private" / "passwd.txt")
    (articles / "docs").symlink_to(root / "private")

    config = write_config(root, f"sqlite:///{root / 'store.db'}", CONFIG)
    sendgrid_key = ec.generate_private_key(ec.SECP256R1())
    public = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    env = {
        "SYNDICATE_SECRET": SECRET,
        "H_MAILGUN": MAILGUN_KEY,
        "H_SENDGRID": base64.b64encode(public).decode(),
        "H_POSTMARK": POSTMARK_AUTH,
    }
    app = App(load_settings(config))
    now = datetime.now(UTC)
    with transaction(app.engine) as conn:
        ann, _ = subs.add(conn, "ann@example.org", name="Ann", digests=["weekly"], now=now)
        bob, _ = subs.add(conn, "bob@example.org", name="Bob", digests=["weekly"], now=now)
        pending, _ = subs.request(conn, "pat@example.org", name="Pat", digests=["weekly"], now=now)
    # the import of a folder with links out of it: nothing private may be stored
    imported = subprocess.run(
        [
            sys.executable,
            "-m",
            "syndicate",
            "--config",
            str(config),
            "import",
            "--json",
            "articles",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["counts"]["skipped"] == 2
    listener = ConnectionRecorder()
    process = SyndicateProcess(config, "serve", env=env)
    try:
        line = process.wait_for(r"web app on http://127\.0\.0\.1:(\d+)/", timeout=60)
        port = int(line.rsplit(":", 1)[1].strip("/"))
        world = World(
            port=port,
            process=process,
            app=app,
            signer=Signer([SECRET.encode()]),
            ann=ann.id,
            bob=bob.id,
            pending=pending.id,
            listener=listener,
            root=root,
            config=config,
            sendgrid_key=sendgrid_key,
        )
        world.baseline = world.statuses()
        yield world
    finally:
        process.stop()
        listener.close()
        app.close()


# -- the cases --------------------------------------------------------------------------------

Build = Callable[[World], bytes]
Check = Callable[[World, Answer], None]


@dataclass(frozen=True)
class Case:
    id: str
    build: Build
    expect: tuple[int, ...]
    check: Check | None = None


CASES: list[Case] = []


def case(id: str, build: Build, expect: tuple[int, ...], check: Check | None = None) -> None:
    CASES.append(Case(id, build, expect, check))


def not_reflected(*needles: str) -> Check:
    def check(world: World, answer: Answer) -> None:
        text = answer.body.decode("utf-8", "replace")
        for needle in needles:
            assert needle not in text, f"{needle!r} reflected in the body"
            for _, value in answer.headers:
                assert needle not in value, f"{needle!r} reflected in a header"

    return check


def no_header(name: str) -> Check:
    def check(world: World, answer: Answer) -> None:
        assert answer.header(name) is None, f"{name} header present"

    return check


def location_has_no_host(world: World, answer: Answer) -> None:
    location = answer.header("Location")
    assert location is None or (location.startswith("/") and not location.startswith("//"))
    assert EVIL not in json.dumps(answer.headers)


def get(target: str | bytes, **kw) -> Build:
    return lambda w: request_bytes("GET", target, **kw)


def post(target: str | bytes, body: bytes, headers: dict | None = None, **kw) -> Build:
    return lambda w: request_bytes("POST", target, body=body, headers=headers or FORM, **kw)


# XSS: nothing hostile comes back unescaped (the pages have a strict CSP as well)
for n, payload in enumerate(
    [
        SCRIPT,
        '"><img src=x onerror=alert(1)>',
        '<a href="javascript:alert(1)">x</a>',
        "<svg/onload=alert(1)>",
        "';alert(1);//",
    ]
):
    quoted = quote(payload, safe="")
    case(
        f"xss-digest-name-{n}",
        get(f"/digests/{quoted}/"),
        (301, 308, 404),  # '//' in a payload is merged: a path-only redirect
        not_reflected(payload),
    )
    case(f"xss-feed-path-{n}", get(f"/feeds/{quoted}"), (404,), not_reflected(payload))
    case(
        f"xss-subscribe-fields-{n}",
        post(
            "/subscribe",
            f"email={quoted}&name={quoted}&digest=weekly".encode(),
        ),
        (400,),
        not_reflected(payload),
    )
case("xss-edition-date", get("/digests/weekly/%3Cscript%3E"), (404,), not_reflected(SCRIPT))
case("xss-asset", get("/assets/%3Cscript%3E.css"), (404,), not_reflected(SCRIPT))

# Header injection: CR/LF never reaches a response header
for n, target in enumerate(
    [
        b"/feeds%0d%0aSet-Cookie:%20evil=1",
        b"/digests/weekly%0d%0aSet-Cookie:%20evil=1",
        b"/feeds/%0d%0aLocation:%20http://evil.example/",
        b"/unsubscribe/%0d%0aSet-Cookie:%20evil=1",
    ]
):
    case(f"crlf-path-{n}", get(target), (301, 308, 400, 404), no_header("Set-Cookie"))
case(
    "crlf-subscribe-name",
    post("/subscribe", b"email=ann%40example.org%0d%0aBcc:%20x%40evil.example&digest=weekly"),
    (400,),
    no_header("Set-Cookie"),
)
for n, host in enumerate(
    [EVIL, f"{EVIL}:443", "news.example.org.evil.example", f"news.example.org@{EVIL}"]
):
    case(f"host-feeds-{n}", get("/feeds", host=host), (301, 308, 400), location_has_no_host)
    case(
        f"host-digests-{n}",
        get("/digests/weekly", host=host),
        (301, 308, 400),
        location_has_no_host,
    )
case(
    "forwarded-host-ignored-without-proxies",
    get("/feeds", headers={"X-Forwarded-Host": EVIL}),
    (308,),
    location_has_no_host,
)
case("absolute-form-target", get(f"http://{EVIL}/feeds"), (301, 308, 400), location_has_no_host)


# Tokens: forged, mangled, misused, non-ASCII, oversized
def token_variants(world: World, purpose: str = "unsubscribe") -> dict[str, str]:
    good = world.token(purpose, world.ann)
    payload, _, mac = good.partition(".")
    bob_payload = world.token(purpose, world.bob).partition(".")[0]
    other = "preferences" if purpose == "unsubscribe" else "unsubscribe"
    return {
        "other-subscriber": f"{bob_payload}.{mac}",
        "zero-mac": f"{payload}.{'A' * len(mac)}",
        "wrong-purpose": world.token(other, world.ann),
        "truncated": good[:-3],
        "no-mac": payload,
        "empty-payload": f".{mac}",
        "non-ascii": f"{payload}.{'é' * len(mac)}",
        "rtl": f"{payload}.\u202e{mac}",
        "huge": "x" * 4000,
        "nul": f"{payload}%00.{mac}",
        "dots": "../../etc/passwd",
        "expired": world.token(purpose, world.ann, days=-1),
    }


TOKEN_KINDS = [
    "other-subscriber",
    "zero-mac",
    "wrong-purpose",
    "truncated",
    "no-mac",
    "empty-payload",
    "non-ascii",
    "rtl",
    "huge",
    "nul",
    "dots",
    "expired",
]
for kind in TOKEN_KINDS:
    case(
        f"token-unsubscribe-post-{kind}",
        lambda w, kind=kind: request_bytes(
            "POST",
            "/unsubscribe/" + quote(token_variants(w)[kind], "/%"),
            body=b"List-Unsubscribe=One-Click",
            headers=FORM,
        ),
        (400, 404),
    )
for kind in ("zero-mac", "non-ascii", "wrong-purpose", "huge"):
    for purpose in ("confirm", "preferences"):
        case(
            f"token-{purpose}-post-{kind}",
            lambda w, kind=kind, purpose=purpose: request_bytes(
                "POST",
                f"/{purpose}/" + quote(token_variants(w, purpose)[kind], "/%"),
                body=b"digest=weekly&csrf=00",
                headers=FORM,
            ),
            (400, 403, 404),
        )
# Only POST changes: HEAD and friends with the one-click body
for method in ("HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "GET"):
    case(
        f"method-{method.lower()}-unsubscribe",
        lambda w, method=method: request_bytes(
            method,
            f"/unsubscribe/{w.token('unsubscribe', w.ann)}",
            body=b"List-Unsubscribe=One-Click",
            headers=FORM,
        ),
        (200, 405),
    )
    case(
        f"method-{method.lower()}-confirm",
        lambda w, method=method: request_bytes(
            method, f"/confirm/{w.token('confirm', w.pending)}", body=b"x=1", headers=FORM
        ),
        (200, 405),
    )
case(
    "unsubscribe-post-without-one-click",
    lambda w: request_bytes(
        "POST", f"/unsubscribe/{w.token('unsubscribe', w.ann)}", body=b"x=1", headers=FORM
    ),
    (400,),
)


# CSRF on the preferences form
def prefs(csrf: Callable[[World], str], headers: dict[str, str] | None = None) -> Build:
    def build(world: World) -> bytes:
        token = world.token("preferences", world.ann)
        body = f"digest=weekly&timezone=Asia%2FTokyo&name=Evil&csrf={csrf(world)}".encode()
        return request_bytes(
            "POST", f"/preferences/{token}", body=body, headers={**FORM, **(headers or {})}
        )

    return build


def valid_csrf(world: World) -> str:
    # the CSRF MAC is bound to the page's token; the token is made fresh per case, so
    # the forms below make one for a *different* token (another page) unless noted
    return csrf_token(world.signer, world.token("preferences", world.bob))


case("csrf-missing", prefs(lambda w: ""), (403,))
case("csrf-zero", prefs(lambda w: "0" * 32), (403,))
case("csrf-non-ascii", prefs(lambda w: "%C3%A9" * 16), (403,))
case("csrf-other-page", prefs(valid_csrf), (403,))
case("csrf-huge", prefs(lambda w: "a" * 5000), (403,))


def own_csrf_build(headers: dict[str, str], zone: str = "Asia%2FTokyo") -> Build:
    def build(world: World) -> bytes:
        token = world.token("preferences", world.ann)
        csrf = csrf_token(world.signer, token)
        body = f"digest=weekly&timezone={zone}&name=Ann&csrf={csrf}".encode()
        return request_bytes(
            "POST", f"/preferences/{token}", body=body, headers={**FORM, **headers}
        )

    return build


case("csrf-cross-site-fetch", own_csrf_build({"Sec-Fetch-Site": "cross-site"}), (403,))
case("csrf-foreign-origin", own_csrf_build({"Origin": f"https://{EVIL}"}), (403,))
case(
    "csrf-lookalike-origin",
    own_csrf_build({"Origin": "https://news.example.org.evil.example"}),
    (403,),
)
for n, zone in enumerate(
    ["A" * 400, "..%2F..%2F..%2Fetc%2Fpasswd", "Europe", "UTC%00", "%C3%A9urope%2FKyiv"]
):
    case(f"timezone-{n}", own_csrf_build({"Origin": "https://news.example.org"}, zone), (400,))


# Webhooks, every provider
def mailgun(event_data: object, *, key: str = MAILGUN_KEY, stamp: int | None = None, sig=None):
    def build(world: World) -> bytes:
        timestamp = str(stamp if stamp is not None else int(time.time()))
        token = "tok-" + hashlib.sha1(json.dumps(event_data).encode()).hexdigest()  # noqa: S324
        signature = (
            sig or hmac.new(key.encode(), (timestamp + token).encode(), "sha256").hexdigest()
        )
        body = {
            "signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": event_data,
        }
        return request_bytes(
            "POST", "/webhooks/mailgun", body=json.dumps(body).encode(), headers=JSON_TYPE
        )

    return build


BOUNCE_ANN = {
    "event": "failed",
    "severity": "permanent",
    "recipient": "ann@example.org",
    "id": "h1",
}
case("mailgun-unsigned-key", mailgun(BOUNCE_ANN, key="wrong-key"), (403,))
case("mailgun-non-ascii-signature", mailgun(BOUNCE_ANN, sig="é" * 64), (403,))
case("mailgun-stale", mailgun(BOUNCE_ANN, stamp=int(time.time()) - 86400 * 3), (403,))
case("mailgun-future", mailgun(BOUNCE_ANN, stamp=10**12), (403,))
case("mailgun-huge-stamp", mailgun(BOUNCE_ANN, stamp=10**400), (403,))
for n, data in enumerate(
    ["string", 7, ["failed"], None, {"event": "failed", "delivery-status": 5}]
):
    expect = (200,) if data is None else (400,)
    case(f"mailgun-signed-malformed-{n}", mailgun(data), expect)
for n, body in enumerate(
    [b"{", b"[]", b'"x"', b"\xff\xfe", b"[" * 50000, b'{"signature": "x"}', b"null"]
):
    for provider in ("mailgun", "sendgrid", "postmark", "ses"):
        case(
            f"webhook-{provider}-garbage-{n}",
            post(f"/webhooks/{provider}", body, JSON_TYPE),
            (400, 403),
        )
case("webhook-unknown-provider", post("/webhooks/evil", b"{}", JSON_TYPE), (404,))
case("webhook-get", get("/webhooks/mailgun"), (405,))


def sendgrid(signature: str, timestamp: str | None = None) -> Build:
    events = [{"event": "bounce", "email": "ann@example.org", "sg_event_id": "sg-h"}]
    return lambda w: request_bytes(
        "POST",
        "/webhooks/sendgrid",
        body=json.dumps(events).encode(),
        headers={
            **JSON_TYPE,
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp or str(int(time.time())),
        },
    )


case("sendgrid-no-signature", sendgrid(""), (403,))
case("sendgrid-not-base64", sendgrid("!!!not base64!!!"), (403,))
case("sendgrid-random-signature", sendgrid(base64.b64encode(b"x" * 70).decode()), (403,))
case("sendgrid-non-ascii-timestamp", sendgrid("AAAA", "é"), (403,))


def postmark(auth: bytes | None) -> Build:
    body = json.dumps({"RecordType": "Bounce", "Type": "HardBounce", "Email": "ann@example.org"})
    headers: dict[str, str | bytes] = dict(JSON_TYPE)
    if auth is not None:
        headers["Authorization"] = auth
    return lambda w: request_bytes(
        "POST", "/webhooks/postmark", body=body.encode(), headers=headers
    )


case("postmark-no-auth", postmark(None), (403,))
case("postmark-wrong-auth", postmark(b"Basic " + base64.b64encode(b"hook:wrong")), (403,))
case(
    "postmark-non-ascii-auth",
    postmark(b"Basic " + base64.b64encode("hook:pässwörd".encode())),
    (403,),
)
case("postmark-latin1-header", postmark(b"Basic \xe9\xe9\xe9"), (403,))
case("postmark-bearer", postmark(b"Bearer " + POSTMARK_AUTH.encode()), (403,))
case("postmark-garbage-base64", postmark(b"Basic ####"), (403,))


# SSRF: SNS URLs that one parser reads as AWS and another as the listener
def sns(kind: str, url_template: str) -> Build:
    def build(world: World) -> bytes:
        url = url_template.format(a=world.listener.address, port=world.listener.port)
        message = {
            "Type": kind,
            "MessageId": "ssrf",
            "TopicArn": TOPIC,
            "Message": json.dumps({"notificationType": "Bounce"}),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "SignatureVersion": "2",
            "Signature": base64.b64encode(b"x" * 256).decode(),
            "Token": "t",
            "SigningCertURL": url,
            "SubscribeURL": url,
        }
        return request_bytes(
            "POST", "/webhooks/ses", body=json.dumps(message).encode(), headers=JSON_TYPE
        )

    return build


SSRF_URLS = [
    "https://{a}\\@sns.us-east-1.amazonaws.com/x.pem",
    "https://{a}@sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com@{a}/x.pem",
    "https://{a}#@sns.us-east-1.amazonaws.com/x.pem",
    "https://{a}/sns.us-east-1.amazonaws.com.pem",
    "http://{a}/x.pem",
    "https://sns.us-east-1.amazonaws.com:{port}/x.pem",
    "https://sns.x.amazonaws.com.{a}/x.pem",
]
for n, template in enumerate(SSRF_URLS):
    case(f"ssrf-cert-{n}", sns("Notification", template), (403,))
    case(f"ssrf-subscribe-{n}", sns("SubscriptionConfirmation", template), (403,))
case(
    "ses-other-topic",
    lambda w: request_bytes(
        "POST",
        "/webhooks/ses",
        body=json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:x:1:evil"}).encode(),
        headers=JSON_TYPE,
    ),
    (403,),
)

# Path traversal and symlinks in the served folders
for n, target in enumerate(
    [
        b"/feeds/../config.toml",
        b"/feeds/%2e%2e/config.toml",
        b"/feeds/..%2fconfig.toml",
        b"/feeds/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        b"/feeds/all/..%5c..%5cconfig.toml",
        b"/feeds/leak.xml",
        b"/feeds/all/up/passwd.txt",
        b"/feeds/.hidden.xml",
        b"/feeds/%2ehidden.xml",
        b"/feeds/all/atom.xml%00.txt",
        b"/feeds/" + b"a" * 5000,
        b"/feeds/" + b"a/" * 2000,
        b"/assets/..%2f..%2fconfig.toml",
        b"/digests/weekly/..%2f..%2fconfig.toml",
        b"//etc/passwd",
    ]
):
    case(f"traversal-{n}", get(target), (301, 308, 400, 404, 414, 431), not_reflected(SECRET_TEXT))

# Resource limits
case(
    "limit-50mb-content-length",
    lambda w: request_bytes(
        "POST", "/subscribe", headers={**FORM, "Content-Length": "52428800"}, body=b"x" * 1024
    ),
    (413,),
)
case(
    "limit-chunked-over-body-limit",
    lambda w: (
        request_bytes(
            "POST", "/webhooks/sendgrid", headers={**JSON_TYPE, "Transfer-Encoding": "chunked"}
        ).replace(b"Content-Length: 0\r\n", b"")
        + b"".join(b"%x\r\n%s\r\n" % (16384, b"[" * 16384) for _ in range(20))
    ),
    (413,),
)
case("limit-huge-header", get("/healthz", headers={"X-Big": "a" * 100_000}), (400, 431))
case("limit-many-fields", post("/subscribe", b"&".join([b"digest=weekly"] * 20000)), (400, 413))
case("limit-long-query", get("/healthz?" + "a=b&" * 5000), (200, 414))
case(
    "limit-smuggling-cl-te",
    lambda w: request_bytes(
        "POST",
        "/subscribe",
        headers={**FORM, "Transfer-Encoding": "chunked", "Content-Length": "4"},
        body=b"0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n",
    ),
    (400, 501),
)

# Malformed encodings
case("enc-invalid-utf8-form", post("/subscribe", b"email=\xff\xfe%40x.org&digest=weekly"), (400,))
case("enc-bad-percent", post("/subscribe", b"email=%zz%4&name=%&digest=weekly"), (400,))
case("enc-overlong-utf8-path", get(b"/feeds/%c0%ae%c0%ae/config.toml"), (404,))
case("enc-raw-utf8-path", get("/digests/wéékly/".encode()), (400, 404))
case("enc-raw-latin1-path", get(b"/digests/w\xe9ekly/"), (400, 404))
case(
    "enc-utf16-form",
    post(
        "/subscribe",
        "email=a@b.org".encode("utf-16"),
        {"Content-Type": FORM["Content-Type"] + "; charset=utf-16"},
    ),
    (400,),
)
case(
    "enc-broken-multipart",
    post(
        "/subscribe",
        b"--x\r\nContent-Disposition: form-data\r\n\r\n",
        {"Content-Type": "multipart/form-data; boundary=x"},
    ),
    (400,),
)
case(
    "enc-multipart-no-boundary",
    post("/subscribe", b"garbage", {"Content-Type": "multipart/form-data"}),
    (400,),
)
case(
    "enc-garbage-content-type",
    post("/subscribe", b"email=a", {"Content-Type": "\x01\x02;;;="}),
    (400,),
)
case(
    "enc-lone-surrogate-json",
    post("/webhooks/mailgun", b'{"signature": {"signature": "\\ud800"}}', JSON_TYPE),
    (403,),
)
case("enc-json-bom", post("/webhooks/postmark", b"\xef\xbb\xbf{}", JSON_TYPE), (403,))
case("enc-bad-method", lambda w: request_bytes("G\x00T", "/healthz"), (400, 405, 501))
case("enc-bad-http-version", lambda w: b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", (200, 400, 505))
case("enc-no-host", lambda w: b"GET /feeds HTTP/1.0\r\n\r\n", (301, 308, 400), location_has_no_host)

# Conditional and negotiation headers on the public files
for n, (name, value) in enumerate(
    [
        ("If-None-Match", '"' + "x" * 5000),
        ("If-None-Match", 'W/, , ,"\\'),
        ("If-Modified-Since", "Sun, 99 Foo 99999 99:99:99 GMT"),
        ("If-Modified-Since", "\u00e9" * 50),
        ("Accept-Encoding", "gzip;q=nan, *;q=-1, br;q=1e999"),
        ("Range", "bytes=99999999999999999999-"),
    ]
):
    case(
        f"conditional-{n}",
        get("/feeds/all/atom.xml", headers={name: value.encode("utf-8")}),
        (200, 304, 416),
    )
# Framing the server must refuse rather than guess
case(
    "framing-duplicate-content-length",
    lambda w: (
        b"POST /subscribe HTTP/1.1\r\nHost: news.example.org\r\nContent-Length: 5\r\n"
        b"Content-Length: 50\r\nConnection: close\r\n\r\nemail"
    ),
    (400,),
)
case(
    "framing-bad-chunk-size",
    lambda w: (
        b"POST /subscribe HTTP/1.1\r\nHost: news.example.org\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
    ),
    (400,),
)
case(
    "framing-expect-continue-too-big",
    lambda w: (
        b"POST /subscribe HTTP/1.1\r\nHost: news.example.org\r\nExpect: 100-continue\r\n"
        b"Content-Length: 999999999\r\nConnection: close\r\n\r\n"
    ),
    (413,),
)
case(
    "framing-two-hosts",
    lambda w: (
        b"GET /feeds HTTP/1.1\r\nHost: news.example.org\r\nHost: evil.example\r\n"
        b"Connection: close\r\n\r\n"
    ),
    (301, 308, 400),
    location_has_no_host,
)


def test_there_are_at_least_100_cases() -> None:
    assert len(CASES) >= 100, len(CASES)


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_hostile_request(world: World, hostile: Case) -> None:
    start = len(world.process.lines)
    answer = send_raw(world.port, hostile.build(world))
    time.sleep(0.05)  # let the log reader catch up with the request's log line
    log = "\n".join(world.process.lines[start:])
    assert answer.status != 500, log
    assert answer.status in hostile.expect, (answer.status, answer.body[:300], log)
    if hostile.check is not None:
        hostile.check(world, answer)
    assert world.statuses() == world.baseline
    assert world.webhook_events() == 0
    assert world.listener.connections == 0
    assert "Traceback" not in log and " ERROR " not in log, log


def test_the_import_left_the_private_file_out(world: World) -> None:
    with world.app.engine.connect() as conn:
        texts = " ".join(f"{a.title} {a.content_html}" for a in all_articles(conn))
    assert "A real article" in texts and SECRET_TEXT not in texts


def test_the_server_still_answers_and_logged_no_traceback(world: World) -> None:
    answer = send_raw(world.port, request_bytes("GET", "/healthz"))
    assert answer.status == 200
    assert [line for line in world.process.lines if "Traceback" in line] == []
