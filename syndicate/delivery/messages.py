"""Edition x recipient -> the bytes of one personalised email, fast.

An edition is rendered and CSS-inlined once (``digest``); here it is prepared once
more: the HTML and text are split around the per-recipient placeholders and every
static piece is quoted-printable encoded ahead of time, each ending on a soft line
break, so a recipient's message is a join of pre-encoded bytes with a few short
encoded values (unsubscribe and preferences URLs, name, email). No Jinja, no
premailer, no ``email`` package per recipient.

Quoted-printable output never contains ``=_``, so the MIME boundary ``=_syndicate_…``
can never occur inside a part. Lines are CRLF-terminated and at most 76 octets in the
bodies (998 is the hard limit for headers too).
"""

from __future__ import annotations

import binascii
import hashlib
import html
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from functools import lru_cache
from typing import Any

from syndicate.core.config import Settings
from syndicate.core.tokens import Signer, feed_token
from syndicate.delivery.bounces import verp
from syndicate.delivery.dkim import DkimSigner

# The per-recipient values an edition's HTML and text may carry. One definition:
# syndicate.digest imports it from here.
PLACEHOLDERS = (
    "@@unsubscribe_url@@",
    "@@preferences_url@@",
    "@@name@@",
    "@@email@@",
    "@@feed_url@@",
)
_SPLIT = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS) + ")")

CRLF = b"\r\n"
_QP_LINE = 76  # RFC 2045: encoded lines at most 76 characters, soft break included
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class EditionContent:
    """What an edition (or a one-off mail) says, with placeholders still in place.

    ``list_id=None`` marks a transactional mail (the confirmation email): no
    ``List-*`` headers and no ``Auto-Submitted``.
    """

    edition_id: int | None
    digest: str
    subject: str
    html: str
    text: str
    from_addr: str
    reply_to: str | None
    list_id: str | None
    date: datetime


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient's personal values, ready to substitute."""

    delivery_id: int | None
    subscriber_id: int | None
    email: str
    name: str
    message_id: str
    unsubscribe_url: str
    preferences_url: str
    # The envelope sender (SMTP MAIL FROM, a Maildir's Return-Path) when
    # ``[mail] bounce_address`` is set: VERP for a delivery row, else the bare address.
    envelope_from: str | None = None
    feed_url: str = ""


def header_value(value: str) -> str:
    """A header value with CR, LF and other control characters replaced by spaces."""
    if value.isprintable() and "  " not in value and value.strip() == value:
        return value  # the common case (checked natively): nothing to replace or collapse
    return " ".join(_CONTROL.sub(" ", value).split())


def message_domain(settings: Settings) -> str:
    """The domain of Message-IDs: the From address's domain."""
    return _domain_of(settings.mail.from_)


@lru_cache(maxsize=64)
def _domain_of(from_addr: str) -> str:
    _, address = parseaddr(from_addr)
    domain = address.rpartition("@")[2].strip().lower()
    return domain or "syndicate.invalid"


def message_id_for(edition_id: int, subscriber_id: int, domain: str) -> str:
    """Stable per (edition, subscriber): a resend carries the same Message-ID."""
    return f"<e{edition_id}.s{subscriber_id}@{domain}>"


def recipient_for(
    settings: Settings,
    signer: Signer,
    *,
    delivery_id: int | None,
    subscriber_id: int | None,
    email: str,
    name: str,
    edition_id: int | None,
    now: datetime,
    message_id: str | None = None,
    feed_key: int = 0,
) -> Recipient:
    """A recipient with signed unsubscribe and preferences links on the web app's URL.

    ``message_id`` defaults to the stable per-(edition, subscriber) id; a mail
    outside any edition (a test send, a confirmation) gets a fresh random one.
    """
    expires = now + timedelta(days=settings.web.token_days)
    subject = "" if subscriber_id is None else subscriber_id
    base = settings.web_base_url
    if message_id is None:
        domain = message_domain(settings)
        if edition_id is not None and subscriber_id is not None:
            message_id = message_id_for(edition_id, subscriber_id, domain)
        else:
            message_id = f"<{secrets.token_hex(12)}@{domain}>"
    unsubscribe, preferences = signer.make_many(_LINK_PURPOSES, subject, expires)
    envelope_from = settings.mail.bounce_address
    if envelope_from is not None and delivery_id is not None:
        envelope_from = verp.address_for(signer, envelope_from, delivery_id)
    if subscriber_id is None:
        feed = f"{base}my"
    else:
        feed = f"{base}my/{feed_token(signer, subscriber_id, feed_key)}/atom.xml"
    return Recipient(
        delivery_id=delivery_id,
        subscriber_id=subscriber_id,
        email=email,
        name=name,
        message_id=message_id,
        unsubscribe_url=f"{base}unsubscribe/{unsubscribe}",
        preferences_url=f"{base}preferences/{preferences}",
        envelope_from=envelope_from,
        feed_url=feed,
    )


