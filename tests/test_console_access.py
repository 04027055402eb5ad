"""Who may enter the console: every route x role x method, and hostile requests."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from syndicate.core.clock import FixedClock
from syndicate.core.db import login_attempts
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.web import create_app
from syndicate.web.admin import ADMIN_ROUTES
from syndicate.web.admin.system import masked
from syndicate.web.console import audit
from syndicate.web.console import operators as ops
from tests.support.console import (
    BASE,
    COOKIE,
    DIGESTS,
    MONDAY,
    PASSWORD,
    browser,
    make_operator,
    seed,
)


@pytest.fixture
def config_extra() -> str:
    return DIGESTS


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture
def flask(app: App, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("SYNDICATE_SECRET", "s" * 32)
    return create_app(app)


def _path(rule: str, ids: dict[str, int]) -> str:
    path = rule.replace("<path:rest>", "nothing-here").replace("<token>", "not-a-token")
    return re.sub(r"<int:(\w+)>", lambda m: str(ids[m.group(1)]), path)


def test_every_admin_route_is_in_the_table(flask: Flask) -> None:
    declared = {(r.rule, r.method) for r in ADMIN_ROUTES}
    for rule in flask.url_map.iter_rules():
        if rule.rule.startswith("/admin/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (rule.rule, method) in declared, rule.rule


def test_roles_on_every_route(app: App, flask: Flask) -> None:
    """Each operator role against each route: below the route's role is a 403, at or
    above it is anything but a 403 or a trip to the login page."""
    ids = seed(app)
    people = {role: make_operator(app, f"{role}@example.org", role) for role in ops.ROLES}
    make_operator(app, "spare-owner@example.org", "owner")  # removable by the walk
    checked = 0
    for route in ADMIN_ROUTES:
        if route.role is None:
            continue
        for role, operator in people.items():
            client = browser(flask, app, operator)
            path = _path(route.rule, ids)
            if route.method == "GET":
                answer = client.get(path)
            else:
                answer = client.post(path, {"csrf": client.csrf()})
            allowed = ops.RANK[role] >= ops.RANK[route.role]
            where = f"{route.method} {path} as {role}"
            if allowed:
                assert answer.status_code not in (401, 403), where
                assert "/admin/login?next=" not in answer.headers.get("Location", ""), where
                assert answer.status_code < 500, where
            else:
                assert answer.status_code == 403, where
                assert "needs the" in answer.text, where
            checked += 1
    assert checked == len(ops.ROLES) * sum(1 for r in ADMIN_ROUTES if r.role) > 80


def test_nothing_under_admin_without_a_session(app: App, flask: Flask) -> None:
    ids = seed(app)
    client = browser(flask)
    for route in ADMIN_ROUTES:
        if route.role is None:
            continue
        path = _path(route.rule, ids)
        if route.method == "GET":
            answer = client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["Location"].startswith("/admin/login?next=")
        else:
            answer = client.post(path, {"csrf": "x"})
            assert answer.status_code == 403, path
        assert "reader@example.org" not in answer.text
    with app.engine.connect() as conn:
        assert subs.find(conn, "reader@example.org").status == "active"


def test_login_sets_a_fresh_hardened_cookie_and_logout_ends_it(app: App, flask: Flask) -> None:
    make_operator(app, "ed@example.org", "editor")
    client = browser(flask)
    planted = "attacker-chosen-session-id"
    client.client.set_cookie(COOKIE, planted, domain="news.example.org")  # fixation attempt
    answer = client.login("ed@example.org")
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/"
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    value = client.cookie(COOKIE)
    assert value and value != planted
    assert client.get("/admin/").status_code == 200
    before_logout = value
    assert client.post("/admin/logout", {"csrf": client.csrf()}).status_code == 303
    assert client.get("/admin/").status_code == 303
    other = browser(flask)  # the old cookie is dead on the server, not only in the browser
    other.client.set_cookie(COOKIE, before_logout, domain="news.example.org")
    assert other.get("/admin/").status_code == 303


def test_plain_http_base_url_gets_a_plain_cookie(
    app: App, flask: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.settings = app.settings.model_copy(
        update={"web": app.settings.web.model_copy(update={"base_url": "http://127.0.0.1:8080/"})}
    )
    make_operator(app, "ed@example.org", "editor")
    answer = browser(create_app(app)).login("ed@example.org")
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if "syndicate-admin" in c]
    assert cookie.startswith("syndicate-admin=") and "Secure" not in cookie
    assert "HttpOnly" in cookie


def test_expired_sessions_go_back_to_login(app: App, flask: Flask, clock: FixedClock) -> None:
    operator = make_operator(app, "v@example.org", "viewer")
    client = browser(flask, app, operator)
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=app.settings.web.admin_idle_minutes)
    answer = client.get("/admin/subscribers")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/admin/login?next=/admin/subscribers"


def test_csrf_must_be_this_sessions_token(app: App, flask: Flask) -> None:
    seed(app)
    mallory = browser(flask, app, make_operator(app, "mallory@example.org", "editor"))
    victim = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    with app.engine.connect() as conn:
        reader = subs.find(conn, "reader@example.org")
    target = f"/admin/subscribers/{reader.id}/suppress"
    assert victim.post(target, {"csrf": mallory.csrf()}).status_code == 403
    assert victim.post(target, {}).status_code == 403
    assert victim.post(target, {"csrf": victim.csrf() + "x"}).status_code == 403
    cross_site = victim.post(
        target, {"csrf": victim.csrf()}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status_code == 403
    with app.engine.connect() as conn:
        assert subs.find(conn, "reader@example.org").status == "active"
    assert victim.post(target, {"csrf": victim.csrf()}).status_code == 303
    with app.engine.connect() as conn:
        assert subs.find(conn, "reader@example.org").status == "unsubscribed"


def test_a_post_with_only_an_origin_header_is_checked_against_our_host(
    app: App, flask: Flask
) -> None:
    """Older browsers send Origin without Sec-Fetch-Site: ours passes, another site is 403."""
    ids = seed(app)
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    target = f"/admin/subscribers/{ids['subscriber_id']}/suppress"
    other = editor.post(target, {"csrf": editor.csrf()}, headers={"Origin": "https://evil.example"})
    assert other.status_code == 403
    with app.engine.connect() as conn:
        assert subs.find(conn, "reader@example.org").status == "active"
    ours = editor.post(target, {"csrf": editor.csrf()}, headers={"Origin": BASE})
    assert ours.status_code == 303
    with app.engine.connect() as conn:
        assert subs.find(conn, "reader@example.org").status == "unsubscribed"


def test_a_viewer_cannot_post_an_editor_form(app: App, flask: Flask) -> None:
    ids = seed(app)
    viewer = browser(flask, app, make_operator(app, "v@example.org", "viewer"))
    token = viewer.csrf()
    for path, data in (
        (f"/admin/subscribers/{ids['subscriber_id']}/suppress", {}),
        (f"/admin/subscribers/{ids['subscriber_id']}/erase", {"confirm": "yes"}),
        ("/admin/subscribers", {"email": "new@example.org", "consent": "x"}),
        (f"/admin/editions/{ids['edition_id']}/hold", {"action": "cancel"}),
        ("/admin/operators", {"email": "x@example.org", "role": "owner"}),
    ):
        assert viewer.post(path, {"csrf": token, **data}).status_code == 403, path
    with app.engine.connect() as conn:
        assert subs.find(conn, "reader@example.org").status == "active"
        assert subs.find(conn, "new@example.org") is None
        assert ops.find(conn, "x@example.org") is None


def test_brute_force_is_throttled_per_account_and_per_address(app: App, flask: Flask) -> None:
    make_operator(app, "ed@example.org", "editor")
    attacker = browser(flask)
    attacker.client.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    statuses = [attacker.login("ed@example.org", "wrong guess").status_code for _ in range(10)]
    assert statuses == [401] * 10
    # The right password no longer helps for this account from that address...
    assert attacker.login("ed@example.org").status_code == 429
    # ...but the real operator, elsewhere, is not locked out by it.
    assert browser(flask).login("ed@example.org").status_code == 303
    # ...and the address is limited across accounts too.
    make_operator(app, "v@example.org", "viewer")
    for i in range(30):  # 30 per address in 15 minutes, whichever accounts
        attacker.login(f"guess{i}@example.org", "wrong")
    answer = attacker.login("v@example.org")
    assert answer.status_code == 429 and "Too many attempts" in answer.text


def test_the_login_limit_holds_across_a_restart_and_ends_after_the_window(
    app: App, flask: Flask, clock: FixedClock
) -> None:
    """The attempts are in the store: a new app (a restart, or another process serving
    the console) still refuses the address; 15 minutes later it may try again."""
    make_operator(app, "ed@example.org", "editor")
    attacker = browser(flask)
    attacker.client.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    assert [attacker.login("ed@example.org", "wrong").status_code for _ in range(10)] == [401] * 10
    with App(app.settings, clock=clock) as restarted:  # its own engine and memory
        again = browser(create_app(restarted))
        again.client.environ_base["REMOTE_ADDR"] = "203.0.113.66"
        assert again.login("ed@example.org").status_code == 429
        elsewhere = browser(create_app(restarted))
        assert elsewhere.login("ed@example.org").status_code == 303
        clock.advance(minutes=15)
        assert again.login("ed@example.org").status_code == 303
    with app.engine.connect() as conn:  # no address in the table, only keyed hashes
        keys = list(conn.execute(select(login_attempts.c.key)).scalars())
    assert keys and not any("203.0.113" in k or "ed@" in k for k in keys)


def test_login_needs_its_form_token_and_next_stays_on_the_console(app: App, flask: Flask) -> None:
    make_operator(app, "ed@example.org", "editor")
    client = browser(flask)
    forged = client.post("/admin/login", {"email": "ed@example.org", "password": PASSWORD})
    assert forged.status_code == 403
    for hostile in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/admin/\r\nSet-Cookie: x=1",
        "/admin/\nx",
        "/admin/\x00",
        "/admin//evil.example",
        "/admin/\u00e9",
    ):
        token = client.csrf("/admin/login")
        answer = client.post(
            "/admin/login",
            {"csrf": token, "email": "ed@example.org", "password": PASSWORD, "next": hostile},
        )
        assert answer.headers["Location"] == "/admin/", hostile
        client.post("/admin/logout", {"csrf": client.csrf()})


def test_script_in_every_field_is_shown_as_text(app: App, flask: Flask) -> None:
    seed(app)
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    owner = browser(flask, app, make_operator(app, "o@example.org", "owner"))
    token = owner.csrf()
    added = owner.post(
        "/admin/subscribers",
        {"csrf": token, "email": "evil@example.org", "name": evil, "consent": evil},
    )
    assert added.status_code == 303
    subscriber_page = added.headers["Location"]
    owner.post(subscriber_page + "/suppress", {"csrf": token, "reason": evil})
    pages = [
        subscriber_page,
        "/admin/subscribers?q=" + evil,
        "/admin/articles?q=" + evil,
        "/admin/audit",
        "/admin/editions/1?as=" + evil,
        "/admin/jobs?job=" + evil,
    ]
    for path in pages:
        answer = owner.get(path)
        assert answer.status_code == 200, path
        assert "<script>alert" not in answer.text and "<img src=x" not in answer.text, path
        assert "script-src" not in answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert "&lt;script&gt;" in owner.get(subscriber_page).text


def test_changes_are_audited_with_before_and_after(app: App, flask: Flask) -> None:
    ids = seed(app)
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    token = editor.csrf()
    path = f"/admin/subscribers/{ids['subscriber_id']}"
    editor.post(path + "/suppress", {"csrf": token, "reason": "asked by phone"})
    refused = editor.post(path + "/unsuppress", {"csrf": token, "consent": "asked again"})
    assert refused.status_code == 400  # the confirmation box was not ticked
    editor.post(path + "/unsuppress", {"csrf": token, "consent": "asked again", "confirm": "yes"})
    with app.engine.connect() as conn:
        entries = audit.recent(conn)
        assert subs.get(conn, ids["subscriber_id"]).status == "active"
    suppress, unsuppress = entries[1], entries[0]
    assert suppress.actor == "ed@example.org" and suppress.action == "subscriber.suppress"
    assert ("status", "active", "unsubscribed") in suppress.changes()
    assert ("status", "unsubscribed", "active") in unsuppress.changes()
    assert ("consent", None, "asked again") in unsuppress.changes()
    page = editor.get("/admin/audit").text
    assert "subscriber.suppress" in page and "ed@example.org" in page
    assert "reason: — → asked by phone" in page  # the audit log shows what was given
    assert "consent: — → asked again" in page


def test_erasure_forgets_the_person_in_the_audit_log_too(app: App, flask: Flask) -> None:
    ids = seed(app)
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    token = editor.csrf()
    path = f"/admin/subscribers/{ids['subscriber_id']}"
    editor.post(path + "/suppress", {"csrf": token, "reason": "Rea Der asked"})
    assert editor.post(path + "/erase", {"csrf": token}).status_code == 400  # not confirmed
    assert editor.post(path + "/erase", {"csrf": token, "confirm": "yes"}).status_code == 200
    assert editor.get(path).status_code == 404
    text = editor.get("/admin/audit").text
    assert "reader@example.org" not in text and "Rea Der" not in text
    assert "subscriber.erase" in text


def test_an_owner_adds_an_operator_who_sets_a_password_and_enables_totp(
    app: App, flask: Flask, clock: FixedClock
) -> None:
    import pyotp

    owner = browser(flask, app, make_operator(app, "o@example.org", "owner"))
    page = owner.post("/admin/operators", {"csrf": owner.csrf(), "email": "new@example.org",
                                           "role": "viewer"})  # fmt: skip
    link = re.search(r"https://news\.example\.org(/admin/setup/[\w-]+)", page.text).group(1)
    newcomer = browser(flask)
    form = newcomer.get(link)
    assert form.status_code == 200 and "new@example.org" in form.text
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    mismatch = newcomer.post(link, {"csrf": token, "password": PASSWORD, "password2": "other"})
    assert mismatch.status_code == 400
    done = newcomer.post(link, {"csrf": token, "password": PASSWORD, "password2": PASSWORD})
    assert "Password set" in done.text
    assert newcomer.get(link).status_code == 400  # the link is spent
    assert newcomer.login("new@example.org").status_code == 303
    account = newcomer.get("/admin/account").text
    secret, mac = pending_totp(account)
    on = newcomer.post("/admin/account/totp", {"csrf": newcomer.csrf(), "secret": secret,
                       "secret_mac": mac, "code": pyotp.TOTP(secret).at(clock.now())})  # fmt: skip
    assert "Second factor on" in on.text
    newcomer.post("/admin/logout", {"csrf": newcomer.csrf()})
    clock.advance(seconds=30)
    assert browser(flask).login("new@example.org").status_code == 401  # no code
    code = pyotp.TOTP(secret).at(clock.now())
    assert browser(flask).login("new@example.org", code=code).status_code == 303


def test_session_lifetime_is_bounded_even_when_active(
    app: App, flask: Flask, clock: FixedClock
) -> None:
    client = browser(flask, app, make_operator(app, "v@example.org", "viewer"))
    hours = app.settings.web.admin_session_hours
    steps = int(timedelta(hours=hours) / timedelta(minutes=20))
    for _ in range(steps - 1):
        clock.advance(minutes=20)
        assert client.get("/admin/").status_code == 200
    clock.advance(minutes=20)
    assert client.get("/admin/").status_code == 303


def test_csv_import_previews_then_applies_with_consent(app: App, flask: Flask) -> None:
    import io

    seed(app)
    editor = browser(flask, app, make_operator(app, "ed@example.org", "editor"))
    token = editor.csrf()
    csv_text = "email,name\nnew@example.org,<b>New</b>\nreader@example.org,\nnot-an-address,\n"
    preview = editor.post(
        "/admin/subscribers/import",
        {"csrf": token, "action": "preview", "file": (io.BytesIO(csv_text.encode()), "s.csv")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200 and "Nothing has changed yet" in preview.text
    assert "1 added" in preview.text and "1 rejected" in preview.text
    assert "<b>New</b>" not in preview.text
    with app.engine.connect() as conn:
        assert subs.find(conn, "new@example.org") is None  # a preview changes nothing
    no_consent = editor.post("/admin/subscribers/import",
                             {"csrf": token, "action": "apply", "csv": csv_text})  # fmt: skip
    assert no_consent.status_code == 400
    applied = editor.post(
        "/admin/subscribers/import",
        {"csrf": token, "action": "apply", "csv": csv_text, "consent": "signed up at the fair"},
    )
    assert applied.status_code == 200 and "These changes were made" in applied.text
    with app.engine.connect() as conn:
        assert subs.find(conn, "new@example.org").status == "active"
        [entry] = [e for e in audit.recent(conn) if e.action == "subscriber.import"]
    assert entry.after["added"] == 1 and entry.after["consent"] == "signed up at the fair"


def test_huge_or_odd_numbers_in_urls_are_4xx_not_500(app: App, flask: Flask) -> None:
    viewer = browser(flask, app, make_operator(app, "v@example.org", "viewer"))
    big = str(2**64)
    for path, status in (
        (f"/admin/subscribers?after={big}", 400),
        ("/admin/subscribers?after=%C2%B2", 400),  # a superscript two: isdigit() says yes
        (f"/admin/audit?before={big}", 400),
        ("/admin/audit?before=-1", 400),
        (f"/admin/subscribers/{big}", 404),
        (f"/admin/editions/{2**63}", 404),
        (f"/admin/articles/{big}", 404),
        (f"/admin/editions/{big}/html", 404),
        ("/admin/subscribers/999999999999999999", 404),  # 18 digits: looked up, not there
    ):
        assert viewer.get(path).status_code == status, path
    assert viewer.get("/admin/audit?before=5").status_code == 200
    assert viewer.get("/admin/subscribers?after=5").status_code == 200


def test_settings_hide_credentials_and_queries_of_every_url() -> None:
    shown = masked(
        {
            "database": {"url": "postgresql+psycopg://app:hunter2@db.example/news?sslkey=/k"},
            "hosts": [{"name": "s3", "endpoint_url": "https://minio.example/?X-Amz-Signature=abc"}],
            "websub": {"hubs": ["https://user:pw@hub.example/publish?key=zzz#frag"]},
            "mail": {"base_url": "https://api.example/v3", "api_key_env": "MAIL_KEY"},
            "site": {"description": "See https://news.example.org?x=1 for more"},
        }
    )
    assert shown["database"]["url"] == "postgresql+psycopg://********@db.example/news?********"
    assert shown["hosts"][0]["endpoint_url"] == "https://minio.example/?********"
    assert shown["websub"]["hubs"] == ["https://********@hub.example/publish?********"]
    assert shown["mail"] == {"base_url": "https://api.example/v3", "api_key_env": "MAIL_KEY"}
    assert shown["site"]["description"] == "See https://news.example.org?x=1 for more"
    text = str(shown)
    assert not any(word in text for word in ("hunter2", "abc", "zzz", "pw@", "sslkey"))


def pending_totp(html: str) -> tuple[str, str]:
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', html).group(1)
    return secret, re.search(r'name="secret_mac" value="([0-9a-f]+)"', html).group(1)


def test_totp_secrets_come_from_this_session_and_bad_input_is_400(
    app: App, flask: Flask, clock: FixedClock
) -> None:
    import pyotp

    operator = make_operator(app, "ed@example.org", "editor")
    victim, other = browser(flask, app, operator), browser(flask, app, operator)
    planted = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    page = victim.get(f"/admin/account?secret={planted}").text
    assert planted not in page  # a link cannot choose the victim's key
    secret, mac = pending_totp(page)
    _, other_mac = pending_totp(other.get("/admin/account").text)
    token = victim.csrf()
    good_code = pyotp.TOTP(secret).at(clock.now())
    for form in (
        {"secret": planted, "code": pyotp.TOTP(planted).at(clock.now())},  # no MAC
        {"secret": secret, "secret_mac": other_mac, "code": good_code},  # another session's
        {"secret": "0189abcd0189abcd", "secret_mac": mac, "code": "123456"},  # not base32
        {"secret": "A" * 65, "secret_mac": mac, "code": "123456"},
        {"secret": secret, "secret_mac": mac, "code": "²²²²²²"},
        {"secret": secret, "secret_mac": mac, "code": "abcdef"},
    ):
        answer = victim.post("/admin/account/totp", {"csrf": token, **form})
        assert answer.status_code == 400, form
    with app.engine.connect() as conn:
        assert not ops.get(conn, operator.id).totp_enabled
    on = victim.post("/admin/account/totp", {"csrf": token, "secret": secret,
                     "secret_mac": mac, "code": good_code})  # fmt: skip
    assert "Second factor on" in on.text


def test_turning_totp_off_needs_the_password_or_a_code(
    app: App, flask: Flask, clock: FixedClock
) -> None:
    import pyotp

    operator = make_operator(app, "ed@example.org", "editor")
    client = browser(flask, app, operator)
    secret, mac = pending_totp(client.get("/admin/account").text)
    client.post("/admin/account/totp", {"csrf": client.csrf(), "secret": secret,
                "secret_mac": mac, "code": pyotp.TOTP(secret).at(clock.now())})  # fmt: skip
    for form in ({}, {"password": "wrong password!"}, {"code": "000000"}):
        answer = client.post("/admin/account/totp/off", {"csrf": client.csrf(), **form})
        assert answer.status_code == 400, form
    with app.engine.connect() as conn:
        assert ops.get(conn, operator.id).totp_enabled
    clock.advance(seconds=30)
    off = client.post("/admin/account/totp/off", {"csrf": client.csrf(),
                      "code": pyotp.TOTP(secret).at(clock.now())})  # fmt: skip
    assert "Second factor off" in off.text
    secret, mac = pending_totp(client.get("/admin/account").text)
    clock.advance(seconds=30)
    client.post("/admin/account/totp", {"csrf": client.csrf(), "secret": secret,
                "secret_mac": mac, "code": pyotp.TOTP(secret).at(clock.now())})  # fmt: skip
    off = client.post("/admin/account/totp/off", {"csrf": client.csrf(), "password": PASSWORD})
    assert "Second factor off" in off.text
    with app.engine.connect() as conn:
        assert not ops.get(conn, operator.id).totp_enabled
