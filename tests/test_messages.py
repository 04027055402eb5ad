"""Personalised messages: structure, headers, substitution, encodings, DKIM."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from syndicate.core.config import Settings, load_settings
from syndicate.core.tokens import Signer
from syndicate.delivery.messages import (
    PLACEHOLDERS,
    EditionContent,
    prepare,
    qp_piece,
    recipient_for,
)
from tests.support import T0, write_config

SIGNER = Signer([b"k" * 32])

HTML = (
    '<html><body><p>Hello @@name@@,</p><p style="color:#333">{body}</p>'
    '<p><a href="@@unsubscribe_url@@">Unsubscribe</a> · '
    '<a href="@@preferences_url@@">Preferences</a> · sent to @@email@@</p></body></html>'
)
TEXT = (
    "Hello @@name@@,\n\n{body}\n\n"
    "Unsubscribe: @@unsubscribe_url@@\nPreferences: @@preferences_url@@\n"
)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    directory = tmp_path_factory.mktemp("cfg")
    return load_settings(write_config(directory, f"sqlite:///{directory / 's.db'}"))


def content(body: str = "Week's news: " + "long line " * 40, **kw: object) -> EditionContent:
    values: dict[str, object] = {
        "edition_id": 12,
        "digest": "weekly",
        "subject": "Test News weekly: 2 March",
        "html": HTML.format(body=body),
        "text": TEXT.format(body=body),
        "from_addr": "Test News <news@news.example.org>",
        "reply_to": None,
        "list_id": "Test News weekly <weekly.news.example.org>",
        "date": T0,
    }
    values.update(kw)
    return EditionContent(**values)  # type: ignore[arg-type]


def recipient(cfg: Settings, sid: int = 7, name: str = "Jane Doe", email: str = "jane@example.com"):
    return recipient_for(
        cfg,
        SIGNER,
        delivery_id=100 + sid,
        subscriber_id=sid,
        email=email,
        name=name,
        edition_id=12,
        now=T0,
    )


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = list(message.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    return (
        plain.get_content().replace("\r\n", "\n"),
        html.get_content().replace("\r\n", "\n"),
    )


def test_headers_of_a_digest_message(cfg: Settings) -> None:
    r = recipient(cfg)
    message = parse(prepare(content(), cfg).message_bytes(r))
    assert message["From"] == "Test News <news@news.example.org>"
    assert message["To"] == "Jane Doe <jane@example.com>"
    assert message["Subject"] == "Test News weekly: 2 March"
    assert message["Date"] == "Mon, 02 Mar 2026 09:00:00 +0000"
    assert message["Message-ID"] == "<e12.s7@news.example.org>"
    assert message["MIME-Version"] == "1.0"
    assert message["List-Id"] == "Test News weekly <weekly.news.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    links = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    # Only the one-click URL: nothing reads the From mailbox for unsubscribe requests.
    assert links == [r.unsubscribe_url] and links[0].startswith("https://news.example.org/")


def test_links_are_signed_for_the_subscriber(cfg: Settings) -> None:
    r = recipient(cfg, sid=42)
    token = r.unsubscribe_url.rsplit("/", 1)[1]
    assert r.unsubscribe_url.startswith("https://news.example.org/unsubscribe/")
    checked = SIGNER.check(token, "unsubscribe", now=T0)
    assert checked.subject == "42"
    assert checked.expires_at >= T0 + timedelta(days=cfg.web.token_days - 1)
    prefs = SIGNER.check(r.preferences_url.rsplit("/", 1)[1], "preferences", now=T0)
    assert prefs.subject == "42"


def test_body_parts_are_personalised_and_text_comes_first(cfg: Settings) -> None:
    prepared = prepare(content(), cfg)
    r = recipient(cfg, name="Zoë <O'Brien> & co")
    plain, html = parts(parse(prepared.message_bytes(r)))
    assert plain.startswith("Hello Zoë <O'Brien> & co,\n")
    assert f"Unsubscribe: {r.unsubscribe_url}\n" in plain
    assert "Hello Zoë &lt;O&#x27;Brien&gt; &amp; co," in html
    assert f'href="{r.unsubscribe_url}"' in html
    assert f'href="{r.preferences_url}"' in html
    assert "sent to jane@example.com" in html
    assert plain == prepared.text_for(r)
    assert html == prepared.html_for(r)
    assert not any(p in plain + html for p in PLACEHOLDERS)


def test_lines_are_crlf_and_short(cfg: Settings) -> None:
    body = "x" * 5000 + " trailing space \n" + "é" * 700
    raw = prepare(content(body=body), cfg).message_bytes(recipient(cfg))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    body_lines = raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n")
    assert max(len(line) for line in body_lines) <= 76
    plain, _ = parts(parse(raw))
    assert body in plain


def test_no_header_injection(cfg: Settings) -> None:
    evil = content(subject="Hi\r\nBcc: victim@example.com", list_id="x\nBcc: a@b.c")
    r = recipient(cfg, name="Eve\r\nBcc: other@example.com", email="eve@example.com\r\n")
    raw = prepare(evil, cfg).message_bytes(r)
    message = parse(raw)
    assert message["Bcc"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert "Bcc" not in [line.split(b":")[0].decode() for line in head.split(b"\r\n")]
    assert message["Subject"] == "Hi Bcc: victim@example.com"


def test_one_subscribers_token_never_in_anothers_message(cfg: Settings) -> None:
    prepared = prepare(content(), cfg)
    first, second = recipient(cfg, sid=1), recipient(cfg, sid=2, email="b@example.com")
    raw_second = prepared.message_bytes(second)
    for url in (first.unsubscribe_url, first.preferences_url):
        token = url.rsplit("/", 1)[1]
        assert token.encode() not in raw_second.replace(b"=\r\n", b"")
    assert first.message_id != second.message_id


def test_same_recipient_same_bytes(cfg: Settings) -> None:
    prepared = prepare(content(), cfg)
    r = recipient(cfg)
    assert prepared.message_bytes(r) == prepare(content(), cfg).message_bytes(r)


def test_mostly_non_ascii_text_goes_base64(cfg: Settings) -> None:
    body = "Новини тижня: " + "українська мова " * 200
    raw = prepare(content(body=body, subject="Новини тижня"), cfg).message_bytes(
        recipient(cfg, name="Олена")
    )
    message = parse(raw)
    assert message["Subject"] == "Новини тижня"
    assert message["To"] == "Олена <jane@example.com>"
    assert b"Content-Transfer-Encoding: base64" in raw
    plain, html = parts(message)
    assert plain.startswith("Hello Олена,") and body in plain and body in html


def test_transactional_mail_has_no_list_headers(cfg: Settings) -> None:
    mail = content(list_id=None, edition_id=None)
    r = recipient_for(
        cfg,
        SIGNER,
        delivery_id=None,
        subscriber_id=3,
        email="a@example.com",
        name="",
        edition_id=None,
        now=T0,
    )
    message = parse(prepare(mail, cfg).message_bytes(r))
    for header in ("List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted"):
        assert message[header] is None
    assert message["To"] == "a@example.com"
    assert re.fullmatch(r"<[0-9a-f]{24}@news\.example\.org>", message["Message-ID"])


def test_templates_for_batch_providers_and_public_page(cfg: Settings) -> None:
    prepared = prepare(content(), cfg)
    html = prepared.template_html(lambda key: f"%recipient.{key}%")
    assert 'href="%recipient.unsubscribe_url%"' in html and "Hello %recipient.name%," in html
    text = prepared.template_text(lambda key: "{{" + key + "}}")
    assert "Unsubscribe: {{unsubscribe_url}}" in text
    r = recipient(cfg, name="A & B")
    assert prepared.variables(r)["name"] == "A & B"
    assert prepared.variables_html(r)["name"] == "A &amp; B"
    public = prepared.public_html("https://news.example.org/")
    assert 'href="https://news.example.org/unsubscribe"' in public
    assert "@@" not in public and "jane" not in public


def test_reply_to_and_utf8_from(cfg: Settings) -> None:
    mail = content(from_addr="Новини <news@news.example.org>", reply_to="desk@news.example.org")
    message = parse(prepare(mail, cfg).message_bytes(recipient(cfg)))
    assert message["From"] == "Новини <news@news.example.org>"
    assert message["Reply-To"] == "desk@news.example.org"


text_strategy = st.lists(
    st.one_of(st.text(max_size=120), st.sampled_from(PLACEHOLDERS), st.just("\n")), max_size=12
).map("".join)


@hsettings(max_examples=60, deadline=None)
@given(text=text_strategy, html_text=text_strategy, name=st.text(max_size=40))
def test_any_content_round_trips(cfg: Settings, text: str, html_text: str, name: str) -> None:
    text = text.replace("\r", "")
    html_text = html_text.replace("\r", "")
    prepared = prepare(content(body="", **{"text": text, "html": html_text}), cfg)
    r = recipient(cfg, name=name)
    raw = prepared.message_bytes(r)
    plain, html = parts(parse(raw))
    assert plain == prepared.text_for(r)
    assert html == prepared.html_for(r)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


@given(st.text(max_size=300))
def test_qp_piece_decodes_to_itself(text: str) -> None:
    import quopri

    text = text.replace("\r", "")
    encoded = qp_piece(text)
    assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
    assert quopri.decodestring(encoded.replace(b"\r\n", b"\n")).decode("utf-8") == text


def test_dkim_signature_verifies_with_the_public_key(tmp_path: Path) -> None:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "dkim.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    extra = (
        '[mail.dkim]\ndomain = "news.example.org"\nselector = "s1"\nprivate_key_file = "dkim.pem"\n'
    )
    cfg = load_settings(write_config(tmp_path, f"sqlite:///{tmp_path / 's.db'}", extra))
    raw = prepare(content(), cfg).message_bytes(recipient(cfg))
    assert raw.startswith(b"DKIM-Signature:")
    signature = parse(raw)["DKIM-Signature"].replace(" ", "")
    assert "c=relaxed/relaxed" in signature
    signed = {h.lower() for h in re.search(r"h=([^;]+)", signature)[1].split(":")}
    assert {
        "from",
        "subject",
        "date",
        "message-id",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    } <= signed

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s1._domainkey.news.example.org."
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    assert dkim.verify(raw, dnsfunc=dns)
    tampered = raw.replace(b"Unsubscribe:", b"Unsubscrib3:", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_an_unusable_dkim_key_is_a_config_error_before_any_message(tmp_path: Path) -> None:
    from syndicate.core.errors import ConfigError

    (tmp_path / "dkim.pem").write_bytes(
        b"-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
    )
    extra = (
        '[mail.dkim]\ndomain = "news.example.org"\nselector = "s1"\nprivate_key_file = "dkim.pem"\n'
    )
    cfg = load_settings(write_config(tmp_path, f"sqlite:///{tmp_path / 's.db'}", extra))
    with pytest.raises(ConfigError) as caught:
        prepare(content(), cfg)
    assert "mail.dkim.private_key_file" in str(caught.value)


def test_aware_date_required_for_headers(cfg: Settings) -> None:
    mail = content(date=datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
    assert parse(prepare(mail, cfg).message_bytes(recipient(cfg)))["Date"].endswith("+0000")


@pytest.mark.parametrize(
    "name", ["Ж" * 200, "x" * 200, '"Quoted" Name, Jr.', "Zoë O'Brien", "山田太郎" * 50]
)
def test_long_and_odd_names_stay_whole(cfg: Settings, name: str) -> None:
    from email.header import decode_header, make_header
    from email.utils import getaddresses

    raw = prepare(content(), cfg).message_bytes(recipient(cfg, name=name))
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = message_from_bytes(raw, policy=policy.compat32)
    # RFC 2047 decoding (adjacent encoded words join without a space).
    decoded = str(make_header(decode_header(message["To"])))
    ((display, address),) = getaddresses([decoded])
    assert (display, address) == (name, "jane@example.com")