_LINK_PURPOSES = ("unsubscribe", "preferences")


def list_id_for(settings: Settings, digest_name: str) -> str:
    """``List-Id: Title <name.domain>`` (RFC 2919), stable per digest."""
    title = digest_name
    for digest in settings.digests:
        if digest.name == digest_name:
            title = digest.title
    return f"{header_value(title)} <{digest_name}.{message_domain(settings)}>"


WELCOME_SUFFIX = ".welcome"  # editions of welcome mails: "<digest>.welcome" (never a slug)


def base_digest(name: str) -> str:
    """The digest an edition belongs to (a welcome edition belongs to its digest)."""
    return name.removesuffix(WELCOME_SUFFIX)


def edition_content(settings: Settings, edition: Mapping[str, Any]) -> EditionContent:
    """The content of a stored edition (a row of ``editions``), ready for ``prepare``.

    From and Reply-To come from the digest's config, else ``[mail]``; Date is when
    the edition was composed, so a resend carries the same Date.
    """
    name = base_digest(edition["digest"])
    digest = next((d for d in settings.digests if d.name == name), None)
    from_addr = (digest.from_ if digest else None) or settings.mail.from_
    reply_to = (digest.reply_to if digest else None) or settings.mail.reply_to
    return EditionContent(
        edition_id=edition["id"],
        digest=name,
        subject=edition["subject"],
        html=edition["html"],
        text=edition["text"],
        from_addr=from_addr,
        reply_to=reply_to,
        list_id=list_id_for(settings, name),
        date=edition["created_at"],
    )


# -- quoted-printable, in pieces ----------------------------------------------------------

_QP_MAP = [
    bytes([b]) if (33 <= b <= 126 and b != 61) or b in (9, 32) else b"=%02X" % b for b in range(256)
]
# Printable ASCII except '=', spaces included: every piece ends with a soft break, so
# a space is never the last character of an encoded line.
_QP_SAFE_RUN = re.compile(r"[ !-<>-~]*")


def _qp_wrap(tokens: list[bytes], out: list[bytes]) -> bytes:
    """Append full lines (with soft breaks) to ``out``; return the unfinished line."""
    line = b""
    for token in tokens:
        if len(line) + len(token) > _QP_LINE - 1:
            out.append(line + b"=" + CRLF)
            line = b""
        line += token
    return line


def qp_piece(text: str) -> bytes:
    """Quoted-printable bytes of ``text`` that end on a line boundary.

    A hard newline ends a line with CRLF; the end of the piece, if not a newline,
    gets a soft break (``=`` CRLF) so the next piece starts on a fresh line and
    decoders join them seamlessly.
    """
    if not text:
        return b""
    if _QP_SAFE_RUN.fullmatch(text):  # the common case: a URL or an ASCII name
        if len(text) < _QP_LINE:
            return text.encode("ascii") + b"=" + CRLF
        data = text.encode("ascii")
        step = _QP_LINE - 1
        return b"".join(data[i : i + step] + b"=" + CRLF for i in range(0, len(data), step))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[bytes] = []
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        if last and not line:
            break  # the piece ended with a newline
        tokens = [_QP_MAP[b] for b in line.encode("utf-8")]
        if tokens and tokens[-1] in (b" ", b"\t"):
            tokens[-1] = b"=%02X" % tokens[-1][0]  # whitespace never ends a line
        rest = _qp_wrap(tokens, out)
        out.append(rest + (b"=" + CRLF if last else CRLF))
    return b"".join(out)


def _base64_body(data: bytes) -> bytes:
    encoded = binascii.b2a_base64(data, newline=False)
    return CRLF.join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + CRLF


# -- one body part ---------------------------------------------------------------------------


def _split(source: str) -> tuple[list[str], list[str]]:
    """Static pieces (one more than keys) and the placeholder keys between them."""
    bits = _SPLIT.split(source)
    return bits[0::2], [b.strip("@") for b in bits[1::2]]


