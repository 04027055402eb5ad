"""A bounce or complaint report (one mail message) -> what it says, without the store.

Three shapes, tried in order:

- RFC 3464 delivery status notifications (``multipart/report;
  report-type=delivery-status``): one finding per recipient block whose ``Action`` is
  ``failed`` (``delayed``, ``delivered``, ``relayed`` and ``expanded`` are not
  failures: a delay warning is followed by a failure or by nothing).
- RFC 5965 ARF feedback reports (``report-type=feedback-report``): a complaint for
  ``Feedback-Type`` abuse, fraud, virus or other; ``not-spam`` and ``auth-failure``
  (DMARC forensics) are not complaints about the reader.
- The non-standard bounces many servers still send as plain text (Exchange NDRs,
  qmail/Yahoo "Sorry, we were unable to deliver", Exim, Gmail's notices): recognised
  by who sent them and their subject, the failed addresses and status codes read
  from the text, the original message from its attached or quoted copy.

The stdlib ``email`` parser (``policy.default``) does the MIME work: it parses
``message/delivery-status`` into its header blocks and ``message/*`` into messages.
``flufl.bounce`` was considered: it answers a set of bare addresses per message,
which must never be trusted alone (anyone can write an address in a mail), and reads
neither ARF nor the original message's headers that tie a report to our delivery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from email import errors, policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, Parser
from email.utils import getaddresses, parseaddr

from syndicate.delivery.bounces.events import Kind
from syndicate.delivery.mailers.bounces import report_bounce

MAX_REPORT = 10 * 1024 * 1024  # bytes of a report read at most
_HEADERS = Parser(policy=policy.default)

# The bounce's own envelope recipient, as MTAs record it at final delivery.
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
COMPLAINT_TYPES = {"abuse", "fraud", "virus", "other"}

_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery|mail-daemon", re.I)
_SUBJECT = re.compile(
    r"undeliver|delivery (status notification|has failed|failure)|returned mail|"
    r"failure notice|mail delivery failed|delivery failed|could not be delivered|"
    r"non[- ]?delivery|unable to deliver",
    re.I,
)
_ENHANCED = re.compile(r"(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BASIC = re.compile(r"(?<![\d.])([45]\d\d)(?![\d.])")
_ADDRESS = re.compile(r"<?([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>?")
_PERMANENT = re.compile(
    r"permanent(ly)? (error|failure|fatal)|does not exist|doesn't exist|no such (user|mailbox)|"
    r"user unknown|unknown user|address not found|mailbox unavailable|recipient not found|"
    r"doesn't have a \S+ account|invalid recipient|account (has been )?disabled",
    re.I,
)
_TEMPORARY = re.compile(
    r"temporar|mailbox (is )?full|over quota|quota exceeded|try again later", re.I
)
# Where a plain-text bounce starts quoting the original message (qmail, Yahoo, Exim,
# Exchange); the rest is parsed as that message's headers.
_QUOTE_MARKERS = re.compile(
    r"^(?:-+ ?Below this line is a copy of the message\.?|"
    r"-+ This is a copy of the message, including all the headers\. -+|"
    r"-+ Original message -+|Original message headers:|"
    r"-+ The header of the original message is following\. -+)\s*$",
    re.I | re.M,
)


@dataclass(frozen=True)
class Finding:
    """One recipient's failure, or a complaint, as the report states it."""

    kind: Kind
    recipient: str  # the address the report names ("" when it names none)
    reason: str


@dataclass
class Report:
    """What one message reports, and what may tie it to our delivery."""

    shape: str  # dsn | arf | text
    report_id: str  # the report's Message-ID, else a hash of its body
    findings: list[Finding]
    # Addresses the report was delivered to, and the original's envelope sender: where
    # a VERP address may be.
    envelope: list[str] = field(default_factory=list)
    original: Message | None = None  # the original message's headers, when included


def read(raw: bytes) -> EmailMessage:
    """Parse a message; the parser never raises on malformed input (it records defects)."""
    return BytesParser(policy=policy.default).parsebytes(raw[:MAX_REPORT])


