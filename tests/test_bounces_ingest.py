"""Bounce and complaint reports arriving as mail: parse, identify, apply once.

Each report is a fixture shaped like what a real MTA or mailbox provider sends
(tests/fixtures/bounces), filled from a message syndicate really delivered to its
Maildir with a VERP envelope sender. Hard bounces and complaints suppress, soft ones
count, through the same path (and the same ``webhook_events`` replay records) as
provider webhooks; forged reports change nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import quopri
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from syndicate.core.config import BOUNCE_LOCAL_MAX, load_settings
from syndicate.core.db import webhook_events
from syndicate.core.tokens import Signer, signer_for
from syndicate.delivery.bounces import verp
from syndicate.delivery.bounces.ingest import ingest
from syndicate.delivery.bounces.parse import parse
from syndicate.delivery.mailers.bounces import report_bounce
from syndicate.service.context import App
from tests.support.bounces import (
    BOUNCE_ADDRESS,
    Sent,
    bounce_config,
    report,
    send_edition,
    status_of,
)


@pytest.fixture
def config_file(tmp_path: Path, store_url: str, config_extra: str) -> Path:
    return bounce_config(tmp_path, store_url, config_extra)


@pytest.fixture
def sent(app: App) -> list[Sent]:
    return send_edition(app, 4)


def _events(app: App) -> list[tuple[str, str]]:
    with app.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(select(webhook_events.c.provider, webhook_events.c.event_id))
        ]


# -- VERP -----------------------------------------------------------------------------


def test_each_message_carries_its_own_verp_return_path(app: App, sent: list[Sent]) -> None:
    signer = signer_for(app.settings, app.engine)
    for message in sent:
        local, domain = message.envelope.split("@")
        assert domain == "bounces.news.example.org"
        assert local.startswith("bounce+") and len(local) <= 64
        assert verp.delivery_of(signer, BOUNCE_ADDRESS, message.envelope) == message.delivery_id
    assert len({m.envelope for m in sent}) == len(sent)


def test_verp_tokens_survive_case_changes_and_refuse_forgeries() -> None:
    signer = Signer([b"k" * 32])
    address = verp.address_for(signer, BOUNCE_ADDRESS, 2**63 - 1)
    local = address.split("@")[0]
    assert len(local) <= 64
    assert local == local.lower() and all(c.isalnum() or c in "+-" for c in local)
    # Some MTAs lowercase or uppercase local parts: the token still names the row.
    assert verp.delivery_of(signer, BOUNCE_ADDRESS, address.upper()) == 2**63 - 1
    assert verp.delivery_of(signer, BOUNCE_ADDRESS, f"Bounce Handler <{address}>") == 2**63 - 1
    token = signer.make_compact("bounce", 42)
    # A wrong MAC, another number under the same MAC, another purpose, another key.
    forged = [
        token[:-1] + ("a" if token[-1] != "a" else "b"),
        "43" + token[2:],
        signer.make_compact("click", 42),
        Signer([b"x" * 32]).make_compact("bounce", 42),
    ]
    for bad in forged:
        with pytest.raises(verp.ForgedAddress):
            verp.delivery_of(signer, BOUNCE_ADDRESS, f"bounce+{bad}@bounces.news.example.org")
    # Not ours at all: another local part or domain, or the bare address.
    for other in (
        f"news+{token}@bounces.news.example.org",
        f"bounce+{token}@else.org",
        BOUNCE_ADDRESS,
    ):
        assert verp.delivery_of(signer, BOUNCE_ADDRESS, other) is None
    # Rotation: a token signed by the previous key still verifies.
    rotated = Signer([b"n" * 32, b"k" * 32])
    assert verp.delivery_of(rotated, BOUNCE_ADDRESS, address) == 2**63 - 1


@pytest.mark.parametrize("key", [b"k" * 16, b"k" * 64, b"k" * 100])
def test_compact_tokens_are_hmac_sha256_of_purpose_and_number(key: bytes) -> None:
    """The precomputed pads give exactly RFC 2104 HMAC (keys of every length)."""
    token = Signer([key]).make_compact("bounce", 123456)
    number, mac = token.split("-")
    assert number == "1e240"
    assert mac == hmac.new(key, b"bounce|1e240", hashlib.sha256).hexdigest()[:20]


def test_bounce_address_is_validated_naming_the_key(tmp_path: Path) -> None:
    assert BOUNCE_LOCAL_MAX == verp.BASE_LOCAL_MAX
    longest = verp.address_for(Signer([b"k" * 32]), f"{'b' * BOUNCE_LOCAL_MAX}@x.org", 2**64 - 1)
    assert len(longest.split("@")[0]) == 64
    from syndicate.core.errors import ConfigError

    for bad in ("bounce+x@bounces.example.org", "no-at-sign", f"{'b' * 27}@example.org", "a@b"):
        config = bounce_config(tmp_path, "sqlite:///x.db")
        config.write_text(config.read_text().replace(BOUNCE_ADDRESS, bad))
        with pytest.raises(ConfigError) as caught:
            load_settings(config)
        assert "mail.bounce_address" in str(caught.value.problems) + caught.value.message


def test_mail_outside_any_delivery_row_uses_the_bare_bounce_address(app: App) -> None:
    """Test copies and confirmation mails: no row for a token to name."""
    from syndicate.delivery.messages import recipient_for

    signer = signer_for(app.settings, app.engine)
    common = {"subscriber_id": None, "email": "a@example.org", "name": "", "edition_id": None}
    bare = recipient_for(app.settings, signer, delivery_id=None, now=app.clock.now(), **common)
    assert bare.envelope_from == BOUNCE_ADDRESS
    row = recipient_for(app.settings, signer, delivery_id=5, now=app.clock.now(), **common)
    assert verp.delivery_of(signer, BOUNCE_ADDRESS, row.envelope_from or "") == 5


def test_without_bounce_address_the_envelope_is_unchanged(tmp_path: Path, store_url: str) -> None:
    from syndicate.core.clock import FixedClock
    from tests.support import T0

    with App(
        load_settings(bounce_config(tmp_path, store_url, verp=False)), clock=FixedClock(T0)
    ) as plain:
        [message] = send_edition(plain, 1)
    assert message.envelope == "news@news.example.org"
    assert not message.headers.startswith("Return-Path")


# -- parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shape", "kind"),
    [
        ("postfix-hard.eml", "dsn", "hard_bounce"),
        ("postfix-soft.eml", "dsn", "soft_bounce"),
        ("exim-hard.eml", "dsn", "hard_bounce"),
        ("exim-text-soft.eml", "text", "soft_bounce"),
        ("exchange-2003.eml", "text", "hard_bounce"),
        ("office365.eml", "dsn", "hard_bounce"),
        ("gmail-failure.eml", "dsn", "hard_bounce"),
        ("yahoo-text.eml", "text", "hard_bounce"),
        ("arf-abuse.eml", "arf", "complaint"),
    ],
)
def test_each_report_shape_is_read(name: str, shape: str, kind: str) -> None:
    sent = Sent(
        7,
        "reader@example.com",
        "bounce+abc@b.example.org",
        "Message-ID: <e1.s2@x.org>\nTo: reader@example.com",
        "<e1.s2@x.org>",
    )
    found = parse(report(name, sent))
    assert found is not None and found.shape == shape
    assert {f.kind for f in found.findings} == {kind}
    if shape != "arf":  # the feedback loop redacted the recipient
        assert {f.recipient for f in found.findings} == {"reader@example.com"}
    assert "bounce+abc@b.example.org" in found.envelope
    assert found.original is not None and found.original["Message-ID"] == "<e1.s2@x.org>"


@pytest.mark.parametrize("name", ["postfix-delayed.eml", "arf-auth-failure.eml", "autoreply.eml"])
def test_warnings_dmarc_reports_and_autoreplies_are_not_bounces(name: str) -> None:
    sent = Sent(7, "reader@example.com", "bounce@b.example.org", "To: reader@example.com", "<x@y>")
    assert parse(report(name, sent)) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("5.1.1", "hard"),
        ("5.0.0", "hard"),
        ("5.2.1", "hard"),
        ("5.2.2", "soft"),
        ("5.7.1", "soft"),
        ("4.4.1", "soft"),
        ("", "soft"),
    ],
)
def test_reported_statuses(status: str, expected: str) -> None:
    assert report_bounce(status) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n",
        b"Content-Type: multipart/report; report-type=feedback-report\r\n\r\nno parts",
        b"From: MAILER-DAEMON@x\r\nSubject: Undeliverable\r\nContent-Type: text/plain; charset=bogus-9\r\n\r\n<a@b.example> 550 5.1.1\r\n",
    ],
)
def test_malformed_reports_never_raise(app: App, raw: bytes) -> None:
    result = ingest(app, raw)
    assert result.status in ("ignored", "unmatched")
    assert _events(app) == []


# -- applying -------------------------------------------------------------------------


def test_hard_bounce_suppresses_once_and_the_same_report_twice_changes_nothing(
    app: App, sent: list[Sent]
) -> None:
    target = sent[1]
    raw = report("postfix-hard.eml", target)
    first = ingest(app, raw)
    assert (first.status, first.delivery_id, first.kind) == (
        "applied",
        target.delivery_id,
        "hard_bounce",
    )
    subscriber = status_of(app, target.rcpt)
    assert subscriber.status == "bounced" and "5.1.1" in (subscriber.status_reason or "")
    before = (subscriber.status_changed_at, subscriber.status_reason)
    # Again, and again with one more trace header on top (another MTA hop): a replay.
    again = ingest(app, raw)
    relayed = ingest(app, b"Received: from relay.example by mx\r\n" + raw)
    assert again.status == relayed.status == "duplicate"
    after = status_of(app, target.rcpt)
    assert (after.status_changed_at, after.status_reason) == before
    assert len(_events(app)) == 1 and _events(app)[0][0] == "mail"
    for other in sent[:1] + sent[2:]:
        assert status_of(app, other.rcpt).status == "active"


def test_soft_bounces_count_toward_the_limit(app: App, sent: list[Sent]) -> None:
    target = sent[0]
    limit = app.settings.web.soft_bounce_limit
    reports = [
        report("postfix-soft.eml", target),
        report("exim-text-soft.eml", target),
        report("postfix-soft.eml", target).replace(b"7AbCd2xyz@", b"8ZzZz9xyz@"),
    ]
    assert limit == len(reports)
    for number, raw in enumerate(reports, start=1):
        assert ingest(app, raw).status == "applied"
        assert ingest(app, raw).status == "duplicate"
        subscriber = status_of(app, target.rcpt)
        assert subscriber.soft_bounces == number
        assert subscriber.status == ("bounced" if number == limit else "active")


@pytest.mark.parametrize(
    "name",
    ["exim-hard.eml", "exchange-2003.eml", "office365.eml", "gmail-failure.eml", "yahoo-text.eml"],
)
def test_every_mta_shape_suppresses_through_verp(app: App, sent: list[Sent], name: str) -> None:
    target = sent[2]
    result = ingest(app, report(name, target))
    assert result.status == "applied" and result.delivery_id == target.delivery_id, result
    assert status_of(app, target.rcpt).status == "bounced"


def test_feedback_loop_complaint_with_a_redacted_recipient(app: App, sent: list[Sent]) -> None:
    target = sent[3]
    raw = report("arf-abuse.eml", target)
    assert (
        b"Redacted-Address" in raw
        and target.rcpt.encode() not in raw.split(b"Return-Path: <bounce")[0]
    )
    result = ingest(app, raw)
    assert (result.status, result.kind) == ("applied", "complaint")
    subscriber = status_of(app, target.rcpt)
    assert subscriber.status == "complained" and "abuse" in (subscriber.status_reason or "")
    assert ingest(app, raw).status == "duplicate"


def test_without_verp_the_quoted_headers_identify_the_row(app: App, sent: list[Sent]) -> None:
    """A bounce sent to the bare bounce address (or from mail sent before VERP)."""
    target = sent[1]
    raw = report("postfix-hard.eml", target, verp=BOUNCE_ADDRESS)
    result = ingest(app, raw)
    assert result.status == "applied" and result.delivery_id == target.delivery_id
    assert (
        result.detail.endswith(("User unknown in virtual mailbox table",))
        or "headers" in result.detail
    )


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
def test_an_encoded_copy_of_the_original_still_identifies_the_row(
    app: App, sent: list[Sent], encoding: str
) -> None:
    """Some servers send the returned message/rfc822 part base64 or quoted-printable
    (RFC 2046 forbids it): the quoted headers are read after decoding."""
    target = sent[1]
    original = f"{target.headers}\n\nThis week's news.\n".encode()  # CRLF once encoded
    body = (
        base64.encodebytes(original) if encoding == "base64" else quopri.encodestring(original)
    ).decode()
    raw = report("postfix-hard.eml", target, verp=BOUNCE_ADDRESS, headers="@@ENCODED@@")
    raw = raw.replace(
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit",
        f"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: {encoding}".encode(),
    )
    raw = raw.replace(b"@@ENCODED@@\r\n\r\nThis week's news.", body.replace("\n", "\r\n").encode())
    # Really encoded: no header readable as is (base64), or every "=" escaped (QP).
    assert (b"List-Unsubscribe" not in raw) if encoding == "base64" else (b"=3D" in raw)
    result = ingest(app, raw)
    assert result.status == "applied" and result.delivery_id == target.delivery_id
    assert "(by headers)" in result.detail  # not merely the address the report names
    assert status_of(app, target.rcpt).status == "bounced"


def test_an_unsigned_message_id_counts_only_with_the_rows_own_address(
    app: App, sent: list[Sent]
) -> None:
    target, other = sent[0], sent[1]
    headers = "\n".join(
        line for line in target.headers.split("\n") if not line.startswith("List-Unsubscribe:")
    )
    # Our Message-ID of target's row, but a report about somebody else: proves nothing.
    raw = report(
        "postfix-hard.eml",
        target,
        verp=BOUNCE_ADDRESS,
        headers=headers,
        rcpt="stranger@example.net",
    )
    assert ingest(app, raw).status == "unmatched"
    # The same Message-ID with the row's own address: accepted.
    raw = report("postfix-hard.eml", target, verp=BOUNCE_ADDRESS, headers=headers)
    assert ingest(app, raw).delivery_id == target.delivery_id
    assert status_of(app, other.rcpt).status == "active"


def test_a_bare_address_counts_only_when_we_sent_to_it(app: App, sent: list[Sent]) -> None:
    target = sent[2]
    text = "Delivered-To: bounce@bounces.news.example.org\nFrom: MAILER-DAEMON@yahoo.com\nSubject: Failure Notice\nMessage-ID: <x1@yahoo.com>\n\nSorry, we were unable to deliver your message to the following address.\n\n<{rcpt}>:\n554: delivery error: dd This user doesn't have a yahoo.com account\n"
    assert ingest(app, text.format(rcpt="nobody@example.net").encode()).status == "unmatched"
    result = ingest(app, text.format(rcpt=target.rcpt.upper()).encode())
    assert result.status == "applied" and result.delivery_id == target.delivery_id
    assert "(by address)" in result.detail


# -- hostility ------------------------------------------------------------------------


def _nothing_changed(app: App, sent: list[Sent]) -> None:
    assert _events(app) == []
    for message in sent:
        subscriber = status_of(app, message.rcpt)
        assert (subscriber.status, subscriber.soft_bounces) == ("active", 0)


def test_forged_reports_change_nothing_and_are_logged(
    app: App, sent: list[Sent], caplog: pytest.LogCaptureFixture
) -> None:
    signer = signer_for(app.settings, app.engine)
    target, other = sent[0], sent[1]
    token = target.envelope.split("+")[1].split("@")[0]
    bad_mac = token[:-1] + ("a" if token[-1] != "a" else "b")
    forgeries = {
        "bad signature": report(
            "postfix-hard.eml", target, verp=f"bounce+{bad_mac}@bounces.news.example.org"
        ),
        "unknown row": report(
            "postfix-hard.eml", target, verp=verp.address_for(signer, BOUNCE_ADDRESS, 99999)
        ),
        "token of another purpose": report(
            "postfix-hard.eml",
            target,
            verp=f"bounce+{signer.make_compact('click', target.delivery_id)}@bounces.news.example.org",
        ),
        # A genuine VERP token of one row with another row's quoted headers.
        "token for another row": report("postfix-hard.eml", other, verp=target.envelope),
        "forged unsubscribe token": report(
            "gmail-failure.eml",
            target,
            verp=BOUNCE_ADDRESS,
            headers=target.headers.replace("/unsubscribe/", "/unsubscribe/x"),
        ),
    }
    caplog.set_level(logging.WARNING, logger="syndicate.delivery.bounces.ingest")
    for what, raw in forgeries.items():
        result = ingest(app, raw)
        assert result.status == "forged", (what, result)
    _nothing_changed(app, sent)
    assert len([r for r in caplog.records if "forged" in r.getMessage()]) == len(forgeries)


def test_a_report_naming_no_row_of_ours_changes_nothing(app: App, sent: list[Sent]) -> None:
    stranger = Sent(
        0,
        "someone@example.net",
        BOUNCE_ADDRESS,
        "Message-ID: <abc@elsewhere.example>\nTo: someone@example.net",
        "<abc@elsewhere.example>",
    )
    for name in ("postfix-hard.eml", "yahoo-text.eml", "arf-abuse.eml"):
        assert ingest(app, report(name, stranger)).status == "unmatched"
    _nothing_changed(app, sent)


# -- properties -----------------------------------------------------------------------

_SIGNER = Signer([b"property-test-key-0123456789"])


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    number=st.integers(min_value=0, max_value=2**64 - 1), flips=st.lists(st.booleans(), max_size=64)
)
def test_any_row_id_round_trips_through_any_letter_case(number: int, flips: list[bool]) -> None:
    address = verp.address_for(_SIGNER, BOUNCE_ADDRESS, number)
    local, domain = address.split("@")
    assert len(local) <= 64
    mangled = "".join(
        c.upper() if flip else c for c, flip in zip(local, flips + [False] * 64, strict=False)
    )
    assert verp.delivery_of(_SIGNER, BOUNCE_ADDRESS, f"{mangled}@{domain.upper()}") == number


@hypothesis_settings(max_examples=300, deadline=None)
@given(local=st.text(max_size=80))
def test_any_local_part_is_ours_forged_or_not_ours_never_an_error(local: str) -> None:
    try:
        found = verp.delivery_of(
            _SIGNER, BOUNCE_ADDRESS, f"bounce+{local}@bounces.news.example.org"
        )
    except verp.ForgedAddress:
        return
    assert (
        found is None
        or verp.address_for(_SIGNER, BOUNCE_ADDRESS, found).split("@")[0]
        == f"bounce+{local}".lower()
    )


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    raw=st.binary(max_size=2000),
    name=st.sampled_from(["postfix-hard.eml", "arf-abuse.eml", "yahoo-text.eml"]),
    cut=st.integers(0, 4000),
)
def test_parse_never_raises_on_damaged_reports(raw: bytes, name: str, cut: int) -> None:
    sent = Sent(1, "r@example.com", "bounce@b.example.org", "To: r@example.com", "<x@y>")
    full = report(name, sent)
    for data in (raw, full[:cut] + raw, full.replace(b"\r\n", raw[:3] or b"\n")):
        parse(data)


def test_a_terse_bounce_naming_nobody_counts_through_verp_only(app: App, sent: list[Sent]) -> None:
    terse = "Delivered-To: {to}\nFrom: MAILER-DAEMON@mx.example.net\nSubject: failure notice\nMessage-ID: <t1@mx.example.net>\n\nPermanent error: the mailbox does not exist.\n"
    assert ingest(app, terse.format(to=BOUNCE_ADDRESS).encode()).status == "unmatched"
    result = ingest(app, terse.format(to=sent[0].envelope).encode())
    assert (result.status, result.kind) == ("applied", "hard_bounce")
    assert status_of(app, sent[0].rcpt).status == "bounced"