def _fill(statics: list[str], keys: list[str], value: Callable[[str], str]) -> str:
    """The pieces joined with ``value(key)`` in place of each placeholder."""
    out = [statics[0]]
    for key, static in zip(keys, statics[1:], strict=True):
        out.append(value(key))
        out.append(static)
    return "".join(out)


class _Part:
    """One text/* part: static pieces interleaved with placeholder keys."""

    def __init__(self, source: str, subtype: str) -> None:
        self.subtype = subtype
        self.escape = html.escape if subtype == "html" else _identity
        self.statics, self.keys = _split(source)
        self.key_set = frozenset(self.keys)
        raw_size = len(source.encode("utf-8"))
        encoded = [qp_piece(s) for s in self.statics]
        # Mostly non-ASCII text (Cyrillic, CJK) triples in quoted-printable: use base64.
        self.base64 = raw_size > 0 and sum(map(len, encoded)) > 1.6 * raw_size + 64
        self.encoded = encoded
        cte = "base64" if self.base64 else "quoted-printable"
        self.head = (
            f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {cte}\r\n\r\n"
        ).encode("ascii")

    def text_for(self, values: dict[str, str]) -> str:
        escape = self.escape
        return _fill(self.statics, self.keys, lambda key: escape(values[key]))

    def body(self, values: dict[str, str]) -> bytes:
        if self.base64:
            return _base64_body(self.text_for(values).encode("utf-8"))
        escape = self.escape
        # Each value encoded once, however often its placeholder occurs.
        value = {key: qp_piece(escape(values[key])) for key in self.key_set}
        out = [self.encoded[0]]
        for key, encoded in zip(self.keys, self.encoded[1:], strict=True):
            out.append(value[key])
            out.append(encoded)
        return b"".join(out)

    def template(self, placeholder: Callable[[str], str]) -> str:
        return _fill(self.statics, self.keys, placeholder)


def _identity(value: str) -> str:
    return value


def encoded_part_size(source: str, subtype: str, values: dict[str, str]) -> int:
    """Bytes of a text/``subtype`` part's body as sent (placeholders filled in with
    ``values``, then quoted-printable or base64 encoded): what a mailbox measures."""
    return len(_Part(source, subtype).body(values))


# -- the prepared edition -----------------------------------------------------------------


def _fold(name: str, value: str) -> bytes:
    """One unstructured header line, RFC 2047-encoded and folded (once per edition)."""
    value = header_value(value)
    if value.isascii():
        return policy.SMTP.fold_binary(name, value)
    # policy.fold_binary trips over some non-ASCII punctuation; Header never does.
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode("ascii")


def _mailbox(name: str, email: str) -> str:
    """``Name <address>``: ASCII names quoted as needed, others as RFC 2047 words.

    A long non-ASCII name becomes several encoded words folded onto continuation
    lines; decoders join adjacent encoded words without a space.
    """
    name = header_value(name)
    email = header_value(email).replace(" ", "")
    if not name:
        return email
    if _SIMPLE_NAME.fullmatch(name):
        return f"{name} <{email}>"
    if name.isascii():
        return formataddr((name, email))
    words = Header(name, "utf-8", header_name="To").encode(linesep="\r\n")
    return f"{words} <{email}>"


def _fold_address(header: str, value: str) -> bytes:
    """An address header (From, Reply-To), built once per edition."""
    pairs = getaddresses([header_value(value)])
    text = ",\r\n ".join(_mailbox(name, email) for name, email in pairs)
    return f"{header}: {text}\r\n".encode()


_SIMPLE_NAME = re.compile(r"[A-Za-z0-9 !#$%&'*+/=?^_`{|}~-]*")  # atext and spaces


def _to_header(name: str, email: str) -> bytes:
    return b"To: " + _mailbox(name, email).encode() + CRLF