def parse(raw: bytes) -> Report | None:
    """The report ``raw`` carries, or None when it is no bounce or complaint."""
    message = read(raw)
    report_type = str(message.get_param("report-type", "", header="content-type") or "").lower()
    if message.get_content_type() == "multipart/report" and report_type == "feedback-report":
        report = _arf(message)
    elif message.get_content_type() == "multipart/report" and report_type == "delivery-status":
        report = _dsn(message)
    elif _looks_like_bounce(message):
        report = _text(message)
    else:
        return None
    if report is None:
        return None
    report.report_id = _report_id(message, raw)
    for name in ENVELOPE_HEADERS:
        report.envelope.extend(_addresses(message, name))
    if report.original is not None:
        report.envelope.extend(_addresses(report.original, "Return-Path"))
    return report


def _report_id(message: Message, raw: bytes) -> str:
    """Stable for the same report however it arrives (each MTA adds its own trace
    headers on top): its Message-ID, else a hash of its body."""
    found = _header(message, "Message-ID")
    if found:
        return found.strip()[:200]
    _, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _header(message: Message, name: str) -> str:
    """A header's value as text; "" when absent or unparseable."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):  # a malformed header the policy refuses
        return ""
    return "" if value is None else " ".join(str(value).split())


def _addresses(message: Message, name: str) -> list[str]:
    try:
        values = message.get_all(name) or []
    except (ValueError, TypeError, IndexError):
        return []
    return [a for _, a in getaddresses([str(v) for v in values]) if "@" in a]


def _typed_address(value: str) -> str:
    """``rfc822; user@example.org`` (RFC 3464 address fields) -> the address."""
    _, _, address = value.partition(";")
    return parseaddr((address or value).strip())[1]


def _original(message: Message) -> Message | None:
    """The original message's headers: a ``message/rfc822`` part or ``text/rfc822-headers``."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            encoded = _encoded_copy(part)
            if encoded is not None:
                return _HEADERS.parsestr(encoded, headersonly=True)
            payload = part.get_payload()
            # The parser makes a message/* part's payload a list of one Message.
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind in ("text/rfc822-headers", "message/rfc822-headers"):
            return _HEADERS.parsestr(_text_of(part), headersonly=True)
    return None


def _encoded_copy(part: Message) -> str | None:
    """A ``message/rfc822`` copy sent base64 or quoted-printable (RFC 2046 forbids it,
    some servers do it anyway): the parser leaves it as one headerless message whose
    body is the encoded text; decoded here. None for a copy sent as is."""
    encoding = str(part.get("Content-Transfer-Encoding") or "").strip().lower()
    if encoding not in ("base64", "quoted-printable"):
        return None
    inner = part.get_payload()
    if not (isinstance(inner, list) and inner and isinstance(inner[0], Message)):
        return None
    text = _source_of(inner[0])
    try:
        if encoding == "base64":
            decoded = base64.b64decode("".join(text.split()), validate=False)
        else:
            decoded = quopri.decodestring(text.encode("ascii", "replace"))
    except (binascii.Error, ValueError):
        return None
    return decoded.decode("utf-8", "replace")


def _source_of(message: Message) -> str:
    """The text the parser read ``message`` from, near enough: quoted-printable text
    looks like headers until a soft line break, where the parser took the rest for
    the body (no blank line between; ``as_string`` would insert one)."""
    head = "".join(f"{name}: {value}\n" for name, value in message.raw_items())
    body = message.get_payload()
    body = body if isinstance(body, str) else ""
    if not head:
        return body
    missing_blank = any(
        isinstance(defect, errors.MissingHeaderBodySeparatorDefect) for defect in message.defects
    )
    return head + ("" if missing_blank else "\n") + body


def _text_of(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError):
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


# -- RFC 3464 ---------------------------------------------------------------------------


def _dsn(message: EmailMessage) -> Report | None:
    status_part = next(
        (
            p
            for p in message.walk()
            if p.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
        ),
        None,
    )
    blocks = status_part.get_payload() if status_part is not None else None
    if not isinstance(blocks, list):
        return _text(message)  # a report without a readable status part: read its text
    findings = []
    for block in blocks[1:]:  # the first block is about the message, the rest per recipient
        if not isinstance(block, Message):
            continue  # never: the parser makes each header block a Message
        if _header(block, "Action").lower() != "failed":
            continue
        status = _header(block, "Status")
        diagnostic = _header(block, "Diagnostic-Code").partition(";")[2].strip()
        recipient = _typed_address(
            _header(block, "Original-Recipient") or _header(block, "Final-Recipient")
        )
        final = _typed_address(_header(block, "Final-Recipient"))
        reason = " ".join(filter(None, [status, diagnostic]))[:500] or "failed"
        kind = _kind(status, diagnostic)
        findings.append(Finding(kind, recipient or final, reason))
        if final and recipient and final.lower() != recipient.lower():
            findings.append(Finding(kind, final, reason))
    if not findings:
        return None
    return Report("dsn", "", findings, original=_original(message))


