"""Subscriber lifecycle on the store: opt-in, suppression, preferences, CSV, erasure."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import insert, select

from syndicate.core.db import deliveries, editions, subscribers, transaction
from syndicate.core.errors import SyndicateError
from syndicate.readers import csvfile as subscriber_csv
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from tests.support import T0


def test_address_key_lowercases_the_domain_only() -> None:
    address = subs.normalise("  Ann.Lee@EXAMPLE.Org ")
    assert address.email == "Ann.Lee@example.org"
    assert address.key == "Ann.Lee@example.org"
    assert subs.normalise("ann.lee@example.org").key != address.key


@pytest.mark.parametrize(
    "raw",
    ["", "no-at-sign", "a@b@c.org", "x" * 400 + "@example.org", "a@example.org\r\nBcc: b@x.org"],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(subs.InvalidAddress):
        subs.normalise(raw)


def test_names_lose_control_characters_and_are_bounded() -> None:
    assert subs.clean_name("Ann\r\nBcc: x@y.org") == "Ann Bcc: x@y.org"
    assert len(subs.clean_name("n" * 5000)) == subs.MAX_NAME


def test_double_opt_in_and_unsubscribe(app: App) -> None:
    with transaction(app.engine) as conn:
        pending, send = subs.request(conn, "ann@example.org", name="Ann", digests=["w"], now=T0)
        assert (pending.status, send, pending.digests) == ("pending", True, ("w",))
        again, send_again = subs.request(conn, "ann@EXAMPLE.org", name="", digests=["w"], now=T0)
        assert again.id == pending.id and not send_again  # no flood of confirmations
        later = T0 + subs.RESEND_AFTER
        again, send_again = subs.request(conn, "ann@EXAMPLE.org", name="", digests=["w"], now=later)
        assert again.id == pending.id and send_again
        assert subs.confirm(conn, pending.id, T0)
        assert not subs.confirm(conn, pending.id, T0)  # a second click changes nothing
        active, send_active = subs.request(conn, "ann@example.org", name="X", digests=[], now=T0)
        assert (active.status, send_active, active.name, active.digests) == (
            "active",
            False,
            "Ann",
            ("w",),
        )
        assert subs.unsubscribe(conn, pending.id, T0)
        assert not subs.unsubscribe(conn, pending.id, T0)
        assert not subs.confirm(conn, pending.id, T0)  # an old confirm link cannot undo it
        assert subs.get(conn, pending.id).status == "unsubscribed"


def test_bounces_and_complaints_suppress(app: App) -> None:
    with transaction(app.engine) as conn:
        subs.add(conn, "bob@example.org", digests=["w"], now=T0)
        for n in range(2):
            after = subs.record_soft_bounce(conn, "bob@example.org", reason="full", now=T0, limit=3)
            assert (after.status, after.soft_bounces) == ("active", n + 1)
        after = subs.record_soft_bounce(conn, "bob@example.org", reason="full", now=T0, limit=3)
        assert after.status == "bounced" and "soft bounces" in after.status_reason
        assert subs.suppress(conn, "bob@example.org", "complained", "abuse", T0).status == (
            "complained"
        )
        assert subs.suppress(conn, "nobody@example.org", "bounced", "x", T0) is None
        _, send = subs.request(conn, "bob@example.org", name="", digests=["w"], now=T0)
        assert not send  # a complainer is never mailed by a stranger's form post
        with pytest.raises(subs.SuppressedAddress):
            subs.add(conn, "bob@example.org", digests=["w"], now=T0)
        revived, outcome = subs.add(conn, "bob@example.org", digests=["w"], now=T0, force=True)
        assert (revived.status, outcome, revived.soft_bounces) == ("active", "reactivated", 0)


def test_preferences_and_time_zone(app: App) -> None:
    with transaction(app.engine) as conn:
        s, _ = subs.add(conn, "cy@example.org", digests=["a", "b"], now=T0)
        subs.set_preferences(conn, s.id, digests=["b"], timezone="Asia/Tokyo", name="Cy", now=T0)
        after = subs.get(conn, s.id)
        assert (after.digests, after.timezone, after.name) == (("b",), "Asia/Tokyo", "Cy")
        with pytest.raises(SyndicateError):
            subs.set_preferences(conn, s.id, digests=[], timezone="Mars/Base", name="", now=T0)


def test_import_reports_rejected_rows_and_dry_run_writes_nothing(app: App) -> None:
    with transaction(app.engine) as conn:
        subs.add(conn, "gone@example.org", digests=["w"], now=T0)
        subs.unsubscribe(conn, subs.find(conn, "gone@example.org").id, T0)
    data = (
        "Email,Name,Digests\n"
        "new@example.org,New One,w\n"
        "new@EXAMPLE.org,Dup,w\n"
        "not-an-address,Bad,w\n"
        "gone@EXAMPLE.org,Gone,w\n"
        "other@example.org,Other,nosuch\n"
    )
    for dry_run in (True, False):
        with transaction(app.engine) as conn:
            report = subscriber_csv.import_csv(
                conn,
                io.StringIO(data),
                now=T0,
                known_digests=["w"],
                default_digests=["w"],
                dry_run=dry_run,
            )
        assert report.added == 1
        reasons = {line: reason for line, _, reason in report.rejected}
        assert set(reasons) == {3, 4, 5, 6}
        assert "duplicate of line 2" in reasons[3]
        assert "unsubscribed" in reasons[5]
        assert "unknown digest nosuch" in reasons[6]
        with app.engine.connect() as conn:
            stored = subs.find(conn, "new@example.org")
            assert (stored is None) == dry_run
    with transaction(app.engine) as conn:
        forced = subscriber_csv.import_csv(
            conn,
            io.StringIO(data),
            now=T0,
            known_digests=["w"],
            default_digests=["w"],
            force=True,
        )
    assert forced.reactivated == 1 and forced.unchanged == 1


def test_export_round_trips_and_defuses_formulas(app: App) -> None:
    with transaction(app.engine) as conn:
        subs.add(conn, "dee@example.org", name="=HYPERLINK(1)", digests=["w"], now=T0)
        out = io.StringIO()
        assert subscriber_csv.export_csv(conn, out) == 1
    text = out.getvalue()
    assert text.splitlines()[0].startswith("email,name,status,digests")
    assert "'=HYPERLINK(1)" in text and "dee@example.org" in text


def test_a_rejected_row_does_not_make_a_later_good_row_a_duplicate(app: App) -> None:
    data = (
        "email,digests,timezone\n"
        "fay@example.org,nosuch,\n"
        "fay@example.org,w,Mars/Base\n"
        "fay@example.org,w,Europe/Kyiv\n"
        "fay@EXAMPLE.org,w,\n"
    )
    with transaction(app.engine) as conn:
        report = subscriber_csv.import_csv(
            conn, io.StringIO(data), now=T0, known_digests=["w"], default_digests=["w"]
        )
    reasons = {line: reason for line, _, reason in report.rejected}
    assert report.added == 1 and set(reasons) == {2, 3, 5}
    assert "duplicate of line 4" in reasons[5]
    with app.engine.connect() as conn:
        assert subs.find(conn, "fay@example.org").timezone == "Europe/Kyiv"


def test_export_then_import_finds_the_same_people(app: App) -> None:
    with transaction(app.engine) as conn:
        subs.add(conn, "-dash@example.org", name="+Plus", digests=["w"], now=T0)
        subs.add(conn, "plain@example.org", name="@handle", digests=["w"], now=T0)
        out = io.StringIO()
        subscriber_csv.export_csv(conn, out)
    assert "'-dash@example.org" in out.getvalue() and "'+Plus" in out.getvalue()
    with transaction(app.engine) as conn:
        report = subscriber_csv.import_csv(
            conn,
            io.StringIO(out.getvalue()),
            now=T0,
            known_digests=["w"],
            default_digests=["w"],
        )
    assert (report.added, report.unchanged, report.rejected) == (0, 2, [])
    with app.engine.connect() as conn:
        people = subs.list_subscribers(conn)
    assert sorted((s.email, s.name) for s in people) == [
        ("-dash@example.org", "+Plus"),
        ("plain@example.org", "@handle"),
    ]


def test_erase_forgets_the_person_and_their_past_deliveries(app: App) -> None:
    with transaction(app.engine) as conn:
        s, _ = subs.add(conn, "eve@example.org", digests=["w"], now=T0)
        edition_id = conn.execute(
            insert(editions)
            .values(
                digest="w",
                period="p",
                period_start=T0,
                period_end=T0,
                status="composed",
                created_at=T0,
            )
            .returning(editions.c.id)
        ).scalar_one()
        conn.execute(
            insert(deliveries).values(
                edition_id=edition_id,
                subscriber_id=s.id,
                email=s.email,
                status="sent",
                not_before=T0,
                message_id="<m@x>",
                created_at=T0,
            )
        )
        assert subs.erase(conn, "EVE@example.org") is False  # the local part counts
        assert subs.erase(conn, "eve@EXAMPLE.org") is True
    with app.engine.connect() as conn:
        assert subs.find(conn, "eve@example.org") is None
        assert conn.execute(select(subscribers)).first() is None
        assert conn.execute(select(deliveries.c.email)).scalar_one() == "erased"


def test_add_validates_and_updates_the_time_zone_of_an_existing_subscriber(app: App) -> None:
    with transaction(app.engine) as conn:
        subs.add(conn, "tz@example.org", digests=["w"], now=T0)
        moved, outcome = subs.add(
            conn, "tz@example.org", digests=["w"], now=T0, timezone="Asia/Tokyo"
        )
        assert (moved.timezone, outcome) == ("Asia/Tokyo", "updated")
        _, outcome = subs.add(conn, "tz@example.org", digests=["w"], now=T0, timezone="Asia/Tokyo")
        assert outcome == "unchanged"
        with pytest.raises(SyndicateError, match="not a time zone"):
            subs.add(conn, "tz@example.org", digests=["w"], now=T0, timezone="Mars/Base")
        assert subs.find(conn, "tz@example.org").timezone == "Asia/Tokyo"


def test_confirming_or_adding_a_pending_address_forgets_its_soft_bounces(app: App) -> None:
    with transaction(app.engine) as conn:
        for email in ("gil@example.org", "hal@example.org"):
            subs.request(conn, email, name="", digests=["w"], now=T0)
            subs.record_soft_bounce(conn, email, reason="full", now=T0, limit=3)
            subs.record_soft_bounce(conn, email, reason="full", now=T0, limit=3)
        assert subs.confirm(conn, subs.find(conn, "gil@example.org").id, T0)
        _, outcome = subs.add(conn, "hal@example.org", digests=["w"], now=T0)
        assert outcome == "reactivated"
        for email in ("gil@example.org", "hal@example.org"):
            after = subs.find(conn, email)
            assert (after.status, after.soft_bounces) == ("active", 0)
            after = subs.record_soft_bounce(conn, email, reason="full", now=T0, limit=3)
            assert after.status == "active"  # one new bounce is not the third