class PreparedEdition:
    """An edition ready to personalise: build once, then ``message_bytes`` per recipient."""

    def __init__(self, content: EditionContent, settings: Settings) -> None:
        self.content = content
        self.html_part = _Part(content.html, "html")
        self.text_part = _Part(content.text, "plain")
        digest = hashlib.sha256(
            f"{content.edition_id}|{content.subject}|{content.date.isoformat()}".encode()
        ).hexdigest()[:24]
        self.boundary = f"=_syndicate_{digest}"
        from_addr = header_value(content.from_addr)
        head = [
            _fold("Date", format_datetime(content.date)),
            _fold_address("From", from_addr),
        ]
        if content.reply_to:
            head.append(_fold_address("Reply-To", content.reply_to))
        head.append(_fold("Subject", content.subject))
        self.head = b"".join(head)
        tail: list[bytes] = []
        if content.list_id is not None:
            tail.append(_fold("List-Id", content.list_id))
            tail.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
            tail.append(b"Auto-Submitted: auto-generated\r\n")
        tail.append(b"MIME-Version: 1.0\r\n")
        tail.append(
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n\r\n'.encode()
        )
        tail.append(f"--{self.boundary}\r\n".encode())
        self.tail = b"".join(tail) + self.text_part.head
        self.between = f"\r\n--{self.boundary}\r\n".encode() + self.html_part.head
        self.end = f"\r\n--{self.boundary}--\r\n".encode()
        self._dkim = None
        if settings.mail.dkim is not None:
            self._dkim = DkimSigner.from_settings(settings.mail.dkim, settings)

    # -- per recipient -------------------------------------------------------------------

    def variables(self, r: Recipient) -> dict[str, str]:
        """The placeholder values for one recipient (text form; HTML escapes them).

        Names and addresses are stored input: control characters (a CR or LF in a
        name) become spaces, in the body as in the headers.
        """
        return {
            "unsubscribe_url": r.unsubscribe_url,
            "preferences_url": r.preferences_url,
            "name": header_value(r.name),
            "email": header_value(r.email),
            "feed_url": r.feed_url,
        }

    def personal_headers(self, r: Recipient) -> bytes:
        parts = [_to_header(r.name, r.email), b"Message-ID: ", header_value(r.message_id).encode()]
        parts.append(CRLF)
        if self.content.list_id is not None:
            # Only the one-click https URL: no mailbox reads a mailto unsubscribe.
            parts.append(b"List-Unsubscribe: <" + header_value(r.unsubscribe_url).encode() + b">")
            parts.append(CRLF)
        return b"".join(parts)

    def message_bytes(self, r: Recipient) -> bytes:
        """The complete RFC 5322 message for ``r`` (CRLF line ends, DKIM-signed if set)."""
        values = self.variables(r)
        message = b"".join(
            (
                self.head,
                self.personal_headers(r),
                self.tail,
                self.text_part.body(values),
                self.between,
                self.html_part.body(values),
                self.end,
            )
        )
        if self._dkim is not None:
            return self._dkim.sign(message)
        return message

    def html_for(self, r: Recipient) -> str:
        """The personalised HTML (for APIs that take a body per message)."""
        return self.html_part.text_for(self.variables(r))

    def text_for(self, r: Recipient) -> str:
        return self.text_part.text_for(self.variables(r))

    def list_unsubscribe(self, r: Recipient) -> str:
        """The List-Unsubscribe header value for APIs that take headers as fields."""
        return f"<{r.unsubscribe_url}>"

    # -- for batch providers and the web archive ----------------------------------------

    def template_html(self, placeholder: Callable[[str], str]) -> str:
        """The HTML with each placeholder replaced by ``placeholder(key)``.

        Batch providers substitute raw values; names are escaped for HTML by
        ``variables_html``.
        """
        return self.html_part.template(placeholder)

    def template_text(self, placeholder: Callable[[str], str]) -> str:
        return self.text_part.template(placeholder)

    def variables_html(self, r: Recipient) -> dict[str, str]:
        """``variables`` escaped for HTML, for providers that substitute into HTML."""
        return {key: html.escape(value) for key, value in self.variables(r).items()}

    def public_html(self, base_url: str) -> str:
        """The HTML with generic, non-personal values (the web archive page)."""
        return public_html(self.content.html, base_url)


_escape_html = html.escape  # ``public_html`` names its argument ``html``


def public_html(html: str, base_url: str) -> str:
    """An edition's HTML with generic, non-personal values, for the web archive.

    Only the substitution: no quoted-printable encoding and no DKIM key, so a page
    request does not pay for preparing a mail.
    """
    generic = {
        "unsubscribe_url": f"{base_url}unsubscribe",
        "preferences_url": f"{base_url}preferences",
        "name": "",
        "email": "your address",
        "feed_url": f"{base_url}my",
    }
    statics, keys = _split(html)
    return _fill(statics, keys, lambda key: _escape_html(generic[key]))


def prepare(content: EditionContent, settings: Settings) -> PreparedEdition:
    """Split and pre-encode an edition once; personalise it many times."""
    return PreparedEdition(content, settings)