def _kind(status: str, text: str) -> Kind:
    """A reported failure: the enhanced status (RFC 3463) decides, else the text."""
    found = _ENHANCED.search(status) or _ENHANCED.search(text)
    if found is not None:
        return "hard_bounce" if report_bounce(found.group(0)) == "hard" else "soft_bounce"
    basic = _BASIC.search(text)
    if basic is not None:
        code = basic.group(1)
        return (
            "hard_bounce" if code.startswith("5") and not _TEMPORARY.search(text) else "soft_bounce"
        )
    if _PERMANENT.search(text) and not _TEMPORARY.search(text):
        return "hard_bounce"
    return "soft_bounce"


# -- RFC 5965 ---------------------------------------------------------------------------


def _arf(message: EmailMessage) -> Report | None:
    part = next(
        (p for p in message.walk() if p.get_content_type() == "message/feedback-report"), None
    )
    fields = part.get_payload() if part is not None else None
    if not isinstance(fields, list) or not fields:
        return None
    block = fields[0]
    if not isinstance(block, Message):
        return None  # never: the parser makes a message/* part's payload Messages
    feedback = _header(block, "Feedback-Type").lower()
    if feedback not in COMPLAINT_TYPES:
        return None
    original = _original(message)
    recipient = _typed_address(_header(block, "Original-Rcpt-To"))
    if not recipient and original is not None:
        recipient = next(iter(_addresses(original, "To")), "")
    agent = _header(block, "User-Agent")[:100]
    report = Report(
        "arf",
        "",
        [
            Finding(
                "complaint", recipient, f"complaint ({feedback}) from {agent or 'a feedback loop'}"
            )
        ],
        original=original,
    )
    report.envelope.extend(a for a in [_typed_address(_header(block, "Original-Mail-From"))] if a)
    return report


# -- plain-text bounces -----------------------------------------------------------------


def _looks_like_bounce(message: Message) -> bool:
    """Sent by a mail system, about a failed delivery (never an ordinary reply)."""
    sender = _header(message, "From")
    subject = _header(message, "Subject")
    null_sender = _header(message, "Return-Path") in ("<>", "")
    return bool(_SUBJECT.search(subject)) and (bool(_SENDER.search(sender)) or null_sender)


def _body_text(message: Message) -> str:
    """The human-readable text of a bounce (its text/plain parts, first 64 KB)."""
    texts = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            texts.append(_text_of(part))
        elif part.get_content_type() == "text/html" and not texts:
            texts.append(re.sub(r"<[^>]*>", " ", _text_of(part)))
    return "\n".join(texts)[:65536]


def _text(message: EmailMessage) -> Report:
    text = _body_text(message)
    original = _original(message)
    explanation = text
    marker = _QUOTE_MARKERS.search(text)
    if marker is not None:
        explanation = text[: marker.start()]
        if original is None:
            quoted = text[marker.end() :].lstrip("\n")
            original = _HEADERS.parsestr(quoted, headersonly=True)
    own = {a.lower() for a in _addresses(message, "From") + _addresses(message, "To")}
    findings = []
    seen = set()
    for found in _ADDRESS.finditer(explanation):
        address = found.group(1).rstrip(".")
        if address.lower() in own or address.lower() in seen:
            continue
        seen.add(address.lower())
        # The explanation of this address: the text after it, up to the next address.
        rest = explanation[found.end() :]
        following = _ADDRESS.search(rest)
        context = rest[: following.start() if following else 600][:600]
        reason = " ".join(context.split())[:300]
        kind = _kind(reason, reason + " " + explanation[:2000])
        findings.append(Finding(kind, address, reason or "undeliverable"))
    if not findings:  # no address named: the VERP address or the original tells whom
        findings.append(Finding(_kind("", explanation[:4000]), "", "undeliverable"))
    return Report("text", "", findings, original=original)
